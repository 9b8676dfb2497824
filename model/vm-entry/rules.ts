/**
 * The model's VM-entry checks, group by group, and the model rules (decision points with their
 * citations) made from the catalogue entries they implement.
 *
 * A group whose catalogue entries are not all implemented here is incomplete: the assessment
 * counts its checks as undecided (they could fail), which keeps every verdict sound while the
 * model grows.
 */
import { ENTRY_CHECKS_BY_GROUP, entryCheckById } from '../../spec/entry-checks/index.ts';
import type { EntryCheck, EntryCheckGroup } from '../../spec/entry-checks/index.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { EntryRule } from './check.ts';
import { ENTRY_CONTROL_RULES } from './checks/entry-controls.ts';
import { EVENT_INJECTION_RULES } from './checks/event-injection.ts';
import { EXECUTION_CONTROL_RULES } from './checks/execution-controls.ts';
import { ADDRESS_SPACE_SIZE_RULES } from './checks/address-space-size.ts';
import { EXIT_CONTROL_RULES } from './checks/exit-controls.ts';
import { HOST_CONTROL_REGISTER_RULES } from './checks/host-control-registers.ts';
import { HOST_SEGMENT_REGISTER_RULES } from './checks/host-segment-registers.ts';
import { GUEST_CONTROL_REGISTER_RULES } from './checks/guest-control-registers.ts';
import { GUEST_DESCRIPTOR_TABLE_RULES } from './checks/guest-descriptor-tables.ts';
import { GUEST_NON_REGISTER_STATE_RULES } from './checks/guest-non-register-state.ts';
import { GUEST_PDPTE_RULES } from './checks/guest-pdptes.ts';
import { GUEST_RIP_RFLAGS_RULES } from './checks/guest-rip-rflags.ts';
import { GUEST_SEGMENT_REGISTER_RULES } from './checks/guest-segment-registers.ts';
import { MSR_LOAD_RULES } from './checks/msr-load.ts';

/** The model's rules for each group it implements, in SDM order. */
export const MODEL_ENTRY_RULES: Readonly<Partial<Record<EntryCheckGroup, readonly EntryRule[]>>> = {
  'execution-controls': EXECUTION_CONTROL_RULES,
  'exit-controls': EXIT_CONTROL_RULES,
  'entry-controls': ENTRY_CONTROL_RULES,
  'event-injection': EVENT_INJECTION_RULES,
  'host-control-registers': HOST_CONTROL_REGISTER_RULES,
  'host-segment-registers': HOST_SEGMENT_REGISTER_RULES,
  'address-space-size': ADDRESS_SPACE_SIZE_RULES,
  'guest-control-registers': GUEST_CONTROL_REGISTER_RULES,
  'guest-descriptor-tables': GUEST_DESCRIPTOR_TABLE_RULES,
  'guest-rip-rflags': GUEST_RIP_RFLAGS_RULES,
  'guest-non-register-state': GUEST_NON_REGISTER_STATE_RULES,
  'guest-pdptes': GUEST_PDPTE_RULES,
  'guest-segment-registers': GUEST_SEGMENT_REGISTER_RULES,
  /** Per entry in checks/msr-load.ts (judged by msr-load.ts); here as checks over the whole area. */
  'msr-load': MSR_LOAD_RULES,
};

/** The catalogue entry a model rule implements; a model bug when there is none. */
export function catalogueEntry(entryRule: EntryRule): EntryCheck {
  const entry = entryCheckById(entryRule.id);
  if (entry === undefined) throw new Error(`model bug: VM-entry rule ${entryRule.id} has no catalogue entry`);
  return entry;
}

/** Catalogue entries of `group` the model does not implement yet. */
export function unimplemented(group: EntryCheckGroup): readonly EntryCheck[] {
  const implemented = new Set((MODEL_ENTRY_RULES[group] ?? []).map((each) => each.id));
  return ENTRY_CHECKS_BY_GROUP[group].filter((entry) => !implemented.has(entry.id));
}

const RULE_OF = new Map<string, Rule>();

/** The model {@link Rule} (decision point) of a catalogue entry: its id, citation and condition. */
export function decisionPoint(entry: EntryCheck): Rule {
  let found = RULE_OF.get(entry.id);
  if (found === undefined) {
    found = rule(entry.id, 'VM entry', entry.citation, entry.condition);
    RULE_OF.set(entry.id, found);
  }
  return found;
}

/** Every implemented check as a decision point, for `RULES`. */
export function implementedDecisionPoints(): Rule[] {
  return Object.values(MODEL_ENTRY_RULES).flatMap((rules) => (rules ?? []).map((each) => decisionPoint(catalogueEntry(each))));
}
