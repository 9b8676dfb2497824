/**
 * Profile rules: fixed bits of CR0 and CR4, and the initial processor state.
 *
 * Source: SDM Vol. 3D, December 2023, Appendix A.7 "VMX-Fixed Bits in CR0" and A.8 "VMX-Fixed Bits
 * in CR4"; Vol. 3C §24.8 "Restrictions on VMX Operation". All three rules are problems: each
 * makes the profile contradict itself or the suite unusable (spec/profile-validation.ts).
 */
import { CR4_VMXE, describeMsr } from '../capability-msrs.ts';
import { toHex } from '../hex.ts';
import { initialProcessorState } from '../initial-state.ts';
import { describeBits, them } from './values.ts';
import type { Values } from './values.ts';

/**
 * Problem. A.7, A.8: a bit set in IA32_VMX_CRn_FIXED0 is always set in
 * IA32_VMX_CRn_FIXED1 too; otherwise no CR value is allowed in VMX operation.
 */
export function checkFixedBitsConsistent(v: Values): string[] {
  const problems: string[] = [];
  for (const reg of ['CR0', 'CR4'] as const) {
    const fixed0 = v[`IA32_VMX_${reg}_FIXED0`];
    const fixed1 = v[`IA32_VMX_${reg}_FIXED1`];
    const contradictory = fixed0 & ~fixed1;
    if (contradictory !== 0n) {
      problems.push(
        `${describeMsr(`IA32_VMX_${reg}_FIXED0`)} fixes ${reg} ${describeBits(contradictory)} to 1 but ` +
          `${describeMsr(`IA32_VMX_${reg}_FIXED1`)} fixes ${them(contradictory)} to 0; set ${them(contradictory)} in FIXED1 or clear ${them(contradictory)} in FIXED0`,
      );
    }
  }
  return problems;
}

/** Problem. §24.8, A.8: CR4.VMXE (bit 13) is fixed to 1 in VMX operation. */
export function checkCr4FixedVmxe(v: Values): string[] {
  if ((v.IA32_VMX_CR4_FIXED0 & CR4_VMXE) !== 0n) return [];
  return [
    `${describeMsr('IA32_VMX_CR4_FIXED0')}: bit 13 (CR4.VMXE) is 0, but VMXE is fixed to 1 in VMX operation; set bit 13`,
  ];
}

/**
 * Problem (project rule). The initial processor state (spec/initial-state.ts; CR4.VMXE is set there, and is ORed in here
 * in case that ever changes) must be allowed in VMX operation, or no case could ever execute
 * VMXON successfully.
 */
export function checkInitialStateAllowed(v: Values): string[] {
  const problems: string[] = [];
  const registers = [
    ['CR0', initialProcessorState.cr0, 'the initial CR0'],
    ['CR4', initialProcessorState.cr4 | CR4_VMXE, 'the initial CR4 with VMXE set'],
  ] as const;
  for (const [reg, value, what] of registers) {
    const fixed0 = v[`IA32_VMX_${reg}_FIXED0`];
    const fixed1 = v[`IA32_VMX_${reg}_FIXED1`];
    const missing = fixed0 & ~value;
    const forbidden = value & ~fixed1;
    if (missing !== 0n) {
      problems.push(
        `${describeMsr(`IA32_VMX_${reg}_FIXED0`)} requires ${reg} ${describeBits(missing)} to be 1, but ${what} ` +
          `(${toHex(value)}, spec/initial-state.ts) has ${them(missing)} clear, so VMXON could never succeed from the ` +
          `initial state; clear ${them(missing)} in FIXED0`,
      );
    }
    if (forbidden !== 0n) {
      problems.push(
        `${describeMsr(`IA32_VMX_${reg}_FIXED1`)} forbids ${reg} ${describeBits(forbidden)}, but ${what} ` +
          `(${toHex(value)}, spec/initial-state.ts) sets ${them(forbidden)}, so VMXON could never succeed from the ` +
          `initial state; set ${them(forbidden)} in FIXED1`,
      );
    }
  }
  return problems;
}
