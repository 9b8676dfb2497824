/**
 * The VM exits after a guest instruction (impl/non-root/instruction-boundary.ts) and the inactive
 * processor (impl/non-root/activity.ts), through Engine.step and `execute`, as the contract
 * observes them. Expected outcomes from the SDM text (Vol. 3C, December 2023): §26.5.2 "Monitor
 * Trap Flag", §26.2 "Other Causes of VM Exits" (the windows), §27.7.1 "Interruptibility State", §27.7.2 "Activity State", §28.1 "Architectural State before a VM Exit", §28.2.1
 * "Basic VM-Exit Information", §28.3.3, §28.3.4 "Saving Non-Register State", §28.7 "VMX Aborts".
 */
import { describe, expect, it } from 'vitest';
import { createImplEngine, ImplEngine } from '../../../impl/index.ts';
import { DEBUGCTL } from '../../../spec/guest-state-bits.ts';
import { ENTRY_CONTROL, PIN_CONTROL, PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Observation } from '../../../spec/observations.ts';
import type { Operation } from '../../../spec/operations.ts';
import { SKYLAKE } from '../fixtures.ts';
import { loadVmcsOperations, validVmcs, type FieldName } from '../vm-entry-vmcs.ts';
import { profileOf } from '../vm-exit/rig.ts';
import { handlerOf } from '../guest-environment.ts';

const bit = (n: number): bigint => 1n << BigInt(n);
const skylake = validVmcs(profileOf(SKYLAKE));
const primary = skylake.get('PRIMARY_PROCESSOR_BASED_CONTROLS') as bigint;
const pin = skylake.get('PIN_BASED_CONTROLS') as bigint;
const entryControls = skylake.get('VM_ENTRY_CONTROLS') as bigint;
const MTF = { PRIMARY_PROCESSOR_BASED_CONTROLS: primary | bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG) };

/** An engine with `cpus` processors whose processor 0 ran VMLAUNCH with `changes` to the valid VMCS; the VMLAUNCH's observation. */
function launch(changes: Partial<Record<FieldName, bigint>>, cpus = 1): { engine: ImplEngine; entry: Observation } {
  const profile = profileOf(SKYLAKE);
  const fields = validVmcs(profile);
  for (const [name, value] of Object.entries(changes) as [FieldName, bigint][]) fields.set(name, value);
  const engine = createImplEngine({ profile: SKYLAKE, logicalProcessors: cpus }) as ImplEngine;
  for (const op of loadVmcsOperations(profile, fields)) engine.step(op);
  return { engine, entry: engine.step({ kind: 'vmlaunch', cpu: 0 }) };
}

/** VMREAD of `name` by processor 0 (in VMX root operation after an exit), as a bigint. */
function vmread(engine: ImplEngine, name: FieldName): bigint {
  const seen = engine.step({ kind: 'vmread', cpu: 0, encoding: `0x${FIELD[name].toString(16)}` });
  if (seen.kind !== 'vmsucceed' || seen.value === undefined) throw new Error(`VMREAD ${name}: ${JSON.stringify(seen)}`);
  return BigInt(seen.value);
}

const PAUSE: Operation = { kind: 'pause', cpu: 0 };
const HLT_OP: Operation = { kind: 'hlt', cpu: 0 };
const VMCALL: Operation = { kind: 'vmcall', cpu: 0 };

