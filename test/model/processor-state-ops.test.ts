/**
 * The processor-state operations: MOV to CR0/CR4 (SDM Vol. 3C, December 2023, §24.8 "Restrictions
 * on VMX Operation"; Vol. 2B "MOV—Move to/from Control Registers"), WRMSR to IA32_FEATURE_CONTROL
 * (§24.7 "Enabling and Entering VMX Operation") and `set`.
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

const movCr0 = (value: bigint, cpu = 0) => ({ kind: 'mov-cr0', cpu, value: hex(value) }) as const;
const movCr4 = (value: bigint, cpu = 0) => ({ kind: 'mov-cr4', cpu, value: hex(value) }) as const;
const wrmsr = (value: bigint, cpu = 0) => ({ kind: 'write-feature-control', cpu, value: hex(value) }) as const;
const CR0 = 0x8000_0031n;
const CR4 = 0x2020n;
const guest = (): ModelState => patchCpu(withCurrent(), 0, { vmx: 'non-root' });

describe('MOV to CR0', () => {
  it('is not modelled in VMX non-root operation', () => {
    expectNotModelled(guest(), movCr0(CR0), 'mov-cr0.non-root');
  });

  it('raises #GP(0) in VMX operation for a value that breaks the fixed bits, leaving the flags alone', () => {
    expectOnly(patchCpu(inRoot(), 0, { flags: CF }), movCr0(CR0 & ~0x20n), gp(CF), 'mov-cr0.gp-vmx-fixed-bits');
    expectOnly(patchCpu(inRoot(), 0, { eferLma: 0, csL: 0 }), movCr0(0x20n), gp(), 'mov-cr0.gp-vmx-fixed-bits');
    expectOnly(inRoot(), movCr0(CR0 | (1n << 32n)), gp(), 'mov-cr0.gp-vmx-fixed-bits');
  });

  it('raises #GP(0) in virtual-8086 mode and at CPL > 0, before the value checks and the VMX fixed bits', () => {
    expectOnly(patchCpu(fresh(), 0, { rflagsVm: 1, flags: CF }), movCr0(CR0), gp(CF), 'mov-cr0.gp-virtual-8086');
    expectOnly(patchCpu(fresh(), 0, { rflagsVm: 1, cpl: 3 }), movCr0(0x8000_0030n), gp(), 'mov-cr0.gp-virtual-8086');
    expectOnly(patchCpu(fresh(), 0, { cpl: 3 }), movCr0(CR0), gp(), 'mov-cr0.gp-cpl');
    expectOnly(patchCpu(fresh(), 0, { cpl: 1 }), movCr0(0x8000_0030n), gp(), 'mov-cr0.gp-cpl');
    expectOnly(patchCpu(inRoot(), 0, { cpl: 3 }), movCr0(CR0 & ~0x20n), gp(), 'mov-cr0.gp-cpl');
  });

  it('raises #GP(0) for the invalid combinations PG without PE and NW without CD, in and out of VMX operation', () => {
    expectOnly(fresh(), movCr0(0x8000_0030n), gp(), 'mov-cr0.gp-pg-without-pe');
    expectOnly(inRoot(), movCr0(CR0 & ~1n), gp(), 'mov-cr0.gp-pg-without-pe');
    expectOnly(fresh(), movCr0(CR0 | (1n << 29n)), gp(), 'mov-cr0.gp-nw-without-cd');
    expectOnly(inRoot(), movCr0(CR0 | (1n << 29n)), gp(), 'mov-cr0.gp-nw-without-cd');
  });

  it('raises #GP(0) when the value clears PG in 64-bit mode, before the VMX fixed bits', () => {
    expectOnly(fresh(), movCr0(0x11n), gp(), 'mov-cr0.gp-clear-pg-64-bit-mode');
    expectOnly(inRoot(), movCr0(0x31n), gp(), 'mov-cr0.gp-clear-pg-64-bit-mode');
  });

  it('does not model the remaining checks: bits 63:32 in 64-bit mode, reserved bits, ET, setting PG, leaving IA-32e mode, PCIDE', () => {
    expectNotModelled(fresh(), movCr0(CR0 & ~0x10n), 'mov-cr0.outside-vmx-checks');
    expectNotModelled(fresh(), movCr0(CR0 | 0x40n), 'mov-cr0.outside-vmx-checks');
    expectNotModelled(fresh(), movCr0(CR0 | (1n << 32n)), 'mov-cr0.outside-vmx-checks');
    // Compatibility mode: clearing PG leaves IA-32e mode, which the model does not follow.
    expectNotModelled(patchCpu(fresh(), 0, { csL: 0 }), movCr0(0x31n), 'mov-cr0.outside-vmx-checks');
    // Setting PG turns paging on (and with IA32_EFER.LME may activate IA-32e mode).
    const unpaged = patchCpu(fresh(), 0, { eferLma: 0, csL: 0, cr0: 0x31n });
    expectNotModelled(unpaged, movCr0(CR0), 'mov-cr0.outside-vmx-checks');
    // With CR4.PCIDE = 1, clearing PG is #GP(0) (MOV page); the model leaves PCIDE out.
    const pcide = patchCpu(fresh(), 0, { eferLma: 0, csL: 0, cr4: 0x2_2020n });
    expectNotModelled(pcide, movCr0(0x31n), 'mov-cr0.outside-vmx-checks');
    // A mode switch that also changes ET is not followed either.
    expectNotModelled(patchCpu(fresh(), 0, { eferLma: 0, csL: 0 }), movCr0(0x21n), 'mov-cr0.outside-vmx-checks');
  });

  it('follows the switch back to real-address mode (Vol. 3A §10.9.2): clear PG outside IA-32e mode, then clear PE', () => {
    const legacy = patchCpu(fresh(), 0, { eferLma: 0, csL: 0 });
    const unpaged = expectOnly(legacy, movCr0(0x31n), ok(), 'mov-cr0.mode-switch');
    expect(unpaged.cpus[0]?.cr0).toBe(0x31n);
    const real = expectOnly(unpaged, movCr0(0x30n), ok(), 'mov-cr0.mode-switch');
    expect(real.cpus[0]?.cr0).toBe(0x30n);
    // Both at once (PE and PG cleared by one MOV) is the same switch.
    expectOnly(legacy, movCr0(0x30n), ok(), 'mov-cr0.mode-switch');
    // In real-address mode every VMX instruction is #UD, VMXON first of all.
    expectOnly(layRegion(real, VMXON_0), { kind: 'vmxon', cpu: 0, pointer: hex(VMXON_0) }, { kind: 'fault', vector: 'UD', flags: 0 }, 'vmxon.ud-real-mode');
    // Back to protected mode: setting PE with paging off. VMXON then needs PG (IA32_VMX_CR0_FIXED0).
    const protectedMode = expectOnly(real, movCr0(0x31n), ok(), 'mov-cr0.mode-switch');
    expectOnly(layRegion(protectedMode, VMXON_0), { kind: 'vmxon', cpu: 0, pointer: hex(VMXON_0) }, gp(), 'vmxon.gp-cr0-fixed-bits');
  });

  it('keeps VMX operation out of real-address mode: in VMX operation clearing PE or PG breaks the fixed bits', () => {
    const root = patchCpu(inRoot(), 0, { eferLma: 0, csL: 0 });
    expectOnly(root, movCr0(0x31n), gp(), 'mov-cr0.gp-vmx-fixed-bits');
    expectOnly(patchCpu(root, 0, { cr0: 0x31n }), movCr0(0x30n), gp(), 'mov-cr0.gp-vmx-fixed-bits');
  });

  it('ignores bits 63:32 of the value outside 64-bit mode (32-bit operand)', () => {
    const compat = patchCpu(fresh(), 0, { csL: 0 });
    const after = expectOnly(compat, movCr0(CR0 | (1n << 32n) | 8n), ok(), 'mov-cr0.ok');
    expect(after.cpus[0]?.cr0).toBe(CR0 | 8n);
    expectOnly(patchCpu(inRoot(), 0, { csL: 0 }), movCr0(CR0 | (0xffn << 32n)), ok(), 'mov-cr0.ok');
    expectOnly(compat, movCr0((1n << 32n) | 0x8000_0030n), gp(), 'mov-cr0.gp-pg-without-pe');
  });

  it('loads CR0 otherwise, in and out of VMX operation, with the flags unchanged', () => {
    const after = expectOnly(patchCpu(fresh(), 0, { flags: CF }), movCr0(CR0 | (3n << 29n) | 8n), ok(CF), 'mov-cr0.ok');
    expect(after.cpus[0]?.cr0).toBe(CR0 | (3n << 29n) | 8n);
    expectOnly(inRoot(), movCr0(CR0 | (1n << 16n)), ok(), 'mov-cr0.ok');
  });
});

describe('MOV to CR4', () => {
  it('is not modelled in VMX non-root operation', () => {
    expectNotModelled(guest(), movCr4(CR4), 'mov-cr4.non-root');
  });

  it('raises #GP(0) in VMX operation when clearing CR4.VMXE or setting a bit fixed to 0', () => {
    expectOnly(inRoot(), movCr4(0x20n), gp(), 'mov-cr4.gp-vmx-fixed-bits');
    expectOnly(inRoot(), movCr4(CR4 | (1n << 31n)), gp(), 'mov-cr4.gp-vmx-fixed-bits');
  });

  it('raises #GP(0) in virtual-8086 mode and at CPL > 0, before the value checks and the VMX fixed bits', () => {
    expectOnly(patchCpu(fresh(), 0, { rflagsVm: 1, flags: CF }), movCr4(CR4), gp(CF), 'mov-cr4.gp-virtual-8086');
    expectOnly(patchCpu(inRoot(), 0, { rflagsVm: 1, cpl: 3 }), movCr4(0n), gp(), 'mov-cr4.gp-virtual-8086');
    expectOnly(patchCpu(fresh(), 0, { cpl: 1 }), movCr4(CR4), gp(), 'mov-cr4.gp-cpl');
    expectOnly(patchCpu(inRoot(), 0, { cpl: 3 }), movCr4(0x20n), gp(), 'mov-cr4.gp-cpl');
  });

  it('raises #GP(0) when the value clears PAE while IA32_EFER.LMA = 1 (64-bit and compatibility mode), before the VMX fixed bits', () => {
    expectOnly(fresh(), movCr4(0x2000n), gp(), 'mov-cr4.gp-clear-pae-ia32e');
    expectOnly(patchCpu(fresh(), 0, { csL: 0 }), movCr4(0x2000n), gp(), 'mov-cr4.gp-clear-pae-ia32e');
    expectOnly(inRoot(), movCr4(0n), gp(), 'mov-cr4.gp-clear-pae-ia32e');
  });

  it('does not model changes to bits other than VMXE (reserved and CPUID-dependent bits, PAE outside IA-32e mode)', () => {
    expectNotModelled(fresh(), movCr4(CR4 | 0x80n), 'mov-cr4.outside-vmx-checks');
    expectNotModelled(inRoot(), movCr4(CR4 | 0x80n), 'mov-cr4.outside-vmx-checks');
    expectNotModelled(fresh(), movCr4(CR4 | (1n << 32n)), 'mov-cr4.outside-vmx-checks');
    expectNotModelled(patchCpu(fresh(), 0, { eferLma: 0, csL: 0 }), movCr4(0x2000n), 'mov-cr4.outside-vmx-checks');
  });

  it('ignores bits 63:32 of the value outside 64-bit mode (32-bit operand)', () => {
    const after = expectOnly(patchCpu(fresh(), 0, { csL: 0 }), movCr4(CR4 | (1n << 40n)), ok(), 'mov-cr4.ok');
    expect(after.cpus[0]?.cr4).toBe(CR4);
  });

  it('loads CR4 otherwise: VMXE may be cleared and set outside VMX operation', () => {
    const cleared = expectOnly(fresh(), movCr4(0x20n), ok(), 'mov-cr4.ok');
    expect(cleared.cpus[0]?.cr4).toBe(0x20n);
    expectOnly(cleared, movCr4(CR4), ok(), 'mov-cr4.ok');
  });
});

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
    expect(state.cpus[0]).toMatchObject({ eferLma: 0, csL: 0, cpl: 3, rflagsVm: 1, movSsBlocking: 1 });
    expect(state.cpus[1]).toMatchObject({ eferLma: 1, csL: 1, cpl: 0, rflagsVm: 0, movSsBlocking: 0 });
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
