/**
 * VM-entry control checks at VM entry (event injection apart). Expected outcomes from SDM Vol. 3C
 * §26.2.1.3 "VM-Entry Control Fields" (2016; December 2023 §27.2.1.3) and the 2008-era §22.2.1.3
 * (pages 22-7, 22-8) for the MSR-load and SMM bullets; the allowed settings from Appendix A.5 as
 * skylake's IA32_VMX_TRUE_ENTRY_CTLS reports them. A failure is VMfailValid(7).
 */
import { describe, expect, it } from 'vitest';
import { ENTRY_CONTROL } from '../../../spec/control-bits.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import type { ModelState } from '../../../model/index.ts';
import { judgeControlsAndHost } from '../../../model/vm-entry/controls-and-host.ts';
import { viewOf } from '../../../model/vm-entry/view.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import { expectNotModelled, expectStep, failValid, patchCpu, skylake } from '../helpers.ts';
import { CONTROLS_OK, expectCheck, expectPastControlsAndHost, vmcsWith } from './helpers.ts';

const launch = { kind: 'vmlaunch', cpu: 0 } as const;
const bit = (n: number): bigint => 1n << BigInt(n);
const ENTRY_OK = CONTROLS_OK.VM_ENTRY_CONTROLS;

const fails = (state: ModelState, ruleId: string): void => {
  expectStep(state, launch, failValid(VM_ERROR.ENTRY_INVALID_CONTROLS), ruleId);
};
const entryControls = (value: bigint): ModelState => vmcsWith({ ...CONTROLS_OK, VM_ENTRY_CONTROLS: value });

