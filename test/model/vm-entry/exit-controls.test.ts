/**
 * VM-exit control checks at VM entry. Expected outcomes from SDM Vol. 3C §26.2.1.2 "VM-Exit Control
 * Fields" (2016; December 2023 §27.2.1.2) and §26.2 (checks "may be performed in any order"; a
 * control failure is VMfailValid(7), a host-state failure VMfailValid(8)). The VMCS carries a
 * valid host-state area, so a failing control check allows 7 alone; a host field never written
 * keeps 8 allowed (the unknown host check may be the one a processor reports).
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../../model/index.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import { EXIT_CONTROL, PIN_CONTROL } from '../../../spec/control-bits.ts';
import { expectNotModelled, expectOnly, expectRejected, expectStep, expectUndefined, failValid, maximal, skylake } from '../helpers.ts';
import { CONTROLS_OK, expectCheck, expectPastControlsAndHost, vmcsWith } from './helpers.ts';
import { VALID_HOST_STATE } from './host-state.ts';

const launch = { kind: 'vmlaunch', cpu: 0 } as const;
const bit = (n: number): bigint => 1n << BigInt(n);

/** Skylake's TRUE_EXIT_CTLS must-be-1 bits, with host address-space size (64-bit host). */
const EXIT_OK = 0x36dfbn | bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE);

/** Valid exit controls, and a host-state area that passes the host-state checks (host-state.ts). */
const valid = {
  ...CONTROLS_OK,
  PRIMARY_VM_EXIT_CONTROLS: EXIT_OK,
  PIN_BASED_CONTROLS: 0x16n,
  VM_EXIT_MSR_STORE_COUNT: 0n,
  VM_EXIT_MSR_LOAD_COUNT: 0n,
  ...VALID_HOST_STATE,
} as const;

const failsWith7 = (state: Parameters<typeof expectStep>[0], ruleId: string): void => {
  expectStep(state, launch, failValid(VM_ERROR.ENTRY_INVALID_CONTROLS), ruleId);
};

