/**
 * The phases of VM entry wired end to end through `step` (SDM Vol. 3C, December 2023, §27.2-§27.4
 * and §31.3 VMLAUNCH/VMRESUME), with a registry of checks in which every catalogue group counts as
 * complete. The model's real registry has only some groups yet, so `step` answers `not-modelled`
 * for every entry that passes its checks; this file replaces the registry (vi.mock) by one whose
 * checks read nothing and pass, plus the failing checks a test chooses. Not imported by
 * rule-coverage.test.ts, whose other tests need the real registry.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { matches, step } from '../../../model/index.ts';
import type { Branch, ModelState } from '../../../model/index.ts';
import { cpuOf } from '../../../model/state.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import type { EntryRule } from '../../../model/vm-entry/check.ts';
import { ENTRY_CHECKS_BY_GROUP } from '../../../spec/entry-checks/index.ts';
import type { EntryCheckGroup } from '../../../spec/entry-checks/index.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { ARITHMETIC_FLAGS } from '../../../spec/observations.ts';
import type { Observation } from '../../../spec/observations.ts';
import { exit, failValid, hex, succeed } from '../helpers.ts';
import { GUEST_64, HOST_FIELDS } from './entry-fixtures.ts';
import { vmcsWith } from './helpers.ts';

const registry = vi.hoisted(() => ({ rules: {} as Partial<Record<string, EntryRule[]>> }));

vi.mock('../../../model/vm-entry/rules.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../model/vm-entry/rules.ts')>();
  return { ...original, MODEL_ENTRY_RULES: registry.rules, unimplemented: () => [] };
});

const launch = { kind: 'vmlaunch', cpu: 0 } as const;
const vmread = (encoding: number) => ({ kind: 'vmread', cpu: 0, encoding: hex(encoding) }) as const;

/** A check of `group` (its `index`th catalogue entry) that fails. */
function failing(group: EntryCheckGroup, index = 0): EntryRule {
  const entry = ENTRY_CHECKS_BY_GROUP[group][index];
  if (entry === undefined) throw new Error(`no check ${index} in ${group}`);
  return { id: entry.id, fields: [], holds: () => false };
}

function stepTo(state: ModelState, op: Parameters<typeof step>[1], observed: Observation): { next: ModelState; allowed: Branch[] } {
  const verdict = step(state, op);
  if (verdict.kind !== 'defined') throw new Error(`verdict ${verdict.kind}: ${verdict.rule.id}`);
  const branch = verdict.branches.find((b) => matches(b.expected, observed));
  expect(branch, `allowed: ${JSON.stringify(verdict.branches.map((b) => b.expected))}`).toBeDefined();
  return { next: (branch as Branch).next(observed), allowed: [...verdict.branches] };
}

const entryState = (): ModelState => vmcsWith({ ...HOST_FIELDS, ...GUEST_64 });
const guestFlags = ARITHMETIC_FLAGS.CF | ARITHMETIC_FLAGS.ZF;

