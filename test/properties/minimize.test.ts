import { describe, expect, it } from 'vitest';
import { MAX_MINIMIZE_TRIES, minimizeOperations } from '../../properties/minimize.ts';
import type { Operation } from '../../spec/operations.ts';

const op = (cpu: number): Operation => ({ kind: 'vmxoff', cpu });

describe('minimizeOperations', () => {
  it('keeps exactly the operations the failure needs, in order', () => {
    const ops = Array.from({ length: 40 }, (_, i) => op(i));
    const needs = (c: readonly Operation[]): boolean => c.some((o) => o.cpu === 7) && c.some((o) => o.cpu === 31);
    const result = minimizeOperations(ops, needs);
    expect(result.operations.map((o) => o.cpu)).toEqual([7, 31]);
    expect(result.removed).toBe(38);
  });

  it('returns the case unchanged when no operation can go', () => {
    const ops = [op(0), op(1)];
    expect(minimizeOperations(ops, (c) => c.length === 2).operations).toEqual(ops);
  });

  it('stops after a bounded number of tries', () => {
    const ops = Array.from({ length: 5000 }, (_, i) => op(i));
    expect(minimizeOperations(ops, () => false).tries).toBeLessThanOrEqual(MAX_MINIMIZE_TRIES);
  });
});
