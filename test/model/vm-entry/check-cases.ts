/**
 * A table form of {@link expectCheck} for the guest-state groups: one `describe` per check (named
 * by its catalogue id and the SDM text the expectations come from), one `it` per case, each
 * named by the behaviour it shows.
 */
import { describe, it } from 'vitest';
import type { CheckResult } from '../../../model/vm-entry/check.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { expectCheck } from './check-helpers.ts';
import type { CheckSetting } from './check-helpers.ts';

/** One case: what it shows, the fields, the outcome the SDM text gives. */
export interface CheckCase {
  says: string;
  fields: Partial<Record<FieldName, bigint>>;
  outcome: CheckResult['kind'];
  setting?: CheckSetting;
}

/** Runs `cases` against rule `id`; `source` names the SDM text (or corroborating code) behind them. */
export function checkCases(id: string, source: string, cases: readonly CheckCase[]): void {
  describe(`${id} (${source})`, () => {
    it.each(cases.map((c) => [c.says, c] as const))('%s', (_says, c) => {
      expectCheck(id, c.fields, c.outcome, c.setting);
    });
  });
}

/** 1 << n as a bigint. */
export const bit = (n: number): bigint => 1n << BigInt(n);
