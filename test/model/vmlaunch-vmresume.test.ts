/**
 * VMLAUNCH/VMRESUME—Launch/Resume Virtual Machine (SDM Vol. 3C, December 2023, §31.3) and
 * §27.1 "Basic VM-Entry Checks". Only the basic checks are modelled; past them the step is
 * not modelled.
 */
import { describe, it } from 'vitest';
import type { ModelState } from '../../model/index.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import {
  CF,
  enterVmx,
  exit,
  expectNotModelled,
  expectUndefined,
  expectOnly,
  failInvalid,
  failValid,
  fresh,
  gp,
  hex,
  inRoot,
  layRegion,
  loadVmcs,
  ok,
  patchCpu,
  succeed,
  ud,
  VMCS_A,
  VMCS_S,
  withCurrent,
} from './helpers.ts';

const launch = { kind: 'vmlaunch', cpu: 0 } as const;
const resume = { kind: 'vmresume', cpu: 0 } as const;

/** The current VMCS of processor 0 with launch state "launched" (VM entry, which sets it, is not modelled). */
function launched(state: ModelState): ModelState {
  const cpu = state.cpus[0];
  const entry = cpu?.active.get(VMCS_A);
  if (cpu === undefined || entry === undefined) throw new Error('no current VMCS_A');
  const active = new Map(cpu.active);
  active.set(VMCS_A, { ...entry, content: { ...entry.content, launch: 'launched' } });
  return patchCpu(state, 0, { active });
}

describe('VMLAUNCH and VMRESUME preamble', () => {
  for (const op of [launch, resume]) {
    it(`${op.kind}: #UD outside VMX operation and in real-address, virtual-8086 and compatibility mode`, () => {
      expectOnly(patchCpu(fresh(), 0, { flags: CF }), op, ud(CF), 'vmentry.ud-outside-vmx');
      expectOnly(patchCpu(withCurrent(), 0, { cr0: 0n }), op, ud(), 'vmentry.ud-real-mode');
      expectOnly(patchCpu(withCurrent(), 0, { rflagsVm: 1 }), op, ud(), 'vmentry.ud-virtual-8086');
      expectOnly(patchCpu(withCurrent(), 0, { csL: 0 }), op, ud(), 'vmentry.ud-compatibility-mode');
    });

    it(`${op.kind}: #GP(0) when CPL > 0`, () => {
      expectOnly(patchCpu(withCurrent(), 0, { cpl: 3 }), op, gp(), 'vmentry.gp-cpl');
    });

    it(`${op.kind}: VMfailInvalid without a current VMCS`, () => {
      expectOnly(inRoot(), op, failInvalid(), 'vmentry.no-current-vmcs');
    });

    it(`${op.kind}: VMfailInvalid when the current VMCS is a shadow VMCS`, () => {
      expectOnly(loadVmcs(inRoot(), VMCS_S, 0, true), op, failInvalid(), 'vmentry.shadow-vmcs');
    });

    it(`${op.kind}: VMfailValid(26) when events are blocked by MOV SS`, () => {
      const blocked = expectOnly(withCurrent(), { kind: 'set', cpu: 0, what: 'mov-ss-blocking', value: 1 }, ok(), 'set.ok');
      const after = expectOnly(blocked, op, failValid(VM_ERROR.ENTRY_MOV_SS_BLOCKING), 'vmentry.mov-ss-blocking');
      expectOnly(after, { kind: 'vmread', cpu: 0, encoding: hex(0x4400) }, succeed(26n), 'vmread.success');
    });
  }

  it('VMLAUNCH causes a VM exit with reason 20 and VMRESUME with reason 24 in VMX non-root operation', () => {
    const guest = patchCpu(withCurrent(), 0, { vmx: 'non-root' });
    expectOnly(guest, launch, exit(EXIT_REASON.VMLAUNCH), 'vmentry.vm-exit');
    expectOnly(guest, resume, exit(EXIT_REASON.VMRESUME), 'vmentry.vm-exit');
  });
});

describe('launch state', () => {
  it('VMLAUNCH with a clear VMCS passes the basic checks: a check reads a field never written, so the outcome is undefined', () => {
    expectUndefined(withCurrent(), launch, 'vm-entry.field-unknown');
  });

  it('VMLAUNCH fails with VMfailValid(4) when the VMCS is launched', () => {
    expectOnly(launched(withCurrent()), launch, failValid(VM_ERROR.VMLAUNCH_NON_CLEAR), 'vmlaunch.launch-state-not-clear');
  });

  it('VMRESUME fails with VMfailValid(5) when the VMCS is clear', () => {
    expectOnly(withCurrent(), resume, failValid(VM_ERROR.VMRESUME_NON_LAUNCHED), 'vmresume.launch-state-not-launched');
  });

  it('VMRESUME with a launched VMCS passes the basic checks: a check reads a field never written, so the outcome is undefined', () => {
    expectUndefined(launched(withCurrent()), resume, 'vm-entry.field-unknown');
  });

  it('is not modelled for a VMCS never VMCLEARed, whose launch state is unknown', () => {
    const state = expectOnly(layRegion(inRoot(), VMCS_A), { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    // VMfailValid(4)/(5) or the entry proceeds; the fields, never written, leave the entry undefined.
    expectUndefined(state, launch, 'vm-entry.field-unknown');
    expectUndefined(state, resume, 'vm-entry.field-unknown');
  });

  it('VMRESUME of a VMCS left active by VMXOFF may fail with 5 or 6 or attempt entry: not modelled', () => {
    let state = expectOnly(launched(withCurrent()), { kind: 'vmxoff', cpu: 0 }, succeed(), 'vmxoff.success');
    state = enterVmx(state, 0);
    state = expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    expectUndefined(state, resume, 'vm-entry.field-unknown');
    expectUndefined(state, launch, 'vm-entry.field-unknown');
  });

  it('VMCLEAR makes the launch state clear again, even for a VMCS left active by VMXOFF', () => {
    let state = expectOnly(launched(withCurrent()), { kind: 'vmxoff', cpu: 0 }, succeed(), 'vmxoff.success');
    state = enterVmx(state, 0);
    state = loadVmcs(state, VMCS_A);
    expectOnly(state, resume, failValid(VM_ERROR.VMRESUME_NON_LAUNCHED), 'vmresume.launch-state-not-launched');
  });
});
