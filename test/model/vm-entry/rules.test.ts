/**
 * The model's VM-entry rules and the catalogue (spec/entry-checks/): a group the model implements
 * has exactly the catalogue's checks, by id, in the catalogue's (SDM) order.
 */
import { describe, expect, it } from 'vitest';
import { ENTRY_CHECK_GROUPS, ENTRY_CHECKS_BY_GROUP } from '../../../spec/entry-checks/index.ts';
import { MODEL_ENTRY_RULES, unimplemented } from '../../../model/vm-entry/rules.ts';

describe('the model implements the catalogue', () => {
  it.each(ENTRY_CHECK_GROUPS.filter((group) => group !== 'basic'))('%s: every check, in SDM order', (group) => {
    expect((MODEL_ENTRY_RULES[group] ?? []).map((rule) => rule.id)).toEqual(ENTRY_CHECKS_BY_GROUP[group].map((entry) => entry.id));
    expect(unimplemented(group)).toEqual([]);
  });
});
