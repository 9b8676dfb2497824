/**
 * SGDT, SIDT, LGDT, LIDT, SLDT, STR, LLDT and LTR (SDM Vol. 2A/2B, December 2023, "SGDT—Store
 * Global Descriptor Table Register", "SIDT—...", "LGDT/LIDT—Load Global/Interrupt Descriptor Table
 * Register", "SLDT—Store Local Descriptor Table Register", "STR—Store Task Register", "LLDT—Load
 * Local Descriptor Table Register", "LTR—Load Task Register"), in order:
 * 1. #UD: SLDT, STR, LLDT and LTR are not recognized in real-address mode and virtual-8086 mode;
 * 2. privilege-based #GP(0), before any VM exit (Vol. 3C §26.1.1 "Relative Priority of Faults and
 *    VM Exits"): LGDT, LIDT, LLDT and LTR at CPL > 0 (virtual-8086 mode included); SGDT, SIDT,
 *    SLDT and STR at CPL > 0 when CR4.UMIP = 1;
 * 3. in VMX non-root operation, the VM exit of "descriptor-table exiting" (§26.1.3): reason 46
 *    for GDTR/IDTR, 47 for LDTR/TR, exit qualification 0 (no displacement, §28.2.1), the
 *    instruction length and the instruction information of §28.2.5
 *    (impl/non-root/system-exit-info.ts);
 * 4. execution, on the guest's registers (the guest-state fields of the current VMCS, where VM
 *    entry loaded them and a VM exit finds them) in VMX non-root operation, on the processor's
 *    own outside it (impl/non-root/hidden-state.ts):
 *    - SGDT/SIDT store the limit and the base (64 bits in 64-bit mode, else 32 bits, the operand
 *      size being 32): the base is the `ok` value; SLDT/STR store the selector, the `ok` value;
 *    - LGDT/LIDT load the limit and the base (bits 31:0 outside 64-bit mode, the high half 0);
 *    - LLDT with a null selector (bits 15:2 zero) makes LDTR unusable, keeping the selector given
 *      (guest: LDTR selector field, access rights 10000H, "unusable"); LTR with a null selector
 *      raises #GP(0); any other selector reads the GDT, which impl/ does not model
 *      (unimplemented).
 */
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { S_CR0_LO, S_CR4_LO, S_VM, S_WIDE } from '../cpu-row.ts';
import { CR0_PE, CR4_UMIP } from './bits.ts';
import type { GuestContext } from './context.ts';
import {
  GDTR_BASE_HI,
  GDTR_BASE_LO,
  GDTR_LIMIT,
  IDTR_BASE_HI,
  IDTR_BASE_LO,
  IDTR_LIMIT,
  readHiddenWord,
  SELECTORS,
  writeHiddenWord,
} from './hidden-state.ts';
import {
  descriptorTableInformationOf,
  descriptorTableLength,
  DT_LGDT,
  DT_LIDT,
  DT_LLDT,
  DT_LTR,
  DT_SGDT,
  DT_SIDT,
  DT_SLDT,
  DT_STR,
} from './system-exit-info.ts';

/** Access rights of an unusable segment register (bit 16). */
const UNUSABLE = 1 << 16;
/** Bits 15:2 of a selector: zero for a null selector. */
const SELECTOR_INDEX_AND_TI = 0xfffc;

/**
 * One descriptor-table instruction (DT_SGDT ... DT_LTR); `register` is gpr + 1 for a register
 * operand (SLDT, STR, LLDT, LTR), 0 for the memory operand; `operand` is the limit (LGDT, LIDT)
 * or the selector (LLDT, LTR); (baseLo, baseHi) the base LGDT/LIDT load. SGDT, SIDT, SLDT and STR
 * leave the value stored in `g.value`.
 */
