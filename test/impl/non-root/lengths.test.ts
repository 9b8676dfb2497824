/**
 * The instruction lengths impl/non-root/ reports agree with the encodings the contract fixes
 * (spec/instruction-encodings.ts) for every form that has its own length.
 */
import { describe, expect, it } from 'vitest';
import { instructionLength } from '../../../spec/instruction-encodings.ts';
import { ioLength, MOV_CR8_LENGTH, MOV_CR_LENGTH, MOV_DR_LENGTH, rex } from '../../../impl/non-root/lengths.ts';

describe('instruction lengths', () => {
  it('I/O: every size, string, REP and immediate form', () => {
    for (const size of [1, 2, 4] as const) {
      for (const [string, rep, immediate] of [[false, false, false], [false, false, true], [true, false, false], [true, true, false]] as const) {
        const op = { kind: 'io', cpu: 0, direction: 'in', port: 0x60, size, string, rep, immediate } as const;
        expect(ioLength(size, string, rep, immediate)).toBe(instructionLength(op, true));
      }
    }
  });

  it('MOV CR and MOV DR with registers 0..15, in and out of 64-bit mode', () => {
    for (const gpr of [0, 7, 8, 15]) {
      for (const wide of [0, 1]) {
        expect(MOV_CR_LENGTH + rex(gpr, wide)).toBe(instructionLength({ kind: 'mov-cr3', cpu: 0, value: '0x0', gpr }, wide === 1));
        expect(MOV_DR_LENGTH + rex(gpr, wide)).toBe(instructionLength({ kind: 'mov-dr', cpu: 0, direction: 'to', dr: 7, gpr }, wide === 1));
      }
    }
    expect(MOV_CR8_LENGTH).toBe(instructionLength({ kind: 'mov-from-cr', cpu: 0, cr: 8, gpr: 0 }, true));
  });
});