describe('§26.5.2: the MTF VM exit after a guest instruction', () => {
  it('an instruction that completes is observed as the MTF VM exit (37): qualification 0, RIP past it, RF 0, active', () => {
    const { engine, entry } = launch({ ...MTF, GUEST_RFLAGS: 0x1_0002n });
    expect(entry.kind).toBe('vmentry');
    expect(engine.step(PAUSE)).toEqual({ kind: 'vmexit', reason: EXIT_REASON.MONITOR_TRAP_FLAG, flags: 0 });
    expect(vmread(engine, 'EXIT_QUALIFICATION')).toBe(0n);
    expect(vmread(engine, 'GUEST_RIP')).toBe(0x1002n); // PAUSE is F3 90
    expect(vmread(engine, 'GUEST_RFLAGS')).toBe(2n);
    expect(vmread(engine, 'GUEST_ACTIVITY_STATE')).toBe(0n);
    expect(vmread(engine, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(0n);
  });

  it('after HLT the exit saves the HLT activity state (MTF VM exits are not blocked in HLT, §28.1)', () => {
    const { engine } = launch(MTF);
    expect(engine.step(HLT_OP)).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.MONITOR_TRAP_FLAG });
    expect(vmread(engine, 'GUEST_ACTIVITY_STATE')).toBe(1n);
    expect(vmread(engine, 'GUEST_RIP')).toBe(0x1001n);
  });

  it('with RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0 the single-step trap is pending (BS saved): MTF has priority over debug traps', () => {
    const { engine } = launch({ ...MTF, GUEST_RFLAGS: 0x102n });
    expect(engine.step(PAUSE)).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.MONITOR_TRAP_FLAG });
    expect(vmread(engine, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(bit(14));
    const btf = launch({
      ...MTF,
      GUEST_RFLAGS: 0x102n,
      VM_ENTRY_CONTROLS: entryControls | bit(ENTRY_CONTROL.LOAD_DEBUG_CONTROLS),
      GUEST_IA32_DEBUGCTL: bit(DEBUGCTL.BTF),
    }).engine;
    expect(btf.step(PAUSE)).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.MONITOR_TRAP_FLAG });
    expect(vmread(btf, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(0n);
  });

  it("an instruction's own VM exit comes instead (CPUID, VMCALL, RDTSC with RDTSC exiting)", () => {
    expect(launch(MTF).engine.step({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' })).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.CPUID });
    expect(launch(MTF).engine.step(VMCALL)).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.VMCALL });
    const rdtsc = launch({ PRIMARY_PROCESSOR_BASED_CONTROLS: MTF.PRIMARY_PROCESSOR_BASED_CONTROLS | bit(PRIMARY_CONTROL.RDTSC_EXITING) }).engine;
    expect(rdtsc.step({ kind: 'rdtsc', cpu: 0 })).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.RDTSC });
    expect(launch(MTF).engine.step({ kind: 'rdtsc', cpu: 0 })).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.MONITOR_TRAP_FLAG });
  });

  it('a fault delivered through the guest IDT: the MTF VM exit pending after its delivery is the observation (§26.5.2)', () => {
    const { engine } = launch(MTF);
    expect(engine.step({ kind: 'exception', cpu: 0, vector: 6 })).toEqual({ kind: 'vmexit', reason: EXIT_REASON.MONITOR_TRAP_FLAG, flags: 0 });
    const rip = engine.step({ kind: 'vmread', cpu: 0, encoding: `0x${FIELD.GUEST_RIP.toString(16)}` });
    expect(rip).toMatchObject({ kind: 'vmsucceed', value: `0x${handlerOf(6).toString(16)}` });
  });

  it('with "monitor trap flag" = 0 the instruction completes', () => {
    const { engine } = launch({});
    expect(engine.step(PAUSE)).toEqual({ kind: 'ok', flags: 0 });
  });
});

