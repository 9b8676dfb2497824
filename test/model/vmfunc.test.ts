/** VMFUNC—Invoke VM function (SDM Vol. 3C, December 2023, §31.3 and §26.5.6 "VM Functions"). */
import { describe, it } from 'vitest';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { exit, expectNotModelled, expectOnly, fresh, hex, inRoot, ud } from './helpers.ts';
import { ACTIVATE_SECONDARY, guest, VM_FUNCTIONS } from './non-root-setup.ts';

const vmfunc = (eax: bigint, ecx = 0n) => ({ kind: 'vmfunc', cpu: 0, eax: hex(eax), ecx: hex(ecx) }) as const;

describe('VMFUNC', () => {
  it('raises #UD outside VMX non-root operation', () => {
    expectOnly(fresh(), vmfunc(0n), ud(), 'vmfunc.ud-outside-non-root');
    expectOnly(inRoot(), vmfunc(0n), ud(), 'vmfunc.ud-outside-non-root');
  });

  it('raises #UD when "enable VM functions" is 0 or secondary controls are not activated', () => {
    expectOnly(guest({ primary: ACTIVATE_SECONDARY, secondary: 0n }), vmfunc(0n), ud(), 'vmfunc.ud-vm-functions-disabled');
    expectOnly(guest({ primary: 0n, secondary: VM_FUNCTIONS }), vmfunc(0n), ud(), 'vmfunc.ud-vm-functions-disabled');
  });

  it('raises #UD when EAX is 64 or more (only EAX counts, not RAX)', () => {
    const state = guest({ primary: ACTIVATE_SECONDARY, secondary: VM_FUNCTIONS, vmFunctions: 3n });
    expectOnly(state, vmfunc(64n), ud(), 'vmfunc.ud-eax-above-63');
    expectNotModelled(state, vmfunc((1n << 32n) | 1n), 'vmfunc.function-not-modelled');
  });

  it('causes a VM exit (reason 59) when the function is not enabled in the VM-function controls', () => {
    const state = guest({ primary: ACTIVATE_SECONDARY, secondary: VM_FUNCTIONS, vmFunctions: 1n });
    expectOnly(state, vmfunc(1n), exit(EXIT_REASON.VMFUNC), 'vmfunc.vm-exit-function-disabled');
    expectOnly(state, vmfunc(63n), exit(EXIT_REASON.VMFUNC), 'vmfunc.vm-exit-function-disabled');
  });

  it('does not model an enabled function other than EPTP switching (function 0; test/model/non-root/vmx-instructions-vmfunc.test.ts)', () => {
    const state = guest({ primary: ACTIVATE_SECONDARY, secondary: VM_FUNCTIONS, vmFunctions: 1n << 5n });
    expectNotModelled(state, vmfunc(5n), 'vmfunc.function-not-modelled');
  });

  it('is not modelled when the controls it depends on are unknown', () => {
    expectNotModelled(guest({}), vmfunc(0n), 'non-root.controls-unknown');
    expectNotModelled(guest({ primary: ACTIVATE_SECONDARY, secondary: VM_FUNCTIONS }), vmfunc(0n), 'non-root.controls-unknown');
  });
});
