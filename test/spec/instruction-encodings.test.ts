/**
 * Instruction lengths of the format-5 operations, from their encodings in the Vol. 2 instruction
 * pages (SDM, December 2023): RDRAND 0F C7 /6 and RDSEED 0F C7 /7 (mod = 11b; 66H for 16 bits,
 * REX.W for 64), INVPCID 66 0F 38 82 /r, SGDT/SIDT/LGDT/LIDT 0F 01 /0-/3, SLDT/STR/LLDT/LTR
 * 0F 00 /0-/3, GETSEC 0F 37, XSAVES 0F C7 /5, XRSTORS 0F C7 /3, WBINVD 0F 09, WBNOINVD F3 0F 09.
 */
import { describe, expect, it } from 'vitest';
import { instructionLength } from '../../spec/instruction-encodings.ts';
import type { Operation } from '../../spec/operations.ts';

const cases: [string, Operation, boolean, number][] = [
  ['RDRAND EAX', { kind: 'rdrand', cpu: 0, gpr: 0, size: 32 }, true, 3],
  ['RDRAND AX (66H)', { kind: 'rdrand', cpu: 0, gpr: 0, size: 16 }, true, 4],
  ['RDRAND RAX (REX.W)', { kind: 'rdrand', cpu: 0, gpr: 0, size: 64 }, true, 4],
  ['RDSEED R9D (REX.B)', { kind: 'rdseed', cpu: 0, gpr: 9, size: 32 }, true, 4],
  ['RDSEED EAX outside 64-bit mode, size 64 (no REX)', { kind: 'rdseed', cpu: 0, gpr: 0, size: 64 }, false, 3],
  ['INVPCID RCX, [RBX]', { kind: 'invpcid', cpu: 0, type: '0x0', descriptor: ['0x0', '0x0'] }, true, 5],
  ['INVPCID R10, [RBX] (REX.R)', { kind: 'invpcid', cpu: 0, type: '0x0', descriptor: ['0x0', '0x0'], typeGpr: 10 }, true, 6],
  ['SGDT [RBX]', { kind: 'descriptor-table', cpu: 0, instruction: 'sgdt' }, true, 3],
  ['LLDT R8W (REX.B)', { kind: 'descriptor-table', cpu: 0, instruction: 'lldt', form: 'register', gpr: 8, selector: '0x0' }, true, 4],
  ['LLDT R8W outside 64-bit mode (no REX)', { kind: 'descriptor-table', cpu: 0, instruction: 'lldt', form: 'register', gpr: 8, selector: '0x0' }, false, 3],
  ['GETSEC', { kind: 'getsec', cpu: 0 }, true, 2],
  ['XSAVES [RBX]', { kind: 'xsaves', cpu: 0, mask: '0x0' }, true, 3],
  ['XRSTORS [RBX]', { kind: 'xrstors', cpu: 0, mask: '0x0' }, true, 3],
  ['WBINVD', { kind: 'wbinvd', cpu: 0 }, true, 2],
  ['WBNOINVD (F3H)', { kind: 'wbinvd', cpu: 0, variant: 'wbnoinvd' }, true, 3],
];

describe('instruction lengths of the format-5 operations', () => {
  it.each(cases)('%s is %#', (_name, op, in64, length) => {
    expect(instructionLength(op, in64)).toBe(length);
  });
});
