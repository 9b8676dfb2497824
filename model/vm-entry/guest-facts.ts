/**
 * Facts about the guest that the checks on the guest-state area derive from several fields and
 * share (SDM Vol. 3C, December 2023, §27.3.1 "Checks on the Guest State Area"; 2016: §26.3.1):
 *
 * - the guest "will be in IA-32e mode" when the "IA-32e mode guest" VM-entry control (bit 9) is 1
 *   (§25.8.1 "VM-Entry Controls");
 * - "unrestricted guest" is in effect when "activate secondary controls" (primary processor-based
 *   bit 31) and "unrestricted guest" (secondary bit 7) are both 1 (§25.6.2 "Processor-Based
 *   VM-Execution Controls": a secondary control counts as 0 when the secondary controls are not
 *   activated); "enable EPT" (secondary bit 1) likewise;
 * - the guest is a virtual-8086 guest when RFLAGS.VM (bit 17) is 1 (§27.3.1.2 "Checks on Guest
 *   Segment Registers");
 * - the activity state, the interruptibility bits (§25.4.2 "Guest Non-Register State") and the
 *   event being injected (§25.8.3 "VM-Entry Controls for Event Injection").
 *
 * The names of the bits are in spec/guest-state-bits.ts and spec/control-bits.ts.
 */
import { ENTRY_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { INTERRUPTION_INFO } from '../../spec/control-field-formats.ts';
import { ACCESS_RIGHTS, CR0, CR4, INTERRUPTIBILITY, RFLAGS } from '../../spec/guest-state-bits.ts';
import { bitOf } from '../non-root.ts';
import type { CheckEnvironment } from './check.ts';

/** True when the guest will be in IA-32e mode: the "IA-32e mode guest" VM-entry control is 1. */
export function ia32eModeGuest(entryControls: bigint): boolean {
  return bitOf(entryControls, ENTRY_CONTROL.IA32E_MODE_GUEST);
}

/** True when secondary control `bit` is in effect: the secondary controls are activated and the bit is 1. */
export function secondaryControl(primary: bigint, secondary: bigint, bit: number): boolean {
  return bitOf(primary, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) && bitOf(secondary, bit);
}

/** True when "unrestricted guest" is in effect. */
export function unrestrictedGuest(primary: bigint, secondary: bigint): boolean {
  return secondaryControl(primary, secondary, SECONDARY_CONTROL.UNRESTRICTED_GUEST);
}

/** True when "enable EPT" is in effect. */
export function eptEnabled(primary: bigint, secondary: bigint): boolean {
  return secondaryControl(primary, secondary, SECONDARY_CONTROL.ENABLE_EPT);
}

/** True when the guest will be a virtual-8086 guest: RFLAGS.VM is 1. */
export function virtual8086Guest(rflags: bigint): boolean {
  return bitOf(rflags, RFLAGS.VM);
}

/**
 * True when the guest will use PAE paging: CR0.PG = 1, CR4.PAE = 1 and "IA-32e mode guest" = 0
 * (§27.3.1.6 "Checks on Guest Page-Directory-Pointer-Table Entries").
 */
export function paePagingGuest(cr0: bigint, cr4: bigint, entryControls: bigint): boolean {
  return bitOf(cr0, CR0.PG) && bitOf(cr4, CR4.PAE) && !ia32eModeGuest(entryControls);
}

/** The DPL of a segment (bits 6:5 of its access rights); for SS, the guest's CPL. */
export function dplOf(accessRights: bigint): bigint {
  return (accessRights >> BigInt(ACCESS_RIGHTS.DPL)) & 3n;
}

/** True when the CS access rights have L (64-bit code) set. */
export function csLongMode(csAccessRights: bigint): boolean {
  return bitOf(csAccessRights, ACCESS_RIGHTS.L);
}

/** Blocking by STI (interruptibility bit 0). */
export function blockingBySti(interruptibility: bigint): boolean {
  return bitOf(interruptibility, INTERRUPTIBILITY.BLOCKING_BY_STI);
}

/** Blocking by MOV SS (interruptibility bit 1). */
export function blockingByMovSs(interruptibility: bigint): boolean {
  return bitOf(interruptibility, INTERRUPTIBILITY.BLOCKING_BY_MOV_SS);
}

/** Blocking by SMI (interruptibility bit 2). */
export function blockingBySmi(interruptibility: bigint): boolean {
  return bitOf(interruptibility, INTERRUPTIBILITY.BLOCKING_BY_SMI);
}

/** Blocking by NMI (interruptibility bit 3). */
export function blockingByNmi(interruptibility: bigint): boolean {
  return bitOf(interruptibility, INTERRUPTIBILITY.BLOCKING_BY_NMI);
}

/** Enclave interruption (interruptibility bit 4). */
export function enclaveInterruption(interruptibility: bigint): boolean {
  return bitOf(interruptibility, INTERRUPTIBILITY.ENCLAVE_INTERRUPTION);
}

/** The event a VM entry injects, or `undefined` when the valid bit (31) is 0. */
export function injectedEvent(interruptionInfo: bigint): { type: bigint; vector: bigint } | undefined {
  if (!bitOf(interruptionInfo, INTERRUPTION_INFO.VALID)) return undefined;
  return {
    type: (interruptionInfo >> BigInt(INTERRUPTION_INFO.TYPE)) & 0x7n,
    vector: (interruptionInfo >> BigInt(INTERRUPTION_INFO.VECTOR)) & 0xffn,
  };
}

/** True when the entry injects an event of interruption type `type`. */
export function injects(interruptionInfo: bigint, type: bigint): boolean {
  return injectedEvent(interruptionInfo)?.type === type;
}

/** True when the processor entering is in SMM (never, in the model: state.ts assumes no SMM). */
export function inSmm(env: CheckEnvironment): boolean {
  return env.inSmm === true;
}
