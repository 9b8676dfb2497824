/**
 * VM-entry MSR loading. Expected outcomes from SDM Vol. 3B (about 2009) §22.4 "Loading MSRs" (page
 * 22-22: entries processed in order; failure when an entry names an MSR that cannot be loaded for
 * model-specific reasons, sets bits 63:32, or would make WRMSR cause #GP) and §22.7 (exit reason 34,
 * qualification = the failing entry's index, page 22-33); the 2016 Vol. 3C §27.6 "Loading MSRs"
 * for the MSRs never loaded this way (IA32_FS_BASE, IA32_GS_BASE, bits 31:8 = 000008H, SMM-only
 * MSRs); Vol. 3D Appendix A (VMX capability MSRs are read-only: WRMSR #GP(0)) and A.6 (more than
 * 512 × (IA32_VMX_MISC[27:25] + 1) entries: undefined behaviour); Vol. 3C §24.7 (IA32_FEATURE_CONTROL
 * is locked in VMX operation, and WRMSR to it then causes #GP).
 */
import { describe, expect, it } from 'vitest';
import { MSR_LOAD_ENTRY_RULES } from '../../../model/vm-entry/checks/msr-load.ts';
import { evaluate, unknown } from '../../../model/vm-entry/check.ts';
import { asEntryRule, judgeMsrLoad, msrEntryCheck, readEntry } from '../../../model/vm-entry/msr-load.ts';
import type { MsrLoadEntry } from '../../../model/vm-entry/msr-load.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { RULES_HIT, skylake } from '../helpers.ts';
import { expectCheck } from './check-helpers.ts';

const AREA = 0x8000n;
const IA32_SYSENTER_CS = 0x174n;
const IA32_VMX_BASIC = 0x480n;
const IA32_VMX_EXIT_CTLS2 = 0x493n;

/** One entry: MSR index, reserved bits 63:32, data. */
type Entry = { msr: bigint; reserved?: bigint; data?: bigint };

/** Memory words holding `entries` from AREA on. */
function area(entries: readonly Entry[]): Map<bigint, number> {
  const memory = new Map<bigint, number>();
  entries.forEach((e, i) => {
    const at = AREA + 16n * BigInt(i);
    const data = e.data ?? 0n;
    memory.set(at, Number(e.msr));
    memory.set(at + 4n, Number(e.reserved ?? 0n));
    memory.set(at + 8n, Number(data & 0xffff_ffffn));
    memory.set(at + 12n, Number(data >> 32n));
  });
  return memory;
}

const env = (memory: Map<bigint, number>, profile = skylake()) => ({ profile, readMemory32: (a: bigint) => memory.get(a) ?? 0 });
const view = (count: bigint, address = AREA) => ({
  get: (field: FieldName) => (field === 'VM_ENTRY_MSR_LOAD_COUNT' ? count : field === 'VM_ENTRY_MSR_LOAD_ADDRESS' ? address : undefined),
});

/** Judges entry `e` by rule `id` alone and expects `outcome`; a failure seen counts the rule as reached. */
function expectEntry(id: string, e: Entry, outcome: 'pass' | 'fail' | 'may-fail'): void {
  const rule = MSR_LOAD_ENTRY_RULES.find((each) => each.id === id);
  if (rule === undefined) throw new Error(`no MSR-load rule ${id}`);
  const entry: MsrLoadEntry = { index: 1, msr: e.msr, reserved: e.reserved ?? 0n, data: e.data ?? 0n };
  const truth = rule.holds(entry, env(new Map()));
  const kind = truth === true ? 'pass' : truth === false ? 'fail' : truth.kind;
  expect(kind, `${id} on MSR 0x${e.msr.toString(16)}`).toBe(outcome);
  if (kind === 'fail' || kind === 'may-fail') RULES_HIT.add(id);
}