export function descriptorTable(g: GuestContext, cpu: number, instruction: number, register: number, operand: number, baseLo: number, baseHi: number): number {
  const b = g.hooks.instruction(cpu);
  const s = g.s;
  const ldtrOrTr = instruction >= DT_SLDT;
  if (ldtrOrTr && (((s[b + S_CR0_LO] as number) & CR0_PE) === 0 || s[b + S_VM] === 1)) return g.ud(b);
  const store = instruction === DT_SGDT || instruction === DT_SIDT || instruction === DT_SLDT || instruction === DT_STR;
  if (store ? ((s[b + S_CR4_LO] as number) & CR4_UMIP) !== 0 && g.privileged(b) : g.privileged(b)) return g.gp(b);
  const wide = s[b + S_WIDE] as number;
  const length = descriptorTableLength(instruction, register, wide);
  const nonRoot = g.nonRoot(b);
  if (nonRoot && g.secondary(b, SECONDARY_CONTROL.DESCRIPTOR_TABLE_EXITING)) {
    const reason = ldtrOrTr ? EXIT_REASON.LDTR_TR_ACCESS : EXIT_REASON.GDTR_IDTR_ACCESS;
    return g.informationExit(b, reason, length, descriptorTableInformationOf(instruction, register, wide));
  }
  const w = g.words;
  switch (instruction) {
    case DT_SGDT:
    case DT_SIDT: {
      const gdt = instruction === DT_SGDT;
      if (nonRoot) {
        const field = gdt ? w.GUEST_GDTR_BASE : w.GUEST_IDTR_BASE;
        g.value[0] = g.low(b, field);
        g.value[1] = wide === 1 ? g.high(b, field) : 0;
      } else {
        g.value[0] = readHiddenWord(g.memory, b, gdt ? GDTR_BASE_LO : IDTR_BASE_LO);
        g.value[1] = wide === 1 ? readHiddenWord(g.memory, b, gdt ? GDTR_BASE_HI : IDTR_BASE_HI) : 0;
      }
      break;
    }
    case DT_LGDT:
    case DT_LIDT: {
      const gdt = instruction === DT_LGDT;
      const hi = wide === 1 ? baseHi : 0;
      if (nonRoot) {
        g.setWide(b, gdt ? w.GUEST_GDTR_BASE : w.GUEST_IDTR_BASE, baseLo, hi);
        g.setLow(b, gdt ? w.GUEST_GDTR_LIMIT : w.GUEST_IDTR_LIMIT, operand & 0xffff);
      } else {
        writeHiddenWord(g.memory, b, gdt ? GDTR_BASE_LO : IDTR_BASE_LO, baseLo);
        writeHiddenWord(g.memory, b, gdt ? GDTR_BASE_HI : IDTR_BASE_HI, hi);
        writeHiddenWord(g.memory, b, gdt ? GDTR_LIMIT : IDTR_LIMIT, operand & 0xffff);
      }
      break;
    }
    case DT_SLDT:
    case DT_STR: {
      const ldtr = instruction === DT_SLDT;
      g.value[0] = nonRoot
        ? g.low(b, ldtr ? w.GUEST_LDTR_SELECTOR : w.GUEST_TR_SELECTOR) & 0xffff
        : (readHiddenWord(g.memory, b, SELECTORS) >>> (ldtr ? 0 : 16)) & 0xffff;
      g.value[1] = 0;
      break;
    }
    case DT_LLDT: {
      if ((operand & SELECTOR_INDEX_AND_TI) !== 0) return g.unimplemented('LLDT of a non-null selector (reads the LDT descriptor from the GDT, which impl/ does not model)');
      if (nonRoot) {
        g.setLow(b, w.GUEST_LDTR_SELECTOR, operand & 0xffff);
        g.setLow(b, w.GUEST_LDTR_ACCESS_RIGHTS, UNUSABLE);
      } else {
        const selectors = readHiddenWord(g.memory, b, SELECTORS);
        writeHiddenWord(g.memory, b, SELECTORS, (selectors & ~0xffff) | (operand & 0xffff));
      }
      break;
    }
    case DT_LTR:
      if ((operand & SELECTOR_INDEX_AND_TI) === 0) return g.gp(b);
      return g.unimplemented('LTR of a non-null selector (reads the TSS descriptor from the GDT, which impl/ does not model)');
    default:
      throw new RangeError(`impl bug: descriptor-table instruction ${instruction}`);
  }
  return g.complete(b, length);
}
