/**
 * The model's state and its contract: a fresh machine per spec/initial-state.ts, steps that never
 * change their input, malformed operations rejected as bugs in the case, and the rule catalogue.
 */
import { entryCheckById } from '../../spec/entry-checks/index.ts';
import { describe, expect, it } from 'vitest';
import { createModelState, matches, ModelInputError, NO_CURRENT_VMCS, RULES, ruleById, step } from '../../model/index.ts';
import type { Branch, Expected, ModelState } from '../../model/index.ts';
import type { Observation } from '../../spec/observations.ts';
import { initialProcessorState } from '../../spec/initial-state.ts';
import type { Operation } from '../../spec/operations.ts';
import { FIELD } from '../../spec/fields.ts';
import { core2, expectNotModelled, expectOnly, exit, fresh, hex, patchCpu, skylake, VMCS_A, VMCS_B, withCurrent } from './helpers.ts';

describe('createModelState', () => {
  it('starts every processor outside VMX operation in the initial state, with the firmware IA32_FEATURE_CONTROL', () => {
    const state = createModelState(core2(), 3);
    expect(state.cpus).toHaveLength(3);
    for (const cpu of state.cpus) {
      expect(cpu).toMatchObject({
        vmx: 'outside',
        currentVmcs: NO_CURRENT_VMCS,
        cr0: initialProcessorState.cr0,
        cr4: initialProcessorState.cr4,
        eferLma: 1,
        csL: 1,
        cpl: 0,
        flags: 0,
        featureControl: BigInt(core2().data.featureControl),
        smmMonitorCtl: 0n,
        a20m: false,
        inSmx: false,
        inSmm: false,
      });
    }
    expect(state.memory.size).toBe(0);
    expect(state.regions.size).toBe(0);
  });

  it('rejects a machine without processors', () => {
    expect(() => createModelState(skylake(), 0)).toThrow(ModelInputError);
    expect(() => createModelState(skylake(), 1.5)).toThrow(/positive integer/);
  });
});

describe('step input checks', () => {
  it('rejects a processor the machine does not have', () => {
    expect(() => step(fresh(), { kind: 'vmxoff', cpu: 2 })).toThrow(ModelInputError);
    expect(() => step(fresh(), { kind: 'vmxoff', cpu: -1 })).toThrow(/cpu must be an integer from 0 to 1/);
  });

  it('rejects malformed hexadecimal operands and operand forms', () => {
    expect(() => step(fresh(), { kind: 'vmxon', cpu: 0, pointer: '0x' })).toThrow(ModelInputError);
    expect(() => step(fresh(), { kind: 'vmread', cpu: 0, encoding: 'zz' })).toThrow(/encoding must be a hexadecimal value/);
    expect(() => step(fresh(), { kind: 'invept', cpu: 0, type: '0x1', descriptor: ['0x0', 'x'] })).toThrow(ModelInputError);
    // @ts-expect-error a malformed form, as a case file could hold
    expect(() => step(fresh(), { kind: 'vmclear', cpu: 0, pointer: '0x1000', form: 'stack' })).toThrow(/form must be/);
  });
});

describe('step never changes its input', () => {
  const snapshot = (state: ModelState) => structuredClone({ cpus: state.cpus, memory: state.memory, regions: state.regions });

  /** An observation an engine could report for `expected` (7 where a value is open). */
  function observationFor(expected: Expected): Observation {
    if (expected.kind !== 'vmsucceed' || expected.value === undefined || typeof expected.value === 'string') return expected as Observation;
    return { kind: 'vmsucceed', flags: expected.flags, value: expected.value.kind === 'any' ? '0x7' : expected.value.bits };
  }

  it('leaves the state as it was, for every outcome and after following each branch', () => {
    const ops: Operation[] = [
      { kind: 'write-memory', cpu: 0, address: hex(0x1000), value: hex(skylake().revisionId) },
      { kind: 'vmxon', cpu: 0, pointer: hex(0x1000) },
      { kind: 'write-memory', cpu: 0, address: hex(VMCS_A), value: hex(skylake().revisionId) },
      { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_A) },
      { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) },
      { kind: 'vmwrite', cpu: 0, encoding: hex(FIELD.GUEST_RIP), value: hex(5) },
      { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RSP) },
      { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RSP) },
      { kind: 'vmptrld', cpu: 0, pointer: hex(0x1000) },
      { kind: 'vmlaunch', cpu: 0 },
      { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_B) },
      { kind: 'write-memory', cpu: 1, address: hex(VMCS_B + 8n), value: hex(1) },
      { kind: 'write-feature-control', cpu: 1, value: hex(7) },
      { kind: 'vmxoff', cpu: 0 },
    ];
    let state = fresh();
    for (const op of ops) {
      const before = snapshot(state);
      const verdict = step(state, op);
      expect(snapshot(state)).toEqual(before);
      if (verdict.kind !== 'defined') continue;
      for (const branch of verdict.branches) {
        const observed = observationFor(branch.expected);
        expect(matches(branch.expected, observed)).toBe(true);
        branch.next(observed);
        expect(snapshot(state)).toEqual(before);
      }
      const first = verdict.branches[0] as Branch;
      state = first.next(observationFor(first.expected));
    }
    expect(state.cpus[0]?.vmx).toBe('outside');
  });
});

describe('after a VM exit', () => {
  it('a VM exit from a VMCS whose VM-exit controls were never written: the processor that exited is not followed, the other carries on', () => {
    const exited = expectOnly(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), { kind: 'vmcall', cpu: 0 }, exit(18), 'vmcall.vm-exit');
    expect(exited.cpus[0]).toMatchObject({ vmx: 'root', flags: 0 });
    expectNotModelled(exited, { kind: 'set', cpu: 0, what: 'cpl', value: 0 }, 'vm-exit.msr-store-not-followed');
    expectOnly(exited, { kind: 'vmxoff', cpu: 1 }, { kind: 'fault', vector: 'UD', flags: 0 }, 'vmxoff.ud-outside-vmx');
  });
});

describe('RULES', () => {
  it('lists every decision point once, each with a citation and a summary: the December 2023 SDM, or for a catalogued VM-entry check the edition the catalogue verified it in', () => {
    const ids = RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^[a-z0-9-]+\.[a-z0-9-]+$/);
      const catalogued = entryCheckById(rule.id);
      expect(rule.citation.edition).toBe(catalogued === undefined ? 'December 2023' : catalogued.citation.edition);
      expect(rule.citation.title.length).toBeGreaterThan(3);
      expect(rule.summary.length).toBeGreaterThan(10);
    }
  });

  it('finds a rule by its id', () => {
    expect(ruleById('vmptrld.vmxon-pointer')?.instruction).toBe('VMPTRLD');
    expect(ruleById('no.such-rule')).toBeUndefined();
  });
});