describe('per-entry checks', () => {
  it('IA32_FS_BASE (C0000100H) cannot be loaded this way', () => {
    expectEntry('msr-load.not-fs-base', { msr: 0xc000_0100n }, 'fail');
    expectEntry('msr-load.not-fs-base', { msr: 0xc000_0102n }, 'pass');
  });

  it('IA32_GS_BASE (C0000101H) cannot be loaded this way', () => {
    expectEntry('msr-load.not-gs-base', { msr: 0xc000_0101n }, 'fail');
    expectEntry('msr-load.not-gs-base', { msr: 0xc000_0100n }, 'pass');
  });

  it('an MSR whose bits 31:8 are 000008H (x2APIC registers 800H-8FFH) cannot be loaded', () => {
    expectEntry('msr-load.not-x2apic-range', { msr: 0x800n }, 'fail');
    expectEntry('msr-load.not-x2apic-range', { msr: 0x8ffn }, 'fail');
    expectEntry('msr-load.not-x2apic-range', { msr: 0x7ffn }, 'pass');
    expectEntry('msr-load.not-x2apic-range', { msr: 0x900n }, 'pass');
  });

  it('IA32_SMM_MONITOR_CTL (9BH), writable only in SMM, fails outside SMM (the model has no SMM)', () => {
    expectEntry('msr-load.not-smm-only', { msr: 0x9bn }, 'fail');
    expectEntry('msr-load.not-smm-only', { msr: IA32_SYSENTER_CS }, 'pass');
  });

  it('MSRs refused for model-specific reasons: the profile does not list them, so any entry may fail', () => {
    // No outcome is certain here: the SDM leaves the list to the processor.
    expectEntry('msr-load.not-model-specific', { msr: IA32_SYSENTER_CS }, 'may-fail');
  });

  it('bits 63:32 of the entry must be 0', () => {
    expectEntry('msr-load.reserved-zero', { msr: IA32_SYSENTER_CS, reserved: 1n }, 'fail');
    expectEntry('msr-load.reserved-zero', { msr: IA32_SYSENTER_CS, reserved: 0x8000_0000n }, 'fail');
    expectEntry('msr-load.reserved-zero', { msr: IA32_SYSENTER_CS, data: 0xffff_ffff_ffff_ffffn }, 'pass');
  });

  it('WRMSR would #GP: a read-only VMX capability MSR, IA32_FEATURE_CONTROL (locked); other MSRs depend on the processor', () => {
    expectEntry('msr-load.wrmsr-would-succeed', { msr: IA32_VMX_BASIC }, 'fail');
    expectEntry('msr-load.wrmsr-would-succeed', { msr: IA32_VMX_EXIT_CTLS2 }, 'fail');
    expectEntry('msr-load.wrmsr-would-succeed', { msr: 0x3an, data: 5n }, 'fail');
    expectEntry('msr-load.wrmsr-would-succeed', { msr: IA32_SYSENTER_CS, data: 8n }, 'may-fail');
  });
});

describe('the area: entries in order, the first failing one reported', () => {
  it('count 0: nothing is read, nothing fails (even with an unknown address)', () => {
    const nothing = { get: (field: FieldName) => (field === 'VM_ENTRY_MSR_LOAD_COUNT' ? 0n : undefined) };
    expect(judgeMsrLoad(nothing, env(new Map()), MSR_LOAD_ENTRY_RULES)).toEqual({ kind: 'pass' });
  });

  it('an entry is the MSR index in bits 31:0, reserved bits 63:32, data in bits 127:64, 16 bytes apart', () => {
    const memory = area([{ msr: 1n }, { msr: IA32_SYSENTER_CS, reserved: 2n, data: 0x1234_5678_9abc_def0n }]);
    expect(readEntry(AREA, 2, env(memory))).toEqual({ index: 2, msr: IA32_SYSENTER_CS, reserved: 2n, data: 0x1234_5678_9abc_def0n });
  });

  it('the first entry failing for certain gives its 1-based index; earlier entries that may fail may be reported instead', () => {
    const memory = area([{ msr: IA32_SYSENTER_CS }, { msr: 0xc000_0100n }, { msr: 0x9bn }]);
    const result = judgeMsrLoad(view(3n), env(memory), MSR_LOAD_ENTRY_RULES);
    expect(result.kind).toBe('fail');
    expect(result.kind === 'fail' && result.qualifications).toEqual([1, 2]);
  });

  it('a failing first entry is the only report', () => {
    const result = judgeMsrLoad(view(2n), env(area([{ msr: 0x800n }, { msr: 0x9bn }])), MSR_LOAD_ENTRY_RULES);
    expect(result.kind === 'fail' && result.qualifications).toEqual([1]);
  });

  it('no certain failure: the entries load, or any of them fails', () => {
    const result = judgeMsrLoad(view(2n), env(area([{ msr: IA32_SYSENTER_CS }, { msr: 0x175n }])), MSR_LOAD_ENTRY_RULES);
    expect(result).toMatchObject({ kind: 'may-fail', qualifications: [1, 2] });
  });

  it('rules whose outcome is certain pass every entry: the phase passes', () => {
    const certain = MSR_LOAD_ENTRY_RULES.filter((rule) => !['msr-load.not-model-specific', 'msr-load.wrmsr-would-succeed'].includes(rule.id));
    expect(judgeMsrLoad(view(2n), env(area([{ msr: IA32_SYSENTER_CS }, { msr: 0x175n }])), certain)).toEqual({ kind: 'pass' });
  });

  it('entries past the count are not read', () => {
    const result = judgeMsrLoad(view(1n), env(area([{ msr: IA32_SYSENTER_CS }, { msr: 0xc000_0100n }])), MSR_LOAD_ENTRY_RULES);
    expect(result).toMatchObject({ kind: 'may-fail', qualifications: [1] });
  });

  it('an unknown count, address or memory leaves the phase undecided', () => {
    const noCount = { get: () => undefined };
    expect(judgeMsrLoad(noCount, env(new Map()), MSR_LOAD_ENTRY_RULES)).toEqual({ kind: 'undecided', missing: ['VM_ENTRY_MSR_LOAD_COUNT'] });
    const noAddress = { get: (field: FieldName) => (field === 'VM_ENTRY_MSR_LOAD_COUNT' ? 1n : undefined) };
    expect(judgeMsrLoad(noAddress, env(new Map()), MSR_LOAD_ENTRY_RULES)).toEqual({ kind: 'undecided', missing: ['VM_ENTRY_MSR_LOAD_ADDRESS'] });
    const noMemory = { profile: skylake(), readMemory32: () => undefined };
    expect(judgeMsrLoad(view(1n), noMemory, MSR_LOAD_ENTRY_RULES).kind).toBe('undecided');
  });

  it('more entries than 512 × (IA32_VMX_MISC[27:25] + 1) is undefined', () => {
    const misc = BigInt(skylake().data.msrs.IA32_VMX_MISC);
    const limit = 512n * (((misc >> 25n) & 7n) + 1n);
    expect(judgeMsrLoad(view(limit + 1n), env(new Map()), MSR_LOAD_ENTRY_RULES)).toMatchObject({ kind: 'undefined', recommendedMaximum: limit });
    expect(judgeMsrLoad(view(limit), env(new Map()), MSR_LOAD_ENTRY_RULES).kind).not.toBe('undefined');
  });
});

