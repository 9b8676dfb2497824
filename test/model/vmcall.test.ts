/** VMCALL—Call to VM Monitor (SDM Vol. 3C, December 2023, §31.3). */
import { describe, it } from 'vitest';
import type { ModelState } from '../../model/index.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import {
  exit,
  expectNotModelled,
  expectOnly,
  failInvalid,
  failValid,
  fresh,
  gp,
  hex,
  inRoot,
  layRegion,
  patchCpu,
  skylake,
  succeed,
  ud,
  VMCS_A,
  withCurrent,
} from './helpers.ts';

const vmcall = { kind: 'vmcall', cpu: 0 } as const;
const E1 = failValid(VM_ERROR.VMCALL_IN_VMX_ROOT);

/** IA32_SMM_MONITOR_CTL with its valid bit set (no operation does this; the tests set it directly). */
const monitorValid = (state: ModelState) => patchCpu(state, 0, { smmMonitorCtl: 1n });

describe('VMCALL', () => {
  it('raises #UD outside VMX operation', () => {
    expectOnly(fresh(), vmcall, ud(), 'vmcall.ud-outside-vmx');
  });

  it('causes a VM exit in VMX non-root operation, even in compatibility or virtual-8086 mode', () => {
    const guest = patchCpu(withCurrent(), 0, { vmx: 'non-root' });
    expectOnly(guest, vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expectOnly(patchCpu(guest, 0, { csL: 0 }), vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expectOnly(patchCpu(guest, 0, { rflagsVm: 1, cpl: 3 }), vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
  });

  it('raises #UD in VMX root operation in virtual-8086 or compatibility mode', () => {
    expectOnly(patchCpu(inRoot(), 0, { rflagsVm: 1 }), vmcall, ud(), 'vmcall.ud-virtual-8086');
    expectOnly(patchCpu(inRoot(), 0, { csL: 0 }), vmcall, ud(), 'vmcall.ud-compatibility-mode');
  });

  it('raises #GP(0) in VMX root operation when CPL > 0', () => {
    expectOnly(patchCpu(inRoot(), 0, { cpl: 3 }), vmcall, gp(), 'vmcall.gp-cpl');
  });

  it('fails with VMfail(1) in SMM', () => {
    expectOnly(monitorValid(patchCpu(withCurrent(), 0, { inSmm: true })), vmcall, E1, 'vmcall.in-smm');
  });

  it('fails with VMfail(1) when the processor lacks the dual-monitor treatment', () => {
    const profile = { ...skylake(), dualMonitor: false };
    expectOnly(monitorValid(withCurrent(profile)), vmcall, E1, 'vmcall.dual-monitor-unsupported');
  });

  it('fails with VMfail(1) while IA32_SMM_MONITOR_CTL is 0, as it always is here: VMfailInvalid without a current VMCS', () => {
    expectOnly(inRoot(), vmcall, failInvalid(), 'vmcall.smm-monitor-ctl-invalid');
    const after = expectOnly(withCurrent(), vmcall, E1, 'vmcall.smm-monitor-ctl-invalid');
    expectOnly(after, { kind: 'vmread', cpu: 0, encoding: hex(0x4400) }, succeed(1n), 'vmread.success');
  });

  it('with a valid SMM monitor: SMM VM exit under the dual-monitor treatment, not modelled', () => {
    expectNotModelled(monitorValid(patchCpu(withCurrent(), 0, { dualMonitorActive: true })), vmcall, 'vmcall.smm-vm-exit');
  });

  it('with a valid SMM monitor: VMfailInvalid without a current VMCS', () => {
    expectOnly(monitorValid(inRoot()), vmcall, failInvalid(), 'vmcall.no-current-vmcs');
  });

  it('with a valid SMM monitor: VMfailValid(19) when the current VMCS is launched', () => {
    const state = monitorValid(withCurrent());
    const cpu = state.cpus[0];
    const entry = cpu?.active.get(VMCS_A);
    if (cpu === undefined || entry === undefined) throw new Error('no current VMCS');
    const active = new Map(cpu.active);
    active.set(VMCS_A, { ...entry, content: { ...entry.content, launch: 'launched' } });
    expectOnly(patchCpu(state, 0, { active }), vmcall, failValid(VM_ERROR.VMCALL_NON_CLEAR_VMCS), 'vmcall.launch-state-not-clear');
  });

  it('with a valid SMM monitor: not modelled when the launch state is unknown', () => {
    const state = expectOnly(layRegion(inRoot(), VMCS_A), { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    expectNotModelled(monitorValid(state), vmcall, 'vmcall.launch-state-unknown');
  });

  it('with a valid SMM monitor and a clear VMCS: the activation of the dual-monitor treatment is not modelled', () => {
    expectNotModelled(monitorValid(withCurrent()), vmcall, 'vmcall.activate-dual-monitor');
  });
});
