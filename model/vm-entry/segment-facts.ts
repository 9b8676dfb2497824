/**
 * The terms the checks on the guest segment registers are stated in (SDM Vol. 3C, December 2023,
 * §27.3.1.2 "Checks on Guest Segment Registers"; 2016: §26.3.1.2), and the parts of a guest
 * segment register's fields they test:
 *
 * - the guest "will be virtual-8086" when RFLAGS.VM (bit 17) is 1 in the guest RFLAGS field;
 * - the guest "will be IA-32e mode" when the "IA-32e mode guest" VM-entry control (bit 9) is 1;
 * - a register is "usable" when the unusable bit (bit 16) of its access-rights field is 0;
 * - the "unrestricted guest" VM-execution control (secondary bit 7) is in effect only when
 *   "activate secondary controls" (primary bit 31) is 1: otherwise the processor operates as if
 *   every secondary control were 0 (§25.6.2 "Processor-Based VM-Execution Controls").
 *
 * Access rights (§25.4.1 "Guest Register State", the format of the access-rights fields): type
 * 3:0, S 4, DPL 6:5, P 7, reserved 11:8, AVL 12, L 13, D/B 14, G 15, unusable 16, reserved 31:17.
 *
 * Canonical addresses: the checks say "canonical" without a width. A processor's linear addresses
 * have 48 bits, or 57 on processors that support 5-level paging (Intel "5-Level Paging and 5-Level
 * EPT" white paper, which treats VM entries in §1.2 "Linear-Address Width and VMX Transitions";
 * only its table of contents was readable here). The profile does not record the width, so an
 * address canonical for 57 bits but not for 48 may fail or pass, whichever width (the processor's,
 * or the one the guest's CR4.LA57 selects) a processor checks against.
 */
