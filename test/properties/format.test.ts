/** Renderings used in traces. */
import { describe, expect, it } from 'vitest';
import { formatFlags, formatObservation, formatOperation } from '../../properties/format.ts';
import type { Operation } from '../../spec/operations.ts';

describe('trace formatting', () => {
  it.each<[Operation, string]>([
    [{ kind: 'vmxon', cpu: 0, pointer: '0x1000' }, 'cpu0 VMXON [0x1000]'],
    [{ kind: 'vmclear', cpu: 1, pointer: '0x2000', form: 'register' }, 'cpu1 VMCLEAR [0x2000] <register operand>'],
    [{ kind: 'vmptrst', cpu: 0 }, 'cpu0 VMPTRST'],
    [{ kind: 'vmptrst', cpu: 0, form: 'register' }, 'cpu0 VMPTRST <register operand>'],
    [{ kind: 'vmread', cpu: 0, encoding: '0x4400' }, 'cpu0 VMREAD 0x4400'],
    [{ kind: 'vmread', cpu: 0, encoding: '0x4400', form: 'memory' }, 'cpu0 VMREAD 0x4400 -> memory'],
    [{ kind: 'vmwrite', cpu: 0, encoding: '0x0', value: '0x1' }, 'cpu0 VMWRITE 0x0 := 0x1'],
    [{ kind: 'vmwrite', cpu: 0, encoding: '0x0', value: '0x1', form: 'memory' }, 'cpu0 VMWRITE 0x0 := 0x1 (memory source)'],
    [{ kind: 'invvpid', cpu: 0, type: '0x0', descriptor: ['0x1', '0x2'] }, 'cpu0 INVVPID type 0x0, {0x1, 0x2}'],
    [{ kind: 'vmfunc', cpu: 0, eax: '0x0', ecx: '0x1' }, 'cpu0 VMFUNC eax=0x0 ecx=0x1'],
    [{ kind: 'vmlaunch', cpu: 0 }, 'cpu0 VMLAUNCH'],
    [{ kind: 'mov-cr0', cpu: 0, value: '0x1' }, 'cpu0 MOV CR0 := 0x1'],
    [{ kind: 'mov-cr4', cpu: 0, value: '0x1' }, 'cpu0 MOV CR4 := 0x1'],
    [{ kind: 'write-feature-control', cpu: 0, value: '0x5' }, 'cpu0 WRMSR IA32_FEATURE_CONTROL := 0x5'],
    [{ kind: 'set', cpu: 0, what: 'cpl', value: 3 }, 'cpu0 set cpl = 3'],
    [{ kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x4' }, 'cpu0 write-memory [0x1000] := 0x4'],
  ])('renders %j as %s', (op, text) => {
    expect(formatOperation(op)).toBe(text);
  });

  it('names the arithmetic flags that are set', () => {
    expect(formatFlags(0)).toBe('-');
    expect(formatFlags(0x41)).toBe('CF ZF');
  });

  it('renders each kind of observation', () => {
    expect(formatObservation({ kind: 'fault', vector: 'UD', flags: 0 })).toBe('#UD [flags -]');
    expect(formatObservation({ kind: 'fault', vector: 'GP', flags: 0 })).toBe('#GP(0) [flags -]');
    expect(formatObservation({ kind: 'vmexit', reason: 18, flags: 0 })).toBe('VM exit (basic reason 18) [flags -]');
    expect(formatObservation({ kind: 'vmsucceed', flags: 0 })).toBe('VMsucceed [flags -]');
    expect(formatObservation({ kind: 'vmsucceed', value: '0x4', flags: 0 })).toBe('VMsucceed 0x4 [flags -]');
    expect(formatObservation({ kind: 'vmfail-invalid', flags: 1 })).toBe('VMfailInvalid [flags CF]');
    expect(formatObservation({ kind: 'vmfail-valid', error: 10, flags: 0x40 })).toBe('VMfailValid(10) [flags ZF]');
    expect(formatObservation({ kind: 'ok', flags: 0 })).toBe('ok [flags -]');
    expect(formatObservation({ kind: 'unimplemented', what: 'VM entry', flags: 0 })).toBe('unimplemented: VM entry [flags -]');
  });
});
