/**
 * IN, OUT, INS and OUTS, in and out of VMX non-root operation.
 *
 * I/O permission (Vol. 2A "IN—Input From Port", Operation): in protected mode with CPL > IOPL, and always in virtual-8086 mode, the TSS I/O
 * permission bitmap decides, and its #GP(0) comes before any VM exit (Vol. 3C §26.1.1 "Relative
 * Priority of Faults and VM Exits"). The model tracks neither IOPL nor the TSS: at CPL 0 (and in
 * real-address mode) the access is always permitted; elsewhere the step is not modelled.
 *
 * Exits (§26.1.3 "Instructions That Cause VM Exits Conditionally"): with "use I/O bitmaps" = 0,
 * "unconditional I/O exiting" decides; with 1 (which makes the other ignored), the access exits
 * when the bit of any port it touches is 1 — bitmap A for ports 0000H-7FFFH, B for 8000H-FFFFH,
 * read from the model's memory at the addresses in the VMCS — or when it wraps past FFFFH. For
 * INS and OUTS these exits come before the segment and alignment faults (§26.1.1).
 *
 * Exit information (§28.2.1 "Basic VM-Exit Information", Table 28-5 "Exit Qualification for I/O
 * Instructions"; §28.2.5 "Information for VM Exits Due to Instruction Execution"): the exit
 * qualification; for INS/OUTS the guest-linear address of the string operand and, when
 * IA32_VMX_BASIC[54] = 1, the VM-exit instruction information: the address size (64-bit in 64-bit
 * mode, 32-bit otherwise: 16-bit code is not modelled) and, for OUTS, the segment (DS), every
 * other bit undefined (`instructionInformationUndefinedMask`).
 *
 * Without an exit: IN and OUT complete (port data is not modelled, the value IN reads is not
 * compared); OUTS completes; INS writes memory at a linear address the model cannot translate,
 * so it is not modelled.
 */
import { sdm } from '../../spec/citation.ts';
import { PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import type { ExitInformation } from '../../spec/exit-information.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import type { IoOp } from '../../spec/guest-operations.ts';
import { operand } from '../input.ts';
import { readByte } from '../memory.ts';
import { in64BitMode } from '../modes.ts';
import { controlField } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, ModelInputError } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { notModelled } from '../verdict.ts';
import { atCplZero, completed, controlBit, controlsUnknown, instructionExit, primaryControls } from './guest.ts';
import { ioQualification, linearAddressQualification } from '../../spec/exit-qualification.ts';
import { ioAccessPorts, ioBitmapPosition } from '../../spec/exit-bitmaps.ts';
import { VMX_BASIC } from '../../spec/capability-msrs.ts';
import { MEMORY_OPERAND_SEGMENT } from '../../spec/instruction-encodings.ts';
import { ADDRESS_SIZE, insOutsInformation } from '../../spec/instruction-information.ts';
import type { MemoryOperand } from '../../spec/instruction-information.ts';

const I = 'I/O instructions';
const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const PRIORITY = sdm('26.1.1', 'Relative Priority of Faults and VM Exits');
const IN_PAGE = sdm('3.3', 'IN—Input From Port', '2A');
const INS_PAGE = sdm('3.3', 'INS/INSB/INSW/INSD—Input from Port to String', '2A');

/** The last I/O port. */
const LAST_PORT = 0xffff;

/** The decision points of the I/O instructions. */
export const IO_RULES = {
  permission: rule('io.permission-not-modelled', I, PRIORITY, 'at CPL > 0 or in virtual-8086 mode IOPL and the TSS I/O permission bitmap decide (#GP before any exit); not tracked, not modelled'),
  unconditional: rule('io.unconditional-exit', I, CONDITIONAL, '"use I/O bitmaps" = 0 and "unconditional I/O exiting" = 1: VM exit (reason 30)'),
  bitmap: rule('io.bitmap-exit', I, CONDITIONAL, '"use I/O bitmaps" = 1 and the bit of a port the access touches is 1 (bitmap A below 8000H, B from it): VM exit (reason 30)'),
  wraps: rule('io.wrap-exit', I, CONDITIONAL, '"use I/O bitmaps" = 1 and the access wraps past port FFFFH: VM exit (reason 30)'),
  ins: rule('io.ins-not-modelled', I, INS_PAGE, 'INS without an exit writes memory at a linear address the model cannot translate; not modelled'),
  ok: rule('io.ok', I, IN_PAGE, 'the I/O access completes (port data not modelled)'),
} as const;