describe('§26.2: the NMI and interrupt windows open when an instruction ends blocking by STI or MOV SS', () => {
  const interruptWindow = { PRIMARY_PROCESSOR_BASED_CONTROLS: primary | bit(PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING), GUEST_RFLAGS: 0x202n };
  const nmiWindow = {
    PIN_BASED_CONTROLS: pin | bit(PIN_CONTROL.NMI_EXITING) | bit(PIN_CONTROL.VIRTUAL_NMIS),
    PRIMARY_PROCESSOR_BASED_CONTROLS: primary | bit(PRIMARY_CONTROL.NMI_WINDOW_EXITING),
  };

  it('interrupt window: blocked by STI at entry, a VM exit (7) after the first instruction, RIP past it', () => {
    const { engine, entry } = launch({ ...interruptWindow, GUEST_INTERRUPTIBILITY_STATE: 1n });
    expect(entry.kind).toBe('vmentry');
    expect(engine.step(PAUSE)).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.INTERRUPT_WINDOW });
    expect(vmread(engine, 'GUEST_RIP')).toBe(0x1002n);
    expect(vmread(engine, 'GUEST_INTERRUPTIBILITY_STATE')).toBe(0n);
  });

  it('interrupt window after HLT: the exit wakes HLT and saves it', () => {
    const { engine } = launch({ ...interruptWindow, GUEST_INTERRUPTIBILITY_STATE: 2n });
    expect(engine.step(HLT_OP)).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.INTERRUPT_WINDOW });
    expect(vmread(engine, 'GUEST_ACTIVITY_STATE')).toBe(1n);
  });

  it('interrupt window stays closed with RFLAGS.IF = 0', () => {
    const { engine } = launch({ ...interruptWindow, GUEST_RFLAGS: 2n });
    expect(engine.step(PAUSE)).toEqual({ kind: 'ok', flags: 0 });
  });

  it('NMI window: blocked by MOV SS at entry, a VM exit (8) after the first instruction; it comes before the interrupt window, MTF before both', () => {
    expect(launch({ ...nmiWindow, GUEST_INTERRUPTIBILITY_STATE: 2n }).engine.step(PAUSE)).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.NMI_WINDOW });
    const both = { ...nmiWindow, GUEST_RFLAGS: 0x202n, GUEST_INTERRUPTIBILITY_STATE: 1n };
    const controls = nmiWindow.PRIMARY_PROCESSOR_BASED_CONTROLS | interruptWindow.PRIMARY_PROCESSOR_BASED_CONTROLS;
    expect(launch({ ...both, PRIMARY_PROCESSOR_BASED_CONTROLS: controls }).engine.step(PAUSE)).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.NMI_WINDOW });
    const mtf = controls | bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG);
    expect(launch({ ...both, PRIMARY_PROCESSOR_BASED_CONTROLS: mtf }).engine.step(PAUSE)).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.MONITOR_TRAP_FLAG });
  });

  it('NMI window stays closed under virtual-NMI blocking', () => {
    const { engine } = launch({ ...nmiWindow, GUEST_INTERRUPTIBILITY_STATE: 8n | 2n });
    expect(engine.step(PAUSE)).toEqual({ kind: 'ok', flags: 0 });
  });
});

describe('§27.7.2, §28.7: an inactive processor executes no instruction', () => {
  it.each([
    [1n, 'hlt'],
    [2n, 'shutdown'],
    [3n, 'wait-for-sipi'],
  ] as const)('after a VM entry into activity state %s every later instruction is inactive (%s)', (state, activity) => {
    const { engine, entry } = launch({ GUEST_ACTIVITY_STATE: state }, 2);
    expect(entry).toEqual({ kind: 'vmentry', flags: 0 });
    for (const op of [PAUSE, VMCALL, HLT_OP, { kind: 'vmread', cpu: 0, encoding: '0x4402' }, { kind: 'mov-cr0', cpu: 0, value: '0x80000031' }] as Operation[]) {
      expect(engine.step(op)).toEqual({ kind: 'inactive', activity, flags: 0 });
    }
    // Not instructions of that processor: memory writes, `set`, and the other processor's instructions.
    expect(engine.step({ kind: 'write-memory', cpu: 0, address: '0x8000', value: '0x1' })).toEqual({ kind: 'ok', flags: 0 });
    expect(engine.step({ kind: 'set', cpu: 0, what: 'cpl', value: 0 })).toEqual({ kind: 'ok', flags: 0 });
    expect(engine.step({ kind: 'vmxoff', cpu: 1 })).toMatchObject({ kind: 'fault', vector: 'UD' });
  });

  it('the hlt operation keeps its convention: the processor is woken before its next operation', () => {
    const { engine } = launch({});
    expect(engine.step(HLT_OP)).toEqual({ kind: 'ok', flags: 0 });
    expect(engine.step(VMCALL)).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.VMCALL });
  });

  it('an inactive processor keeps its flags in the observation', () => {
    const { engine } = launch({ GUEST_ACTIVITY_STATE: 1n, GUEST_RFLAGS: 0x8c3n });
    expect(engine.step(PAUSE)).toEqual({ kind: 'inactive', activity: 'hlt', flags: 0x8c1 });
  });
});