describe('VM-exit control fields (VMfailValid(7))', () => {
  it('an exit-control field never written leaves the entry undefined', () => {
    expectUndefined(vmcsWith({}), launch, 'vm-entry.field-unknown');
  });

  it('valid exit controls: no modelled check fails, the other groups are not modelled yet', () => {
    expectPastControlsAndHost(vmcsWith(valid), launch);
  });

  it('a control the TRUE MSR reports as must-be-1 (bit 0 of the default1 class, here bit 0) cleared', () => {
    failsWith7(vmcsWith({ ...valid, PRIMARY_VM_EXIT_CONTROLS: EXIT_OK & ~1n }), 'exit-controls.primary-must-be-1');
  });

  it('bit 2 is default1 but may be 0 with TRUE controls (IA32_VMX_TRUE_EXIT_CTLS[2] = 0): not a failure', () => {
    expectPastControlsAndHost(vmcsWith({ ...valid, PRIMARY_VM_EXIT_CONTROLS: EXIT_OK & ~bit(2) }), launch);
  });

  it('a control the MSR does not allow to be 1 (bit 31 on skylake: no secondary VM-exit controls)', () => {
    failsWith7(vmcsWith({ ...valid, PRIMARY_VM_EXIT_CONTROLS: EXIT_OK | bit(31) }), 'exit-controls.primary-allowed-1');
  });

  it('"save VMX-preemption timer value" needs "activate VMX-preemption timer"', () => {
    const saving = EXIT_OK | bit(EXIT_CONTROL.SAVE_VMX_PREEMPTION_TIMER_VALUE);
    failsWith7(vmcsWith({ ...valid, PRIMARY_VM_EXIT_CONTROLS: saving }), 'exit-controls.save-preemption-timer-needs-timer');
    const timer = 0x16n | bit(PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER);
    expectPastControlsAndHost(vmcsWith({ ...valid, PRIMARY_VM_EXIT_CONTROLS: saving, PIN_BASED_CONTROLS: timer }), launch);
  });

  it('secondary VM-exit controls allowed by IA32_VMX_EXIT_CTLS2 (maximal allows none)', () => {
    const profile = maximal();
    const withSecondary = { ...valid, PRIMARY_VM_EXIT_CONTROLS: bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE) | bit(31) };
    failsWith7(vmcsWith({ ...withSecondary, SECONDARY_VM_EXIT_CONTROLS: 1n }, profile), 'exit-controls.secondary-allowed-1');
    expectPastControlsAndHost(vmcsWith({ ...withSecondary, SECONDARY_VM_EXIT_CONTROLS: 0n }, profile), launch);
  });

  describe.each([
    ['store', 'VM_EXIT_MSR_STORE_COUNT', 'VM_EXIT_MSR_STORE_ADDRESS'],
    ['load', 'VM_EXIT_MSR_LOAD_COUNT', 'VM_EXIT_MSR_LOAD_ADDRESS'],
  ] as const)('VM-exit MSR-%s area', (kind, count, address) => {
    it('with count 0 the address is not checked', () => {
      expectPastControlsAndHost(vmcsWith({ ...valid, [count]: 0n, [address]: 0x1001n }), launch);
    });

    it('§27.2.1.2: all three address checks apply only "if the ... count field is non-zero": with count 0 an address beyond the width passes too', () => {
      const unchecked = vmcsWith({ ...valid, [count]: 0n, [address]: bit(46) | 1n });
      expectPastControlsAndHost(unchecked, launch);
      for (const rule of ['aligned', 'width', 'last-byte-width']) expectCheck(unchecked, `exit-controls.msr-${kind}-${rule}`, 'not-applicable');
    });

    it.each([0, 1, 2, 3])('bits 3:0 must be 0: bit %i set fails', (n) => {
      failsWith7(vmcsWith({ ...valid, [count]: 1n, [address]: 0x1000n | bit(n) }), `exit-controls.msr-${kind}-aligned`);
    });

    it('bit 4 set (16-byte aligned) passes', () => {
      expectPastControlsAndHost(vmcsWith({ ...valid, [count]: 1n, [address]: 0x1010n }), launch);
    });

    it('an address with the bit at the physical-address width (46 on skylake) set fails', () => {
      expect(skylake().pointerWidth).toBe(46);
      failsWith7(vmcsWith({ ...valid, [count]: 1n, [address]: bit(46) }), `exit-controls.msr-${kind}-width`);
    });

    it('the last byte of the area must be within the width too: 16 bytes below the limit fit one entry, not two', () => {
      const top = bit(46) - 16n;
      expectPastControlsAndHost(vmcsWith({ ...valid, [count]: 1n, [address]: top }), launch);
      failsWith7(vmcsWith({ ...valid, [count]: 2n, [address]: top }), `exit-controls.msr-${kind}-last-byte-width`);
    });
  });

  it('with a control failure and a valid host-state area, only VMfailValid(7) is allowed: every host-state check passes', () => {
    const state = vmcsWith({ ...valid, PRIMARY_VM_EXIT_CONTROLS: EXIT_OK & ~1n });
    expectOnly(state, launch, failValid(VM_ERROR.ENTRY_INVALID_CONTROLS), 'exit-controls.primary-must-be-1');
    expectRejected(state, launch, failValid(VM_ERROR.ENTRY_INVALID_HOST_STATE));
  });

  it('with a control failure and a host field never written, VMfailValid(8) stays allowed (the unknown host check may be the one reported), and nothing else is', () => {
    const { HOST_CR0: _unwritten, ...withoutCr0 } = valid;
    const state = vmcsWith({ ...withoutCr0, PRIMARY_VM_EXIT_CONTROLS: EXIT_OK & ~1n });
    expectStep(state, launch, failValid(VM_ERROR.ENTRY_INVALID_HOST_STATE), 'vm-entry.any-order');
    expectRejected(state, launch, failValid(VM_ERROR.ENTRY_MOV_SS_BLOCKING));
    const verdict = step(state, launch);
    expect(verdict.kind === 'defined' && verdict.branches.map((b) => b.expected)).toEqual([
      { kind: 'vmfail-valid', error: 7, flags: 0x40 },
      { kind: 'vmfail-valid', error: 8, flags: 0x40 },
    ]);
  });
});
