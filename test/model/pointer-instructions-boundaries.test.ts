/**
 * Mutants of VMPTRLD, VMCLEAR, VMPTRST and MOV to CR0/CR4 the area tests let through (docs/mutation/, README
 * "Mutation testing"), killed by rules of SDM Vol. 3C (December 2023) §31.3 "VMX Instructions":
 * VMPTRLD's Operation section fails with VMfail(11) only when bit 31 of the region's first word
 * (the shadow-VMCS indicator) is 1 and the processor does not support the 1-setting of "VMCS
 * shadowing", so an ordinary region loads on such a processor; and the project rule that bad input
 * gets an error naming the instruction and the operand that is wrong.
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../model/index.ts';
import { core2, enterVmx, fresh, hex, inRoot, layRegion, succeed, expectOnly, VMCS_A } from './helpers.ts';

describe('VMPTRLD of an ordinary VMCS without VMCS shadowing', () => {
  it('succeeds on core2 (no secondary controls) when bit 31 of the first word is 0', () => {
    const state = layRegion(enterVmx(fresh(core2())), VMCS_A);
    expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
  });
});

describe('malformed operands name the instruction and the operand', () => {
  for (const kind of ['vmptrld', 'vmclear'] as const) {
    it(`${kind} with a pointer that is not hexadecimal`, () => {
      const op = { kind, cpu: 0, pointer: 'twelve' } as unknown as Parameters<typeof step>[1];
      expect(() => step(inRoot(), op)).toThrow(new RegExp(`^${kind}: pointer must be a hexadecimal value`));
    });
  }

  for (const kind of ['vmptrld', 'vmclear', 'vmptrst'] as const) {
    it(`${kind} with an operand form that is neither memory nor register`, () => {
      const op = { kind, cpu: 0, pointer: hex(VMCS_A), form: 'immediate' } as unknown as Parameters<typeof step>[1];
      expect(() => step(inRoot(), op)).toThrow(new RegExp(`^${kind}: form must be "memory" or "register"`));
    });
  }

  for (const kind of ['mov-cr0', 'mov-cr4'] as const) {
    it(`${kind} with a value that is not hexadecimal`, () => {
      const op = { kind, cpu: 0, value: '0x1g' } as unknown as Parameters<typeof step>[1];
      expect(() => step(fresh(), op)).toThrow(new RegExp(`^${kind}: value must be a hexadecimal value`));
    });
  }
});
