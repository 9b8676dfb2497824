/**
 * XSAVES and XRSTORS (SDM Vol. 2D, December 2023, "XSAVES—Save Processor Extended States
 * Supervisor", "XRSTORS—Restore Processor Extended States Supervisor"; Vol. 1 §13.11, §13.12), in
 * order:
 * 1. #UD where the processor lacks them (impl/non-root/system-features.ts), when CR4.OSXSAVE = 0,
 *    and in VMX non-root operation when "enable XSAVES/XRSTORS" is 0 (Vol. 3C §26.3 "Changes to
 *    Instruction Behavior in VMX Non-Root Operation");
 * 2. #GP(0) at CPL > 0 (virtual-8086 mode included), a fault based on privilege, before any VM
 *    exit (§26.1.1 "Relative Priority of Faults and VM Exits");
 * 3. in VMX non-root operation, a VM exit (XSAVES 63, XRSTORS 64) when any bit is set in the AND
 *    of EDX:EAX, IA32_XSS and the XSS-exiting bitmap (§26.1.3, §26.3), with exit qualification 0
 *    (no displacement, §28.2.1), the instruction length and the instruction information "as Used
 *    for VMCLEAR, VMPTRLD, VMPTRST, VMXON, XRSTORS, and XSAVES" (§28.2.5);
 * 4. #NM when CR0.TS = 1: not one of the exceptions §26.1.1 puts before VM exits, so it comes
 *    after the exit;
 * 5. completion: the contract leaves the XSAVE area out (the operand is given by no address, so
 *    the alignment and header checks cannot apply): `ok`.
 *
 * IA32_XSS is kept in impl/non-root/hidden-state.ts (0 after reset; WRMSR writes it,
 * impl/non-root/msr.ts).
 */
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { S_CR0_LO, S_CR4_LO, S_WIDE } from '../cpu-row.ts';
import { CR0_TS, CR4_OSXSAVE } from './bits.ts';
import { TYPE_HARDWARE_EXCEPTION, type GuestContext } from './context.ts';
import { readHiddenWord, XSS_HI, XSS_LO } from './hidden-state.ts';
import { xsavesInformation, XSAVES_LENGTH } from './system-exit-info.ts';

const VECTOR_NM = 7;

/** XSAVES (`restore` false) or XRSTORS (`restore` true) with EDX:EAX = (maskHi, maskLo). */
export function xsaves(g: GuestContext, cpu: number, restore: boolean, maskLo: number, maskHi: number): number {
  const b = g.hooks.instruction(cpu);
  const s = g.s;
  const nonRoot = g.nonRoot(b);
  if (!g.features.xsaves || ((s[b + S_CR4_LO] as number) & CR4_OSXSAVE) === 0) return g.ud(b);
  if (nonRoot && !g.secondary(b, SECONDARY_CONTROL.ENABLE_XSAVES_XRSTORS)) return g.ud(b);
  if (g.privileged(b)) return g.gp(b);
  if (nonRoot) {
    const bitmap = g.words.XSS_EXITING_BITMAP;
    const xssLo = readHiddenWord(g.memory, b, XSS_LO);
    const xssHi = readHiddenWord(g.memory, b, XSS_HI);
    if (((maskLo & xssLo & g.low(b, bitmap)) | (maskHi & xssHi & g.high(b, bitmap))) !== 0) {
      return g.informationExit(b, restore ? EXIT_REASON.XRSTORS : EXIT_REASON.XSAVES, XSAVES_LENGTH, xsavesInformation(s[b + S_WIDE] as number));
    }
  }
  if (((s[b + S_CR0_LO] as number) & CR0_TS) !== 0) return g.raise(b, VECTOR_NM, TYPE_HARDWARE_EXCEPTION, false, 0, 0, 0, 0, true);
  return g.complete(b, XSAVES_LENGTH);
}