describe('the checks over a whole area (registry, explain)', () => {
  const fields = (count: bigint) => ({ VM_ENTRY_MSR_LOAD_COUNT: count, VM_ENTRY_MSR_LOAD_ADDRESS: AREA });
  it('fails when some entry fails, passes when none does, does not apply with count 0', () => {
    const memory = area([{ msr: IA32_SYSENTER_CS }, { msr: 0xc000_0101n }]);
    expectCheck('msr-load.not-gs-base', fields(2n), 'fail', { memory });
    expectCheck('msr-load.not-gs-base', fields(1n), 'pass', { memory });
    expectCheck('msr-load.not-gs-base', fields(0n), 'not-applicable', { memory });
    expectCheck('msr-load.wrmsr-would-succeed', fields(1n), 'may-fail', { memory });
    expectCheck('msr-load.wrmsr-would-succeed', fields(2n), 'may-fail', { memory });
    expectCheck('msr-load.not-gs-base', fields(1_000_000n), 'may-fail', { memory });
  });
});

describe('a per-entry check that cannot be decided', () => {
  const needsMore = msrEntryCheck('test.needs-more', (e) => (e.msr === 0x10n ? unknown('what MSR 10H accepts') : true));
  const memory = area([{ msr: 0x174n }, { msr: 0x10n }, { msr: 0xc000_0100n }]);

  it('leaves the phase undecided at that entry, unless an entry fails for certain first', () => {
    expect(judgeMsrLoad(view(3n), env(memory), [needsMore])).toEqual({ kind: 'undecided', missing: ['what MSR 10H accepts'] });
    const fsBase = MSR_LOAD_ENTRY_RULES.filter((rule) => rule.id === 'msr-load.not-fs-base');
    expect(judgeMsrLoad(view(3n), env(area([{ msr: 0xc000_0100n }, { msr: 0x10n }])), [needsMore, ...fsBase])).toMatchObject({ kind: 'fail', qualifications: [1] });
  });

  it('over the whole area: undecided, or failing when a later entry fails for certain; unknown memory is undecided', () => {
    const overArea = asEntryRule(needsMore);
    const fields = { get: (field: FieldName) => (field === 'VM_ENTRY_MSR_LOAD_COUNT' ? 3n : AREA) };
    expect(evaluate(overArea, fields, env(memory))).toEqual({ kind: 'undecided', missing: ['what MSR 10H accepts'] });
    const noMemory = { profile: skylake(), readMemory32: () => undefined };
    expect(evaluate(overArea, fields, noMemory).kind).toBe('undecided');
  });
});
