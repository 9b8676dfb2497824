/**
 * The checks on the guest segment registers, SDM Vol. 3C (December 2023) §27.3.1.2 "Checks on
 * Guest Segment Registers" (2016: §26.3.1.2), one rule per catalogue entry of
 * spec/entry-checks/guest-segment-registers.ts, in the catalogue's (the SDM's) order. The SDM lets
 * a processor perform the guest-state checks in any order (§27.3.1 "Checks on the Guest State
 * Area"), so the order here is for the reader. Split in three files by the SDM's own division:
 * selectors, bases and limits; the access rights of CS..GS; TR, LDTR and FRED.
 */
import type { EntryRule } from '../check.ts';
import { GUEST_SEGMENT_ACCESS_RIGHTS_RULES } from './guest-segment-access-rights.ts';
import { GUEST_SEGMENT_SELECTOR_BASE_LIMIT_RULES } from './guest-segment-selectors-bases.ts';
import { GUEST_SEGMENT_SYSTEM_RULES } from './guest-segment-system.ts';

/** The guest segment-register checks, in SDM order. */
export const GUEST_SEGMENT_REGISTER_RULES: readonly EntryRule[] = [
  ...GUEST_SEGMENT_SELECTOR_BASE_LIMIT_RULES,
  ...GUEST_SEGMENT_ACCESS_RIGHTS_RULES,
  ...GUEST_SEGMENT_SYSTEM_RULES,
];
