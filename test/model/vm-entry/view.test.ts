/**
 * What the VM-entry checks read of the model's state besides the VMCS (model/vm-entry/view.ts):
 * the current-VMCS pointer of the processor entering (for the VMCS link-pointer checks, SDM Vol.
 * 3C §27.3.1.5 "Checks on Guest Non-Register State") and whether it used PAE paging before the
 * entry (for the PDPTE checks, §27.3.1.6: CR0.PG = 1, CR4.PAE = 1 and IA32_EFER.LMA = 0).
 */
import { describe, expect, it } from 'vitest';
import { environmentOf } from '../../../model/vm-entry/view.ts';
import { VMCS_A, withCurrent } from '../helpers.ts';

describe('the check environment of a processor entering', () => {
  it('the processor in its initial 64-bit mode (IA-32e paging, not PAE paging) with its current VMCS', () => {
    const env = environmentOf(withCurrent(), 0);
    expect(env.currentVmcsPointer).toBe(VMCS_A);
    expect(env.paePagingBeforeEntry).toBe(false);
    expect(env.readMemory32(0x100n)).toBe(0);
  });

  it('a processor with LMA = 0, PG and PAE uses PAE paging', () => {
    const state = withCurrent();
    const cpus = state.cpus.map((cpu, n) => (n === 0 ? { ...cpu, eferLma: 0 } : cpu));
    expect(environmentOf({ ...state, cpus }, 0).paePagingBeforeEntry).toBe(true);
  });
});
