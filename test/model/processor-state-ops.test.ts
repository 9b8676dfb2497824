/**
 * The processor-state operations besides MOV to CR0/CR4 (mov-cr0.test.ts, mov-cr4.test.ts):
 * WRMSR to IA32_FEATURE_CONTROL (SDM Vol. 3C, December 2023, §24.7 "Enabling and Entering VMX
 * Operation"), `set` and memory stores.
 */
import { describe, expect, it } from 'vitest';
import { ModelInputError, step } from '../../model/index.ts';
import type { ModelState } from '../../model/index.ts';
import {
  CF,
  expectNotModelled,
  expectOnly,
  expectStep,
  fresh,
  gp,
  hex,
  inRoot,
  layRegion,
  ok,
  patchCpu,
  succeed,
  VMXON_0,
  withCurrent,
} from './helpers.ts';

const wrmsr = (value: bigint, cpu = 0) => ({ kind: 'write-feature-control', cpu, value: hex(value) }) as const;
const guest = (): ModelState => patchCpu(withCurrent(), 0, { vmx: 'non-root' });

describe('WRMSR to IA32_FEATURE_CONTROL', () => {
  const unlocked = (): ModelState => patchCpu(fresh(), 0, { featureControl: 0n });

  it('is not modelled in VMX non-root operation', () => {
    expectNotModelled(guest(), wrmsr(5n), 'write-feature-control.non-root');
  });

  it('raises #GP(0) in virtual-8086 mode and at CPL > 0, before the lock bit', () => {
    expectOnly(patchCpu(unlocked(), 0, { rflagsVm: 1, flags: CF }), wrmsr(5n), gp(CF), 'write-feature-control.gp-virtual-8086');
    expectOnly(patchCpu(fresh(), 0, { rflagsVm: 1, cpl: 3 }), wrmsr(5n), gp(), 'write-feature-control.gp-virtual-8086');
    expectOnly(patchCpu(unlocked(), 0, { cpl: 3 }), wrmsr(5n), gp(), 'write-feature-control.gp-cpl');
    expectOnly(patchCpu(fresh(), 0, { cpl: 1 }), wrmsr(5n), gp(), 'write-feature-control.gp-cpl');
  });

  it('raises #GP(0) once the lock bit is set (profiles start locked)', () => {
    expectOnly(fresh(), wrmsr(5n), gp(), 'write-feature-control.gp-locked');
    expectOnly(inRoot(), wrmsr(0n), gp(), 'write-feature-control.gp-locked');
  });

  it('writes the MSR while unlocked; VMXON then follows the new value', () => {
    const enabled = expectOnly(layRegion(unlocked(), VMXON_0), wrmsr(5n), ok(), 'write-feature-control.ok');
    expectOnly(enabled, { kind: 'vmxon', cpu: 0, pointer: hex(VMXON_0) }, succeed(), 'vmxon.success');
    const lockedOff = expectOnly(layRegion(unlocked(), VMXON_0), wrmsr(1n), ok(), 'write-feature-control.ok');
    expectOnly(lockedOff, { kind: 'vmxon', cpu: 0, pointer: hex(VMXON_0) }, gp(), 'vmxon.gp-feature-control-outside-smx');
    expectOnly(lockedOff, wrmsr(5n), gp(), 'write-feature-control.gp-locked');
  });

  it('allows the write or #GP(0) for bit 1, which needs SMX support the profile does not record', () => {
    const written = expectStep(unlocked(), wrmsr(7n), ok(), 'write-feature-control.smx-bit');
    expect(written.cpus[0]?.featureControl).toBe(7n);
    const refused = expectStep(unlocked(), wrmsr(7n), gp(), 'write-feature-control.smx-bit');
    expect(refused.cpus[0]?.featureControl).toBe(0n);
  });

  it('allows the write or #GP(0) for bits beyond 2, defined outside the VMX chapters', () => {
    expectStep(unlocked(), wrmsr(0x10_0005n), ok(), 'write-feature-control.other-bits');
    expectStep(unlocked(), wrmsr(0x10_0005n), gp(), 'write-feature-control.other-bits');
  });
});

describe('set', () => {
  it('sets each piece of state and completes with the flags unchanged', () => {
    let state = patchCpu(fresh(), 0, { flags: CF });
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'efer.lma', value: 0 }, ok(CF), 'set.ok');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'cs.l', value: 0 }, ok(CF), 'set.ok');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'cpl', value: 3 }, ok(CF), 'set.ok');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'rflags.vm', value: 1 }, ok(CF), 'set.ok');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'mov-ss-blocking', value: 1 }, ok(CF), 'set.ok');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'efer.lme', value: 0 }, ok(CF), 'set.ok');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'cr3', value: 0xffff_f005 }, ok(CF), 'set.ok');
    expect(state.cpus[0]).toMatchObject({ eferLma: 0, csL: 0, cpl: 3, rflagsVm: 1, movSsBlocking: 1, eferLme: 0, cr3: 0xffff_f005n });
    expect(state.cpus[1]).toMatchObject({ eferLma: 1, csL: 1, cpl: 0, rflagsVm: 0, movSsBlocking: 0, eferLme: 1, cr3: 0n });
  });

  it('rejects values out of range and unknown state names as bugs in the case', () => {
    expect(() => step(fresh(), { kind: 'set', cpu: 0, what: 'cpl', value: 4 })).toThrow(ModelInputError);
    expect(() => step(fresh(), { kind: 'set', cpu: 0, what: 'cs.l', value: 2 })).toThrow(/0 to 1/);
    expect(() => step(fresh(), { kind: 'set', cpu: 0, what: 'efer.lma', value: 0.5 })).toThrow(ModelInputError);
    expect(() => step(fresh(), { kind: 'set', cpu: 0, what: 'cr3', value: 0x1_0000_0000 })).toThrow(/0 to 4294967295/);
    // @ts-expect-error an unknown state name, as a malformed case file could hold
    expect(() => step(fresh(), { kind: 'set', cpu: 0, what: 'cr2', value: 0 })).toThrow(/unknown state/);
  });
});