const R = IO_RULES;

/** IN, OUT, INS or OUTS. */
export function io(state: ModelState, op: IoOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  checkIo(op);
  const address = op.address === undefined ? undefined : operand(op.address, 'address', 'io');
  if (!atCplZero(cpu)) return notModelled(R.permission);
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    const stringInfo = op.string === true && address !== undefined ? stringExitInformation(state, op, address, in64BitMode(cpu)) : {};
    const exit = (why: typeof R.bitmap): Verdict => instructionExit(state, c, op, why, EXIT_REASON.IO_INSTRUCTION, ioQualification(op), stringInfo);
    if (controlBit(primary, PRIMARY_CONTROL.USE_IO_BITMAPS)) {
      const access = ioAccessPorts(op.port, op.size);
      if (access.wraps) return exit(R.wraps);
      const bitmapA = controlField(state, c, FIELD.IO_BITMAP_A_ADDRESS);
      const bitmapB = controlField(state, c, FIELD.IO_BITMAP_B_ADDRESS);
      if (bitmapA === undefined || bitmapB === undefined) return controlsUnknown();
      for (const port of access.ports) {
        const position = ioBitmapPosition(port);
        const bitmap = position.bitmap === 'A' ? bitmapA : bitmapB;
        if (((readByte(state, bitmap + BigInt(position.byteOffset)) >> position.bit) & 1) === 1) return exit(R.bitmap);
      }
    } else if (controlBit(primary, PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING)) {
      return exit(R.unconditional);
    }
  }
  if (op.string === true && op.direction === 'in') return notModelled(R.ins);
  return completed(state, c, op, R.ok);
}

/**
 * The exit information of INS/OUTS beyond the qualification: the guest-linear address, and the
 * instruction information where IA32_VMX_BASIC[54] says the processor reports it.
 */
function stringExitInformation(state: ModelState, op: IoOp, address: bigint, in64Bit: boolean): Pick<ExitInformation, 'guestLinearAddress' | 'instructionInformation' | 'instructionInformationUndefinedMask'> {
  const guestLinearAddress = linearAddressQualification(address, in64Bit);
  const reports = ((BigInt(state.profile.data.msrs.IA32_VMX_BASIC) >> BigInt(VMX_BASIC.INS_OUTS_INFORMATION)) & 1n) === 1n;
  if (!reports) return { guestLinearAddress };
  const information = insOutsInformation({
    addressSize: in64Bit ? ADDRESS_SIZE.BITS_64 : ADDRESS_SIZE.BITS_32,
    segment: MEMORY_OPERAND_SEGMENT as MemoryOperand['segment'],
    ins: op.direction === 'in',
  });
  return { guestLinearAddress, instructionInformation: information.value, instructionInformationUndefinedMask: information.undefinedMask };
}

/** The operands of an I/O operation, checked. */
function checkIo(op: IoOp): void {
  if (op.direction !== 'in' && op.direction !== 'out') throw new ModelInputError(`io: direction must be "in" or "out", got ${JSON.stringify(op.direction)}`);
  if (!Number.isInteger(op.port) || op.port < 0 || op.port > LAST_PORT) throw new ModelInputError(`io: port must be an integer from 0 to 0xffff, got ${JSON.stringify(op.port)}`);
  if (op.size !== 1 && op.size !== 2 && op.size !== 4) throw new ModelInputError(`io: size must be 1, 2 or 4 bytes, got ${JSON.stringify(op.size)}`);
  if (op.immediate === true && (op.string === true || op.port > 0xff)) throw new ModelInputError('io: an immediate port is only for IN/OUT (not INS/OUTS) and ports up to 0xff');
  if (op.rep === true && op.string !== true) throw new ModelInputError('io: a REP prefix is only for INS/OUTS (string: true)');
  if (op.string === true && op.address === undefined) throw new ModelInputError('io: INS/OUTS need the linear address of the string operand in address');
}