describe('VM entry, all phases (registry complete)', () => {
  beforeEach(() => {
    for (const key of Object.keys(registry.rules)) delete registry.rules[key];
  });

  it('every check passes: VMLAUNCH enters the guest (flags of guest RFLAGS), the VMCS is launched, a guest VMREAD exits', () => {
    const { next } = stepTo(entryState(), launch, { kind: 'vmentry', flags: guestFlags });
    expect(cpuOf(next, 0).vmx).toBe('non-root');
    expect(currentVmcs(next, 0)?.content.launch).toBe('launched');
    stepTo(next, vmread(FIELD.EXIT_REASON), exit(EXIT_REASON.VMREAD));
  });

  it('a failing guest-state check: VM-entry failure 0x80000021 with its qualification, readable by VMREAD; the VMLAUNCH can be retried', () => {
    registry.rules['guest-pdptes'] = [failing('guest-pdptes')];
    const { next, allowed } = stepTo(entryState(), launch, { kind: 'vmentry-failure', exitReason: 0x8000_0021, qualification: '0x2', flags: 0 });
    expect(allowed).toHaveLength(1);
    const read = stepTo(next, vmread(FIELD.EXIT_REASON), succeed(0x8000_0021n)).next;
    stepTo(read, vmread(FIELD.EXIT_QUALIFICATION), succeed(2n));
    delete registry.rules['guest-pdptes'];
    stepTo(next, launch, { kind: 'vmentry', flags: guestFlags });
  });

  it('failing guest checks with different qualifications: any of them may be reported (any order)', () => {
    registry.rules['guest-control-registers'] = [failing('guest-control-registers')];
    registry.rules['guest-pdptes'] = [failing('guest-pdptes')];
    const { allowed } = stepTo(entryState(), launch, { kind: 'vmentry-failure', exitReason: 0x8000_0021, qualification: '0x0', flags: 0 });
    expect(allowed.map((b) => b.expected)).toContainEqual({ kind: 'vmentry-failure', exitReason: 0x8000_0021, qualification: '0x2', flags: 0 });
  });

  it('a failing control check comes first: VMfailValid(7), no guest-state failure', () => {
    registry.rules['exit-controls'] = [failing('exit-controls')];
    registry.rules['guest-pdptes'] = [failing('guest-pdptes')];
    const { allowed } = stepTo(entryState(), launch, failValid(VM_ERROR.ENTRY_INVALID_CONTROLS));
    expect(allowed).toHaveLength(1);
  });

  it('a nonzero VM-entry MSR-load count: the entries are read from memory and judged in order (here zeroed memory: MSR 0 loads, or may be refused)', () => {
    const verdict = step(vmcsWith({ ...HOST_FIELDS, ...GUEST_64, VM_ENTRY_MSR_LOAD_COUNT: 2n, VM_ENTRY_MSR_LOAD_ADDRESS: 0x8000n }), launch);
    expect(verdict.kind).toBe('defined');
  });

  it('a guest-state check reading a field never written: undefined', () => {
    registry.rules['guest-control-registers'] = [{ id: ENTRY_CHECKS_BY_GROUP['guest-control-registers'][0]?.id ?? '', fields: ['GUEST_DR7'], holds: () => true }];
    expect(step(entryState(), launch)).toMatchObject({ kind: 'undefined', rule: { id: 'vm-entry.field-unknown' } });
  });

  it('a failure whose VM-exit MSR-load area the model cannot follow (count 1, address never written): the failure is compared, the processor then not followed', () => {
    registry.rules['guest-pdptes'] = [failing('guest-pdptes')];
    const verdict = step(vmcsWith({ ...HOST_FIELDS, ...GUEST_64, VM_EXIT_MSR_LOAD_COUNT: 1n }), launch);
    expect(verdict.kind).toBe('defined');
    if (verdict.kind !== 'defined') return;
    const branch = verdict.branches[0];
    expect(branch?.expected.kind).toBe('vmentry-failure');
    expect(branch === undefined ? undefined : cpuOf(branch.next(branch.expected as Observation), 0).untracked?.id).toBe('host-load.exit-msr-load-not-followed');
  });

  it('a successful entry whose guest fields were never written: undefined', () => {
    const { GUEST_PENDING_DEBUG_EXCEPTIONS: _omitted, ...rest } = GUEST_64;
    expect(step(vmcsWith({ ...HOST_FIELDS, ...rest }), launch)).toMatchObject({ kind: 'undefined', rule: { id: 'vm-entry.field-unknown' } });
  });

  it('VMRESUME of the launched VMCS from the host (after a test-only return to root) enters again without changing the launch state', () => {
    const { next } = stepTo(entryState(), launch, { kind: 'vmentry', flags: guestFlags });
    const root = { ...next, cpus: next.cpus.map((c, i) => (i === 0 ? { ...c, vmx: 'root' as const } : c)) };
    const again = stepTo(root, { kind: 'vmresume', cpu: 0 }, { kind: 'vmentry', flags: guestFlags }).next;
    expect(currentVmcs(again, 0)?.content.launch).toBe('launched');
  });
});
