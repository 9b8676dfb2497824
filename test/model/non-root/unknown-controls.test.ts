/**
 * Guest operations in a guest whose controls the model does not know (a VMCS whose fields were
 * never written): every operation whose exit condition reads such a field is not modelled
 * (`non-root.controls-unknown`), never guessed; and malformed operations are rejected with a
 * message naming what to fix.
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Operation } from '../../../spec/operations.ts';
import { step } from '../../../model/index.ts';
import { expectNotModelled, fresh, patchCpu, withCurrent, write } from '../helpers.ts';
import { bit } from './guest-setup.ts';

/** A guest with only the exception bitmap (0) and `fields` written. */
function sparseGuest(fields: ReadonlyArray<readonly [number, bigint]> = []): ReturnType<typeof withCurrent> {
  let state = write(withCurrent(), FIELD.EXCEPTION_BITMAP, 0n);
  for (const [encoding, value] of fields) state = write(state, encoding, value);
  return patchCpu(state, 0, { vmx: 'non-root', cr4: 0x2020n | bit(18) });
}

const primaryOnly = (primary: bigint) => sparseGuest([[FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, primary]]);

describe('guest operations with unknown controls', () => {
  const everyReader: Operation[] = [
    { kind: 'wbinvd', cpu: 0 },
    { kind: 'invlpg', cpu: 0, address: '0x1000' },
    { kind: 'rdtsc', cpu: 0 },
    { kind: 'rdtscp', cpu: 0 },
    { kind: 'rdpmc', cpu: 0, ecx: '0x0' },
    { kind: 'pause', cpu: 0 },
    { kind: 'monitor', cpu: 0 },
    { kind: 'mwait', cpu: 0 },
    { kind: 'mov-from-cr', cpu: 0, cr: 0, gpr: 0 },
    { kind: 'mov-cr3', cpu: 0, value: '0x1000' },
    { kind: 'mov-cr8', cpu: 0, value: '0x0' },
    { kind: 'clts', cpu: 0 },
    { kind: 'lmsw', cpu: 0, value: '0x1' },
    { kind: 'mov-dr', cpu: 0, direction: 'from', dr: 7, gpr: 0 },
    { kind: 'rdmsr', cpu: 0, ecx: '0x10' },
    { kind: 'wrmsr', cpu: 0, ecx: '0x10', value: '0x0' },
    { kind: 'io', cpu: 0, direction: 'out', port: 0x80, size: 1 },
  ];
  it.each(everyReader.map((op) => [op.kind, op] as const))('%s is not modelled', (_kind, op) => {
    expectNotModelled(sparseGuest(), op, 'non-root.controls-unknown');
  });

  it('the fields behind a set control: CR3-target values, virtual-APIC address, MSR and I/O bitmap addresses, CR0/CR4 shadows', () => {
    expectNotModelled(primaryOnly(bit(PRIMARY_CONTROL.CR3_LOAD_EXITING)), { kind: 'mov-cr3', cpu: 0, value: '0x1000' }, 'non-root.controls-unknown');
    const targetUnknown = sparseGuest([[FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, bit(PRIMARY_CONTROL.CR3_LOAD_EXITING)], [FIELD.CR3_TARGET_COUNT, 1n]]);
    expectNotModelled(targetUnknown, { kind: 'mov-cr3', cpu: 0, value: '0x1000' }, 'non-root.controls-unknown');
    expectNotModelled(primaryOnly(bit(PRIMARY_CONTROL.USE_TPR_SHADOW)), { kind: 'mov-from-cr', cpu: 0, cr: 8, gpr: 0 }, 'non-root.controls-unknown');
    expectNotModelled(primaryOnly(bit(PRIMARY_CONTROL.USE_MSR_BITMAPS)), { kind: 'rdmsr', cpu: 0, ecx: '0x10' }, 'non-root.controls-unknown');
    expectNotModelled(primaryOnly(bit(PRIMARY_CONTROL.USE_IO_BITMAPS)), { kind: 'io', cpu: 0, direction: 'out', port: 0x80, size: 1 }, 'non-root.controls-unknown');
    expectNotModelled(primaryOnly(0n), { kind: 'mov-from-cr', cpu: 0, cr: 4, gpr: 0 }, 'non-root.controls-unknown');
    expectNotModelled(primaryOnly(0n), { kind: 'lmsw', cpu: 0, value: '0x1' }, 'non-root.controls-unknown');
  });

  it('an exception exit with the pin-based controls unknown leaves the interruption information undefined (still an exit)', () => {
    const state = write(withCurrent(), FIELD.EXCEPTION_BITMAP, bit(6));
    const verdict = step(patchCpu(state, 0, { vmx: 'non-root' }), { kind: 'exception', cpu: 0, vector: 6 });
    expect(verdict.kind === 'defined' ? verdict.branches.map((b) => b.expected.kind) : verdict.kind).toEqual(['vmexit']);
  });
});

describe('malformed guest operations', () => {
  it('name the operand to fix', () => {
    expect(() => step(fresh(), { kind: 'mov-from-cr', cpu: 0, cr: 2 as 0, gpr: 0 })).toThrow(/cr must be 0, 3, 4 or 8/);
    expect(() => step(fresh(), { kind: 'mov-cr3', cpu: 0, value: '0x0', gpr: 16 })).toThrow(/gpr must be an integer from 0/);
    expect(() => step(fresh(), { kind: 'mov-dr', cpu: 0, direction: 'to', dr: 8, gpr: 0, value: '0x0' })).toThrow(/dr must be/);
    expect(() => step(fresh(), { kind: 'mov-dr', cpu: 0, direction: 'up' as 'to', dr: 1, gpr: 0 })).toThrow(/direction/);
    expect(() => step(fresh(), { kind: 'mov-dr', cpu: 0, direction: 'to', dr: 1, gpr: 0 })).toThrow(/needs value/);
    expect(() => step(fresh(), { kind: 'lmsw', cpu: 0, value: '0x1', form: 'memory' })).toThrow(/linear address/);
    expect(() => step(fresh(), { kind: 'io', cpu: 0, direction: 'sideways' as 'in', port: 1, size: 1 })).toThrow(/direction/);
    expect(() => step(fresh(), { kind: 'io', cpu: 0, direction: 'in', port: 1, size: 1, rep: true })).toThrow(/REP/);
    expect(() => step(fresh(), { kind: 'cpuid', cpu: 0, eax: 'zero', ecx: '0x0' })).toThrow(/eax must be/);
  });
});
