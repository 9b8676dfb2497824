/**
 * The VM-entry check catalogue: every check of SDM Vol. 3C "VM Entries", one file per group, in
 * the order the SDM performs them. `vmx-conformance spec checks` prints it.
 */
import { ADDRESS_SPACE_SIZE_CHECKS } from './address-space-size.ts';
import { BASIC_CHECKS } from './basic.ts';
import { ENTRY_CONTROLS_CHECKS } from './entry-controls.ts';
import { EVENT_INJECTION_CHECKS } from './event-injection.ts';
import { EXECUTION_CONTROLS_CHECKS } from './execution-controls.ts';
import { EXIT_CONTROLS_CHECKS } from './exit-controls.ts';
import { HOST_CONTROL_REGISTERS_CHECKS } from './host-control-registers.ts';
import { GUEST_CONTROL_REGISTERS_CHECKS } from './guest-control-registers.ts';
import { GUEST_DESCRIPTOR_TABLES_CHECKS } from './guest-descriptor-tables.ts';
import { GUEST_NON_REGISTER_STATE_CHECKS } from './guest-non-register-state.ts';
import { GUEST_PDPTES_CHECKS } from './guest-pdptes.ts';
import { GUEST_RIP_RFLAGS_CHECKS } from './guest-rip-rflags.ts';
import { GUEST_SEGMENT_REGISTERS_CHECKS } from './guest-segment-registers.ts';
import { HOST_SEGMENT_REGISTERS_CHECKS } from './host-segment-registers.ts';
import { MSR_LOAD_CHECKS } from './msr-load.ts';
import type { EntryCheck, EntryCheckGroup } from './types.ts';

export type { EntryCheck, EntryCheckConsequence, EntryCheckGroup, GuestStateQualification, Verification } from './types.ts';
export { ENTRY_CHECK_GROUPS } from './types.ts';

/** The checks of each group, in SDM order. */
export const ENTRY_CHECKS_BY_GROUP: Readonly<Record<EntryCheckGroup, readonly EntryCheck[]>> = {
  basic: BASIC_CHECKS,
  'execution-controls': EXECUTION_CONTROLS_CHECKS,
  'exit-controls': EXIT_CONTROLS_CHECKS,
  'entry-controls': ENTRY_CONTROLS_CHECKS,
  'event-injection': EVENT_INJECTION_CHECKS,
  'host-control-registers': HOST_CONTROL_REGISTERS_CHECKS,
  'host-segment-registers': HOST_SEGMENT_REGISTERS_CHECKS,
  'address-space-size': ADDRESS_SPACE_SIZE_CHECKS,
  'guest-control-registers': GUEST_CONTROL_REGISTERS_CHECKS,
  'guest-segment-registers': GUEST_SEGMENT_REGISTERS_CHECKS,
  'guest-descriptor-tables': GUEST_DESCRIPTOR_TABLES_CHECKS,
  'guest-rip-rflags': GUEST_RIP_RFLAGS_CHECKS,
  'guest-non-register-state': GUEST_NON_REGISTER_STATE_CHECKS,
  'guest-pdptes': GUEST_PDPTES_CHECKS,
  'msr-load': MSR_LOAD_CHECKS,
};

/** Every check, group by group in SDM order. */
export const ENTRY_CHECKS: readonly EntryCheck[] = Object.values(ENTRY_CHECKS_BY_GROUP).flat();

const BY_ID = new Map(ENTRY_CHECKS.map((each) => [each.id, each]));

/** The check with this id, if the catalogue has one. */
export function entryCheckById(id: string): EntryCheck | undefined {
  return BY_ID.get(id);
}
