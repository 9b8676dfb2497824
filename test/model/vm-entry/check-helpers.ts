/**
 * Check-level helpers for the VM-entry tests: evaluate one model rule over chosen field values,
 * without building a whole VMCS through VMWRITEs, and record the rules whose failure a test saw
 * (rule-coverage.test.ts then knows the decision point is tested).
 */
import { expect } from 'vitest';
import type { EntryRule } from '../../../model/vm-entry/check.ts';
import { evaluate } from '../../../model/vm-entry/check.ts';
import { MODEL_ENTRY_RULES } from '../../../model/vm-entry/rules.ts';
import type { FieldName } from '../../../spec/fields.ts';
import type { Profile } from '../../../spec/profile.ts';
import { RULES_HIT, skylake } from '../helpers.ts';

/** The model rule with catalogue id `id`. */
export function entryRule(id: string): EntryRule {
  const found = Object.values(MODEL_ENTRY_RULES)
    .flatMap((rules) => rules ?? [])
    .find((rule) => rule.id === id);
  if (found === undefined) throw new Error(`no model rule ${id}`);
  return found;
}

/** Options of {@link expectCheck}. */
export interface CheckSetting {
  profile?: Profile;
  /** 32-bit words of physical memory, by address; absent words read as 0. */
  memory?: ReadonlyMap<bigint, number>;
}

/**
 * Evaluates rule `id` over `fields` and expects `outcome`. A failure seen is recorded as the rule
 * being reached by a unit test.
 */
export function expectCheck(
  id: string,
  fields: Partial<Record<FieldName, bigint>>,
  outcome: 'pass' | 'fail' | 'not-applicable' | 'undecided' | 'may-fail',
  setting: CheckSetting = {},
): void {
  const view = { get: (field: FieldName) => fields[field] };
  const memory = setting.memory ?? new Map<bigint, number>();
  const env = { profile: setting.profile ?? skylake(), readMemory32: (address: bigint) => memory.get(address) ?? 0 };
  const result = evaluate(entryRule(id), view, env);
  expect(result.kind, `${id} over ${JSON.stringify(fields, (_, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`).toBe(outcome);
  if (result.kind === 'fail') RULES_HIT.add(id);
}