import { ENTRY_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { bitOf } from '../non-root.ts';
import { unknown } from './check.ts';
import type { Holds } from './check.ts';

/** RFLAGS.VM, bit 17. */
const RFLAGS_VM = 17;
/** CR0.PE, bit 0. */
const CR0_PE = 0;
/** CR4.FRED, bit 32 (flexible return and event delivery). */
const CR4_FRED = 32;

/** The guest will be virtual-8086: RFLAGS.VM = 1 in the guest RFLAGS field. */
export function virtual8086(rflags: bigint): boolean {
  return bitOf(rflags, RFLAGS_VM);
}

/** The guest will be IA-32e mode: the "IA-32e mode guest" VM-entry control is 1. */
export function ia32eModeGuest(entryControls: bigint): boolean {
  return bitOf(entryControls, ENTRY_CONTROL.IA32E_MODE_GUEST);
}

/**
 * "Unrestricted guest" is in effect: primary bit 31 and secondary bit 7 are both 1. The secondary
 * controls are read only when primary bit 31 is 1; when they are needed and unknown, unknown.
 */
export function unrestrictedGuest(primary: bigint, secondary: bigint | undefined): Holds {
  if (!bitOf(primary, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS)) return false;
  if (secondary === undefined) return unknown('SECONDARY_PROCESSOR_BASED_CONTROLS');
  return bitOf(secondary, SECONDARY_CONTROL.UNRESTRICTED_GUEST);
}

/** Not `truth`, keeping unknown and may-fail as they are. */
export function not(truth: Holds): Holds {
  return typeof truth === 'boolean' ? !truth : truth;
}

/** Guest CR0.PE. */
export function protectedMode(cr0: bigint): boolean {
  return bitOf(cr0, CR0_PE);
}

/** Guest CR4.FRED. */
export function fredEnabled(cr4: bigint): boolean {
  return bitOf(cr4, CR4_FRED);
}

/** The RPL of a selector, bits 1:0. */
export function rpl(selector: bigint): bigint {
  return selector & 3n;
}

/** The TI flag of a selector, bit 2. */
export function tableIndicator(selector: bigint): boolean {
  return bitOf(selector, 2);
}

/** The segment type, access-rights bits 3:0. */
export function segmentType(accessRights: bigint): bigint {
  return accessRights & 0xfn;
}

/** The S bit (code or data segment, not system), bit 4. */
export function codeOrData(accessRights: bigint): boolean {
  return bitOf(accessRights, 4);
}

/** The DPL, bits 6:5. */
export function dpl(accessRights: bigint): bigint {
  return (accessRights >> 5n) & 3n;
}

/** The P bit, bit 7. */
export function present(accessRights: bigint): boolean {
  return bitOf(accessRights, 7);
}

/** Reserved bits 11:8 are all 0. */
export function reserved11To8Clear(accessRights: bigint): boolean {
  return ((accessRights >> 8n) & 0xfn) === 0n;
}

/** The L bit (64-bit code segment), bit 13. */
export function longMode(accessRights: bigint): boolean {
  return bitOf(accessRights, 13);
}

/** The D/B bit, bit 14. */
export function defaultBig(accessRights: bigint): boolean {
  return bitOf(accessRights, 14);
}

/** The G bit (granularity), bit 15. */
export function granular(accessRights: bigint): boolean {
  return bitOf(accessRights, 15);
}

/** Usable: the unusable bit, bit 16, is 0. */
export function usable(accessRights: bigint): boolean {
  return !bitOf(accessRights, 16);
}

/** Reserved bits 31:17 are all 0 (the field is 32 bits; higher bits cannot be set). */
export function reserved31To17Clear(accessRights: bigint): boolean {
  return accessRights >> 17n === 0n;
}

/** If any of limit bits 11:0 is 0, G is 0. */
export function granularityMatchesLowLimit(limit: bigint, accessRights: bigint): boolean {
  return (limit & 0xfffn) === 0xfffn || !granular(accessRights);
}

/** If any of limit bits 31:20 is 1, G is 1. */
export function granularityMatchesHighLimit(limit: bigint, accessRights: bigint): boolean {
  return ((limit >> 20n) & 0xfffn) === 0n || granular(accessRights);
}

/** Canonical addresses (48 or 57 bits): the same rule as every other VM-entry check. */
export { canonical } from './linear-addresses.ts';

/** The guest-state fields of each segment register. */
export const GUEST_SEGMENT = {
  CS: { selector: 'GUEST_CS_SELECTOR', base: 'GUEST_CS_BASE', limit: 'GUEST_CS_LIMIT', accessRights: 'GUEST_CS_ACCESS_RIGHTS' },
  SS: { selector: 'GUEST_SS_SELECTOR', base: 'GUEST_SS_BASE', limit: 'GUEST_SS_LIMIT', accessRights: 'GUEST_SS_ACCESS_RIGHTS' },
  DS: { selector: 'GUEST_DS_SELECTOR', base: 'GUEST_DS_BASE', limit: 'GUEST_DS_LIMIT', accessRights: 'GUEST_DS_ACCESS_RIGHTS' },
  ES: { selector: 'GUEST_ES_SELECTOR', base: 'GUEST_ES_BASE', limit: 'GUEST_ES_LIMIT', accessRights: 'GUEST_ES_ACCESS_RIGHTS' },
  FS: { selector: 'GUEST_FS_SELECTOR', base: 'GUEST_FS_BASE', limit: 'GUEST_FS_LIMIT', accessRights: 'GUEST_FS_ACCESS_RIGHTS' },
  GS: { selector: 'GUEST_GS_SELECTOR', base: 'GUEST_GS_BASE', limit: 'GUEST_GS_LIMIT', accessRights: 'GUEST_GS_ACCESS_RIGHTS' },
  TR: { selector: 'GUEST_TR_SELECTOR', base: 'GUEST_TR_BASE', limit: 'GUEST_TR_LIMIT', accessRights: 'GUEST_TR_ACCESS_RIGHTS' },
  LDTR: { selector: 'GUEST_LDTR_SELECTOR', base: 'GUEST_LDTR_BASE', limit: 'GUEST_LDTR_LIMIT', accessRights: 'GUEST_LDTR_ACCESS_RIGHTS' },
} as const;

/** A guest segment register. */
export type SegmentRegister = keyof typeof GUEST_SEGMENT;

/** The code and data segment registers, in the SDM's order. */
export const CODE_AND_DATA = ['CS', 'SS', 'DS', 'ES', 'FS', 'GS'] as const;

/** A code or data segment register. */
export type CodeOrDataRegister = (typeof CODE_AND_DATA)[number];

/** The data segment registers the SDM treats together: DS, ES, FS, GS. */
export const DS_TO_GS = ['DS', 'ES', 'FS', 'GS'] as const;

/** The prefix of a register's catalogue ids: `cs`, `ldtr`. */
export function idOf(reg: SegmentRegister): string {
  return reg.toLowerCase();
}
