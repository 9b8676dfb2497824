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
    [{ kind: 'vmread', cpu: 0, encoding: '0x4400' }, 'cpu0 VMREAD 0x4400 (VM-instruction error)'],
    [{ kind: 'vmread', cpu: 0, encoding: '0x4400', form: 'memory' }, 'cpu0 VMREAD 0x4400 (VM-instruction error) -> memory'],
    [{ kind: 'vmread', cpu: 0, encoding: '0x1000000004400' }, 'cpu0 VMREAD 0x1000000004400'],
    [{ kind: 'vmwrite', cpu: 0, encoding: '0x1', value: '0x1' }, 'cpu0 VMWRITE 0x1 := 0x1'],
    [{ kind: 'vmwrite', cpu: 0, encoding: '0x681e', value: '0x1', form: 'memory' }, 'cpu0 VMWRITE 0x681e (Guest RIP) := 0x1 (memory source)'],
    [{ kind: 'invvpid', cpu: 0, type: '0x0', descriptor: ['0x1', '0x2'] }, 'cpu0 INVVPID type 0x0, {0x1, 0x2}'],
    [{ kind: 'vmfunc', cpu: 0, eax: '0x0', ecx: '0x1' }, 'cpu0 VMFUNC eax=0x0 ecx=0x1'],
    [{ kind: 'vmlaunch', cpu: 0 }, 'cpu0 VMLAUNCH'],
    [{ kind: 'mov-cr0', cpu: 0, value: '0x1' }, 'cpu0 MOV CR0 := 0x1'],
    [{ kind: 'mov-cr4', cpu: 0, value: '0x1' }, 'cpu0 MOV CR4 := 0x1'],
    [{ kind: 'mov-cr4', cpu: 0, value: '0x2020', gpr: 9 }, 'cpu0 MOV CR4 <- R9 := 0x2020'],
    [{ kind: 'cpuid', cpu: 0, eax: '0x1', ecx: '0x0' }, 'cpu0 CPUID eax=0x1 ecx=0x0'],
    [{ kind: 'hlt', cpu: 1 }, 'cpu1 HLT'],
    [{ kind: 'invlpg', cpu: 0, address: '0x1000' }, 'cpu0 INVLPG [0x1000]'],
    [{ kind: 'rdpmc', cpu: 0, ecx: '0x1' }, 'cpu0 RDPMC ecx=0x1'],
    [{ kind: 'mov-from-cr', cpu: 0, cr: 3, gpr: 0 }, 'cpu0 MOV RAX <- CR3'],
    [{ kind: 'mov-cr3', cpu: 0, value: '0x21000', gpr: 15 }, 'cpu0 MOV CR3 <- R15 := 0x21000'],
    [{ kind: 'mov-cr8', cpu: 0, value: '0x2' }, 'cpu0 MOV CR8 <- RAX := 0x2'],
    [{ kind: 'lmsw', cpu: 0, value: '0xb' }, 'cpu0 LMSW AX := 0xb'],
    [{ kind: 'lmsw', cpu: 0, value: '0xb', form: 'memory', address: '0x3000' }, 'cpu0 LMSW [0x3000] := 0xb'],
    [{ kind: 'mov-dr', cpu: 0, direction: 'to', dr: 7, gpr: 1, value: '0x400' }, 'cpu0 MOV DR7 <- RCX := 0x400'],
    [{ kind: 'mov-dr', cpu: 0, direction: 'from', dr: 6, gpr: 8 }, 'cpu0 MOV R8 <- DR6'],
    [{ kind: 'rdmsr', cpu: 0, ecx: '0xc0000080' }, 'cpu0 RDMSR 0xc0000080'],
    [{ kind: 'wrmsr', cpu: 0, ecx: '0x174', value: '0x8' }, 'cpu0 WRMSR 0x174 := 0x8'],
    [{ kind: 'io', cpu: 0, direction: 'out', port: 0x80, size: 1, immediate: true }, 'cpu0 OUT 0x80 (1 byte)'],
    [{ kind: 'io', cpu: 0, direction: 'in', port: 0x3f8, size: 4, string: true, rep: true, address: '0x6000' }, 'cpu0 REP INS 0x3f8 (DX) [0x6000] (4 bytes)'],
    [{ kind: 'xsetbv', cpu: 0, ecx: '0x0', value: '0x3' }, 'cpu0 XSETBV XCR0 := 0x3'],
    [{ kind: 'exception', cpu: 0, vector: 14, errorCode: '0x2', address: '0x7f0000' }, 'cpu0 raise #PF(0x2) at 0x7f0000'],
    [{ kind: 'exception', cpu: 0, vector: 6 }, 'cpu0 raise #UD'],
    [{ kind: 'exception', cpu: 0, vector: 9 }, 'cpu0 raise #vector 9'],
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
    expect(formatObservation({ kind: 'vmexit', reason: 18, flags: 0 })).toBe('VM exit (basic reason 18, VMCALL) [flags -]');
    expect(formatObservation({ kind: 'vmexit', reason: 35, flags: 0 })).toBe('VM exit (basic reason 35) [flags -]');
    expect(formatObservation({ kind: 'fault', vector: 'PF', errorCode: '0x2', flags: 0 })).toBe('#PF(0x2) [flags -]');
    expect(formatObservation({ kind: 'ok', value: '0x80000031', flags: 0 })).toBe('ok, value 0x80000031 [flags -]');
    expect(formatObservation({ kind: 'vmentry', flags: 0 })).toBe('VM entry (now running the guest) [flags -]');
    expect(formatObservation({ kind: 'vmentry', injected: { vector: 13, type: 3, errorCode: '0x0' }, flags: 0 })).toBe(
      'VM entry (now running the guest; injected vector 13, type 3, error code 0x0) [flags -]',
    );
    expect(formatObservation({ kind: 'vmsucceed', flags: 0 })).toBe('VMsucceed [flags -]');
    expect(formatObservation({ kind: 'vmsucceed', value: '0x4', flags: 0 })).toBe('VMsucceed 0x4 [flags -]');
    expect(formatObservation({ kind: 'vmfail-invalid', flags: 1 })).toBe('VMfailInvalid [flags CF]');
    expect(formatObservation({ kind: 'vmfail-valid', error: 10, flags: 0x40 })).toBe('VMfailValid(10) [flags ZF]');
    expect(formatObservation({ kind: 'ok', flags: 0 })).toBe('ok [flags -]');
    expect(formatObservation({ kind: 'unimplemented', what: 'VM entry', flags: 0 })).toBe('unimplemented: VM entry [flags -]');
  });
});
