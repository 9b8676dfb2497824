/**
 * The guest operations' ordinary behaviour and operand checks outside VMX non-root operation, and
 * the cases of VMX non-root operation impl/ answers `unimplemented` for. Expected values from SDM
 * Vol. 2B, December 2023 ("MOV—Move to/from Control Registers", "WRMSR", "XSETBV"), Vol. 3A §2.5
 * "Control Registers", §4.4.1 "PDPTE Registers", Vol. 3C §24.7 (IA32_FEATURE_CONTROL lock), and
 * impl/README.md for the model-specific choices.
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { compile, createImplMachine, runCompiled, STATUS_FAULT, STATUS_GUEST_UNIMPLEMENTED } from '../../../impl/index.ts';
import type { Operation } from '../../../spec/operations.ts';
import { GP, Rig, SKYLAKE, UD } from '../fixtures.ts';
import { bit, exit, Guest, OK } from './guest-rig.ts';

const value = (text: string) => ({ kind: 'ok', value: text, flags: 0 }) as const;

describe('MOV CR3 outside VMX non-root operation', () => {
  it('loads CR3; #GP(0) for bits beyond the physical-address width; bit 63 is "no flush" with CR4.PCIDE = 1', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'mov-cr3', cpu: 0, value: '0x123000' })).toEqual(OK);
    expect(rig.step({ kind: 'mov-from-cr', cpu: 0, cr: 3, gpr: 0 })).toEqual(value('0x123000'));
    expect(rig.step({ kind: 'mov-cr3', cpu: 0, value: '0x8000000000001000' })).toEqual(GP());
    expect(rig.step({ kind: 'mov-cr3', cpu: 0, value: '0x0' })).toEqual(OK);
    expect(rig.step({ kind: 'mov-cr4', cpu: 0, value: '0x22020' })).toEqual(OK);
    expect(rig.step({ kind: 'mov-cr3', cpu: 0, value: '0x8000000000001000' })).toEqual(OK);
    expect(rig.step({ kind: 'mov-from-cr', cpu: 0, cr: 3, gpr: 0 })).toEqual(value('0x1000'));
  });

  it('with PAE paging outside IA-32e mode loads the PDPTEs: #GP(0) for a present one with a reserved bit', () => {
    const rig = new Rig();
    rig.set('cs.l', 0);
    rig.set('efer.lma', 0);
    rig.set('efer.lme', 0);
    rig.step({ kind: 'write-memory', cpu: 0, address: '0x9000', value: '0x7' });
    expect(rig.step({ kind: 'mov-cr3', cpu: 0, value: '0x9000' })).toEqual(GP());
    expect(rig.step({ kind: 'mov-cr3', cpu: 0, value: '0xa000' })).toEqual(OK);
    // Outside 64-bit mode the source has 32 bits; MOV from CR3 reads 32.
    expect(rig.step({ kind: 'mov-cr3', cpu: 0, value: '0x10000b000' })).toEqual(OK);
    expect(rig.step({ kind: 'mov-from-cr', cpu: 0, cr: 3, gpr: 9 })).toEqual(value('0xb000'));
  });

  it('raises #GP(0) for MOV from CR0 in virtual-8086 mode', () => {
    const rig = new Rig();
    rig.set('rflags.vm', 1);
    expect(rig.step({ kind: 'mov-from-cr', cpu: 0, cr: 0, gpr: 0 })).toEqual(GP());
  });
});

describe('WRMSR, RDMSR, XSETBV outside VMX non-root operation', () => {
  it('IA32_FEATURE_CONTROL: writable until locked, then #GP(0)', () => {
    const rig = new Rig(SKYLAKE);
    expect(rig.step({ kind: 'rdmsr', cpu: 0, ecx: '0x3a' })).toEqual(OK);
    // The skylake profile starts locked (featureControl), so WRMSR faults.
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0x3a', value: '0x5' })).toEqual(GP());
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0x1b', value: '0x0' })).toMatchObject({ kind: 'unimplemented' });
    rig.set('cpl', 3);
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0x3a', value: '0x5' })).toEqual(GP());
  });

  it('XSETBV: #GP(0) for ECX not 0, x87 clear, AVX without SSE; x87|SSE completes; other components are unimplemented', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'mov-cr4', cpu: 0, value: '0x42020' })).toEqual(OK);
    expect(rig.step({ kind: 'xsetbv', cpu: 0, ecx: '0x1', value: '0x3' })).toEqual(GP());
    expect(rig.step({ kind: 'xsetbv', cpu: 0, ecx: '0x0', value: '0x2' })).toEqual(GP());
    expect(rig.step({ kind: 'xsetbv', cpu: 0, ecx: '0x0', value: '0x5' })).toEqual(GP());
    expect(rig.step({ kind: 'xsetbv', cpu: 0, ecx: '0x0', value: '0x3' })).toEqual(OK);
    expect(rig.step({ kind: 'xsetbv', cpu: 0, ecx: '0x0', value: '0x7' })).toMatchObject({ kind: 'unimplemented' });
    rig.set('cpl', 3);
    expect(rig.step({ kind: 'xsetbv', cpu: 0, ecx: '0x0', value: '0x3' })).toEqual(GP());
  });

  it('RDTSCP: #UD where the profile does not allow "enable RDTSCP" (Core 2)', async () => {
    const { CORE2 } = await import('../fixtures.ts');
    expect(new Rig(CORE2).step({ kind: 'rdtscp', cpu: 0 })).toEqual(UD());
    expect(new Rig().step({ kind: 'rdtscp', cpu: 0 })).toEqual(OK);
  });
});

describe('operand checks (caller bugs throw)', () => {
  const bad: [string, unknown, RegExp][] = [
    ['a register out of range', { kind: 'mov-cr3', cpu: 0, value: '0x0', gpr: 16 }, /gpr must be/],
    ['a control register MOV from CR cannot reach', { kind: 'mov-from-cr', cpu: 0, cr: 2, gpr: 0 }, /cr must be/],
    ['a debug register out of range', { kind: 'mov-dr', cpu: 0, direction: 'to', dr: 8, gpr: 0 }, /dr must be/],
    ['a bad MOV DR direction', { kind: 'mov-dr', cpu: 0, direction: 'up', dr: 0, gpr: 0 }, /direction must be/],
    ['a bad LMSW form', { kind: 'lmsw', cpu: 0, value: '0x1', form: 'reg' }, /form must be/],
    ['a bad I/O direction', { kind: 'io', cpu: 0, direction: 'sideways', port: 0, size: 1 }, /direction must be/],
    ['a port out of range', { kind: 'io', cpu: 0, direction: 'in', port: 0x10000, size: 1 }, /port must be/],
    ['an I/O size of 3', { kind: 'io', cpu: 0, direction: 'in', port: 0, size: 3 }, /size must be/],
    ['REP without string', { kind: 'io', cpu: 0, direction: 'in', port: 0, size: 1, rep: true }, /rep needs string/],
    ['an immediate port above FFH', { kind: 'io', cpu: 0, direction: 'in', port: 0x100, size: 1, immediate: true }, /immediate needs/],
    ['a non-boolean string flag', { kind: 'io', cpu: 0, direction: 'in', port: 0, size: 1, string: 1 }, /must be a boolean/],
    ['an error code wider than 32 bits', { kind: 'exception', cpu: 0, vector: 13, errorCode: '0x100000000' }, /32 bits/],
  ];
  for (const [what, op, message] of bad) {
    it(`for ${what}`, () => {
      expect(() => new Rig().step(op as Operation)).toThrow(message);
    });
  }
});

describe('the fast API runs compiled guest operations', () => {
  it('with the same statuses as the engine', () => {
    const machine = createImplMachine({ profile: SKYLAKE, logicalProcessors: 1 });
    const program = compile([
      { kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' },
      { kind: 'exception', cpu: 0, vector: 14, errorCode: '0x2' },
      { kind: 'wrmsr', cpu: 0, ecx: '0xc0000081', value: '0x0' },
      { kind: 'mov-dr', cpu: 0, direction: 'from', dr: 6, gpr: 0 },
      { kind: 'io', cpu: 0, direction: 'out', port: 0x80, size: 1, immediate: true },
    ]);
    expect([...runCompiled(machine, program)]).toEqual([0, STATUS_FAULT, STATUS_GUEST_UNIMPLEMENTED, 0, 0]);
    expect([...machine.guest.fault]).toEqual([14, 1, 2]);
    expect(machine.guest.value[0]! >>> 0).toBe(0xffff_0ff0);
  });
});

describe('unimplemented in VMX non-root operation', () => {
  it('a guest MOV to CR3 that loads PAE PDPTEs through EPT', () => {
    const guest = new Guest({
      legacy: true,
      changes: { SECONDARY_PROCESSOR_BASED_CONTROLS: (v) => v | bit(SECONDARY_CONTROL.ENABLE_EPT) },
    });
    expect(guest.step({ kind: 'mov-cr3', cpu: 0, value: '0x8000' })).toMatchObject({ kind: 'unimplemented' });
  });

  it('a 32-bit guest: MOV CR3 loads the PDPTEs from memory without EPT, MOV CR8 is #UD', () => {
    const guest = new Guest({ legacy: true, changes: { PRIMARY_PROCESSOR_BASED_CONTROLS: (v) => v | bit(PRIMARY_CONTROL.CR8_LOAD_EXITING) } });
    // CR3 stays on the guest environment's PDPTEs (test/impl/guest-environment.ts), so that the
    // #UD is delivered through the guest IDT.
    expect(guest.step({ kind: 'mov-cr3', cpu: 0, value: '0x7000' })).toEqual(OK);
    expect(guest.step({ kind: 'mov-cr8', cpu: 0, value: '0x1' })).toEqual(UD());
    expect(guest.step({ kind: 'mov-cr0', cpu: 0, value: '0x80000031' })).toEqual(OK);
  });

  it('"unrestricted guest" lets MOV to CR0 clear PG and PE in the guest', () => {
    const changes = {
      SECONDARY_PROCESSOR_BASED_CONTROLS: (v: bigint) => v | bit(SECONDARY_CONTROL.ENABLE_EPT) | bit(SECONDARY_CONTROL.UNRESTRICTED_GUEST),
    };
    const guest = new Guest({ legacy: true, changes });
    expect(guest.step({ kind: 'mov-cr0', cpu: 0, value: '0x31' })).toEqual(OK);
    expect(guest.step({ kind: 'mov-from-cr', cpu: 0, cr: 0, gpr: 0 })).toEqual(value('0x31'));
    expect(new Guest({ legacy: true }).step({ kind: 'mov-cr0', cpu: 0, value: '0x31' })).toEqual(GP());
  });

  it('an I/O instruction exit of INS reports ES and a 32-bit address size outside 64-bit mode', () => {
    const guest = new Guest({ legacy: true, changes: { PRIMARY_PROCESSOR_BASED_CONTROLS: (v) => v | bit(PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING) } });
    expect(guest.step({ kind: 'io', cpu: 0, direction: 'in', port: 0x60, size: 4, string: true, address: '0x100002000' })).toEqual(exit(30));
    expect([guest.info.instructionInformation, guest.info.linearLo, guest.info.linearHi]).toEqual([1 << 7, 0x2000, 0]);
  });
});
