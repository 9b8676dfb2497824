/**
 * INVPCID r, m128 (SDM Vol. 2B, December 2023, "INVPCID—Invalidate Process-Context Identifier"),
 * in order:
 * 1. #UD where the processor lacks INVPCID (impl/non-root/system-features.ts) and, in VMX non-root
 *    operation, when "enable INVPCID" is 0 (Vol. 3C §26.3 "Changes to Instruction Behavior in VMX
 *    Non-Root Operation"; with "activate secondary controls" 0 every secondary control counts as
 *    0, §25.6.2);
 * 2. #GP(0) at CPL > 0 and in virtual-8086 mode (the page's virtual-8086 exception is #GP(0), "not
 *    recognized"): faults based on privilege come before VM exits (§26.1.1 "Relative Priority of
 *    Faults and VM Exits");
 * 3. in VMX non-root operation with "enable INVPCID" 1, the VM exit of "INVLPG exiting" (reason
 *    58, §26.3), with exit qualification 0 (no displacement, §28.2.1), the instruction length and
 *    the instruction information "as Used for INVEPT, INVPCID, and INVVPID" (§28.2.5): the
 *    descriptor `[RBX]` and Reg2, the type register;
 * 4. the operand checks, #GP(0): a type above 3 (the register has 64 bits in 64-bit mode, 32
 *    bits otherwise); descriptor bits 63:12 not 0; type 0 or 1 with a nonzero PCID while CR4.PCIDE
 *    = 0 (the description's rule; CR4.PCIDE can be 1 only in IA-32e mode); type 0 with a
 *    non-canonical linear address (all 64 bits are used, even outside 64-bit mode);
 * 5. completion (TLBs are not modelled).
 *
 * Canonical means canonical for 48-bit linear addresses (impl/README.md, "Facts no profile
 * describes").
 */
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { S_CR4_LO, S_WIDE } from '../cpu-row.ts';
import { CR4_PCIDE } from './bits.ts';
import type { GuestContext } from './context.ts';
import { invpcidInformation, invpcidLength } from './system-exit-info.ts';

/** Bits 11:0 of the descriptor: the PCID; 63:12 reserved. */
const PCID_MASK = 0xfff;

/**
 * INVPCID with the type (typeLo, typeHi) in register `typeGpr` and the descriptor (d0: bits 63:0,
 * d1: bits 127:64, each as lo/hi halves).
 */
export function invpcid(
  g: GuestContext,
  cpu: number,
  typeGpr: number,
  typeLo: number,
  typeHi: number,
  d0Lo: number,
  d0Hi: number,
  d1Lo: number,
  d1Hi: number,
): number {
  const b = g.hooks.instruction(cpu);
  const nonRoot = g.nonRoot(b);
  if (!g.features.invpcid) return g.ud(b);
  if (nonRoot && !g.secondary(b, SECONDARY_CONTROL.ENABLE_INVPCID)) return g.ud(b);
  if (g.privileged(b)) return g.gp(b);
  const wide = g.s[b + S_WIDE] as number;
  if (nonRoot && g.primary(b, PRIMARY_CONTROL.INVLPG_EXITING)) {
    return g.informationExit(b, EXIT_REASON.INVPCID, invpcidLength(typeGpr, wide), invpcidInformation(typeGpr, wide));
  }
  if ((wide === 1 && typeHi !== 0) || typeLo >>> 0 > 3) return g.gp(b);
  if ((d0Lo & ~PCID_MASK) !== 0 || d0Hi !== 0) return g.gp(b);
  if (typeLo <= 1 && (d0Lo & PCID_MASK) !== 0 && ((g.s[b + S_CR4_LO] as number) & CR4_PCIDE) === 0) return g.gp(b);
  if (typeLo === 0 && d1Hi >> 15 !== d1Hi >> 31) return g.gp(b);
  return g.complete(b, invpcidLength(typeGpr, wide));
}
