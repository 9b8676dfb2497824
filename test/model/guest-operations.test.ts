/**
 * The guest operations of case format 4 before their rules land: the model must say it does not
 * model them (never invent an outcome). Replaced by test/model/non-root/ as the rules are written.
 */
import { describe, it } from 'vitest';
import { expectNotModelled, fresh } from './helpers.ts';

describe('guest operations of case format 4', () => {
  it('are not modelled yet, whatever the processor state', () => {
    expectNotModelled(fresh(), { kind: 'hlt', cpu: 0 }, 'guest-operation.not-modelled');
  });
});
