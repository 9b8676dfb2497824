/**
 * IN, OUT, INS and OUTS (SDM Vol. 2A/2B, December 2023, "IN—Input From Port", "OUT—Output to
 * Port", "INS/INSB/INSW/INSD", "OUTS/OUTSB/OUTSW/OUTSD") and their VM exits.
 *
 * Protected mode with CPL <= IOPL executes them; in virtual-8086 mode or with CPL > IOPL the I/O
 * permission bitmap in the TSS decides, and its #GP(0) precedes a VM exit (Vol. 3C §26.1.1
 * "Relative Priority of Faults and VM Exits"). impl/ does not model the TSS, so that case is
 * unimplemented. IOPL is 0 outside VMX non-root operation (nothing sets it) and bits 13:12 of the
 * guest RFLAGS field in it.
 *
 * In VMX non-root operation (§26.1.3 "Instructions That Cause VM Exits Conditionally"): with "use
 * I/O bitmaps" = 0, a VM exit when "unconditional I/O exiting" is 1; with it 1, a VM exit when the
 * bit of any port the access touches is set (bitmap A for 0000H-7FFFH, B for 8000H-FFFFH, §25.6.4
 * "I/O-Bitmap Addresses"), or when the access wraps past FFFFH. Exit reason 30 with the exit
 * qualification of Table 28-5, the guest-linear address of the string operand for INS/OUTS
 * (§28.2.1), and, when IA32_VMX_BASIC[54] = 1, the instruction information of Table 28-8 (address
 * size; segment register: ES for INS, whose operand is always ES:rDI, DS for OUTS).
 */
import { VMX_BASIC } from '../../spec/capability-msrs.ts';
import { PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import { IO_BITMAP_B_FIRST_PORT } from '../../spec/exit-bitmaps.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { ADDRESS_SIZE } from '../../spec/instruction-information.ts';
import { MEMORY_OPERAND_SEGMENT, SEGMENT_REGISTER } from '../../spec/instruction-encodings.ts';
import { S_VM, S_WIDE } from '../cpu-row.ts';
import { EXIT_INFO_INSTRUCTION_INFORMATION, EXIT_INFO_INSTRUCTION_LENGTH, EXIT_INFO_LINEAR_ADDRESS } from '../vm-exit/exit-info.ts';
import { INFO_ADDRESS_SIZE_SHIFT, INFO_SEGMENT_SHIFT, IO_IMMEDIATE, IO_IN, IO_PORT_SHIFT, IO_REP, IO_STRING } from './bits.ts';
import type { GuestContext } from './context.ts';
import { ioLength } from './lengths.ts';

/** Flags of an I/O operation as the compiled record carries them (the same bits as the qualification). */
export const IO_FLAG_IN = IO_IN;
export const IO_FLAG_STRING = IO_STRING;
export const IO_FLAG_REP = IO_REP;
export const IO_FLAG_IMMEDIATE = IO_IMMEDIATE;

const RFLAGS_IOPL_SHIFT = 12;
const FIRST_PORT_OF_B = IO_BITMAP_B_FIRST_PORT;
const PORTS = 2 * IO_BITMAP_B_FIRST_PORT;

const insOutsInformation = new WeakMap<object, boolean>();

/** IA32_VMX_BASIC[54] of the context's profile. */
function reportsInstructionInformation(g: GuestContext): boolean {
  let reports = insOutsInformation.get(g.profile);
  if (reports === undefined) {
    reports = ((BigInt(g.profile.data.msrs.IA32_VMX_BASIC) >> BigInt(VMX_BASIC.INS_OUTS_INFORMATION)) & 1n) === 1n;
    insOutsInformation.set(g.profile, reports);
  }
  return reports;
}

/** In VMX non-root operation, the access of `size` bytes at `port` causes a VM exit. */
function ioExits(g: GuestContext, b: number, port: number, size: number): boolean {
  if (!g.primary(b, PRIMARY_CONTROL.USE_IO_BITMAPS)) return g.primary(b, PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING);
  if (port + size > PORTS) return true;
  const w = g.words;
  for (let p = port; p < port + size; p++) {
    const word = p < FIRST_PORT_OF_B ? w.IO_BITMAP_A_ADDRESS : w.IO_BITMAP_B_ADDRESS;
    const index = p & (FIRST_PORT_OF_B - 1);
    const bits = g.memory.read32((g.low(b, word) & ~0xfff) + ((index >>> 5) << 2), g.high(b, word));
    if (((bits >>> (index & 31)) & 1) === 1) return true;
  }
  return false;
}

/**
 * An I/O instruction: `flags` of IO_FLAG_*, `port` 0..FFFFH, `size` 1, 2 or 4 bytes, and for the
 * string forms the linear address of the memory operand.
 */
export function io(g: GuestContext, cpu: number, flags: number, port: number, size: number, addressLo: number, addressHi: number): number {
  const b = g.hooks.instruction(cpu);
  const s = g.s;
  const nonRoot = g.nonRoot(b);
  const iopl = nonRoot ? (g.low(b, g.words.GUEST_RFLAGS) >>> RFLAGS_IOPL_SHIFT) & 3 : 0;
  // In real-address mode every I/O access is permitted (no IOPL check; privilegeLevel is 0 there).
  if (s[b + S_VM] === 1 || g.privilegeLevel(b) > iopl) {
    return g.unimplemented('I/O at CPL > IOPL or in virtual-8086 mode (the I/O permission bitmap in the TSS decides)');
  }
  const string = (flags & IO_FLAG_STRING) !== 0;
  const length = ioLength(size, string, (flags & IO_FLAG_REP) !== 0, (flags & IO_FLAG_IMMEDIATE) !== 0);
  if (nonRoot && ioExits(g, b, port, size)) {
    const info = g.beginExit((size - 1) | flags | (port << IO_PORT_SHIFT), 0, length);
    info.defined |= EXIT_INFO_INSTRUCTION_LENGTH;
    if (string) {
      const wide = s[b + S_WIDE] === 1;
      info.linearLo = addressLo;
      info.linearHi = wide ? addressHi : 0;
      info.defined |= EXIT_INFO_LINEAR_ADDRESS;
      if (reportsInstructionInformation(g)) {
        const segment = (flags & IO_FLAG_IN) !== 0 ? SEGMENT_REGISTER.ES : MEMORY_OPERAND_SEGMENT;
        info.instructionInformation = ((wide ? ADDRESS_SIZE.BITS_64 : ADDRESS_SIZE.BITS_32) << INFO_ADDRESS_SIZE_SHIFT) | (segment << INFO_SEGMENT_SHIFT);
        info.defined |= EXIT_INFO_INSTRUCTION_INFORMATION;
      }
    }
    return g.hooks.vmExit(b, EXIT_REASON.IO_INSTRUCTION);
  }
  return g.complete(b, length);
}