describe('VM-entry control fields (VMfailValid(7))', () => {
  it('skylake\'s must-be-1 entry controls and nothing else: no entry-control check fails', () => {
    expectPastControlsAndHost(entryControls(ENTRY_OK), launch);
  });

  it('bit 0, must-be-1 in IA32_VMX_TRUE_ENTRY_CTLS, cleared fails; bit 2 (default1, 0 in the TRUE MSR) may be 0', () => {
    fails(entryControls(ENTRY_OK & ~1n), 'entry-controls.must-be-1');
    expectCheck(entryControls(ENTRY_OK & ~bit(ENTRY_CONTROL.LOAD_DEBUG_CONTROLS)), 'entry-controls.must-be-1', 'pass');
  });

  it('bit 18 ("load IA32_RTIT_CTL"), not allowed by bits 63:32 on skylake, fails; "IA-32e mode guest" does not', () => {
    fails(entryControls(ENTRY_OK | bit(ENTRY_CONTROL.LOAD_IA32_RTIT_CTL)), 'entry-controls.allowed-1');
    expectCheck(entryControls(ENTRY_OK | bit(ENTRY_CONTROL.IA32E_MODE_GUEST)), 'entry-controls.allowed-1', 'pass');
  });

  describe('VM-entry MSR-load area (count not 0)', () => {
    const msrLoad = (count: bigint, address: bigint): ModelState =>
      vmcsWith({ ...CONTROLS_OK, VM_ENTRY_MSR_LOAD_COUNT: count, VM_ENTRY_MSR_LOAD_ADDRESS: address });

    it('with count 0 the address is not checked', () => {
      expectCheck(msrLoad(0n, 0x1001n), 'entry-controls.msr-load-aligned', 'not-applicable');
    });

    it.each([0, 1, 2, 3])('bits 3:0 must be 0: bit %i set fails', (n) => {
      fails(msrLoad(1n, 0x1000n | bit(n)), 'entry-controls.msr-load-aligned');
    });

    it('§27.2.1.3: every address check applies only "if the VM-entry MSR-load count is not zero": with count 0, a misaligned address beyond the width is not checked', () => {
      const unchecked = msrLoad(0n, bit(46) | 1n);
      for (const rule of ['entry-controls.msr-load-aligned', 'entry-controls.msr-load-width', 'entry-controls.msr-load-last-byte-width']) {
        expectCheck(unchecked, rule, 'not-applicable');
      }
    });

    it('a 16-byte aligned address passes', () => {
      expectCheck(msrLoad(1n, 0x1010n), 'entry-controls.msr-load-aligned', 'pass');
    });

    it('bit 46 (skylake\'s physical-address width) set fails; bit 45 passes', () => {
      expect(skylake().pointerWidth).toBe(46);
      fails(msrLoad(1n, bit(46)), 'entry-controls.msr-load-width');
      expectCheck(msrLoad(1n, bit(45)), 'entry-controls.msr-load-width', 'pass');
    });

    it('the last byte, address + 16 * count - 1, must be within the width: 16 bytes below it fit one entry, not two', () => {
      const top = bit(46) - 16n;
      expectCheck(msrLoad(1n, top), 'entry-controls.msr-load-last-byte-width', 'pass');
      fails(msrLoad(2n, top), 'entry-controls.msr-load-last-byte-width');
    });
  });

  describe('SMM controls (the model\'s processors are not in SMM)', () => {
    it('"entry to SMM" = 1 outside SMM fails; inside SMM it does not', () => {
      const state = entryControls(ENTRY_OK | bit(ENTRY_CONTROL.ENTRY_TO_SMM));
      fails(state, 'entry-controls.entry-to-smm-only-in-smm');
      expectCheck(patchCpu(state, 0, { inSmm: true }), 'entry-controls.entry-to-smm-only-in-smm', 'pass');
    });

    it('"deactivate dual-monitor treatment" = 1 outside SMM fails; inside SMM it does not', () => {
      const state = entryControls(ENTRY_OK | bit(ENTRY_CONTROL.DEACTIVATE_DUAL_MONITOR_TREATMENT));
      fails(state, 'entry-controls.deactivate-dual-monitor-only-in-smm');
      expectCheck(patchCpu(state, 0, { inSmm: true }), 'entry-controls.deactivate-dual-monitor-only-in-smm', 'pass');
    });

    it('the two are not both 1 (in SMM too); either alone passes this check', () => {
      const both = ENTRY_OK | bit(ENTRY_CONTROL.ENTRY_TO_SMM) | bit(ENTRY_CONTROL.DEACTIVATE_DUAL_MONITOR_TREATMENT);
      expectCheck(patchCpu(entryControls(both), 0, { inSmm: true }), 'entry-controls.smm-controls-exclusive', 'fail');
      expectCheck(entryControls(ENTRY_OK | bit(ENTRY_CONTROL.ENTRY_TO_SMM)), 'entry-controls.smm-controls-exclusive', 'pass');
    });

    it('where whether the processor is in SMM is not known (explain), "entry to SMM" = 1 is undecided, never guessed, and the reason names SMM', () => {
      const state = entryControls(ENTRY_OK | bit(ENTRY_CONTROL.ENTRY_TO_SMM));
      const content = currentVmcs(state, 0)?.content;
      if (content === undefined) throw new Error('test bug');
      const { judged } = judgeControlsAndHost(viewOf(content), { profile: state.profile, readMemory32: () => 0 });
      const result = judged.find((each) => each.rule.id === 'entry-controls.entry-to-smm-only-in-smm')?.result;
      expect(result?.kind).toBe('undecided');
      expect(result?.kind === 'undecided' ? result.missing.join(' ') : '').toMatch(/SMM/);
    });

    it('outside SMM with both set, any of the three failing checks may be reported: all give 7', () => {
      const both = ENTRY_OK | bit(ENTRY_CONTROL.ENTRY_TO_SMM) | bit(ENTRY_CONTROL.DEACTIVATE_DUAL_MONITOR_TREATMENT);
      const state = entryControls(both);
      expectCheck(state, 'entry-controls.deactivate-dual-monitor-only-in-smm', 'fail');
      fails(state, 'entry-controls.entry-to-smm-only-in-smm');
    });
  });
});
