/**
 * RDMSR and WRMSR, from SDM Vol. 3C, December 2023, §26.1.1 "Relative Priority of Faults and VM
 * Exits" (#GP at CPL 3 before the exit; the exit before a non-existent MSR's #GP), §26.1.3
 * "Instructions That Cause VM Exits Conditionally" (without MSR bitmaps every access exits; with
 * them the bit for ECX, and ECX outside 0-1FFFH and C0000000H-C0001FFFH always exits), §25.6.9
 * "MSR-Bitmap Address" (read-low 0, read-high 1024, write-low 2048, write-high 3072), Appendix C
 * (reasons 31, 32), Vol. 3D Appendix A (the VMX capability MSRs), and the Vol. 2 pages.
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../../model/index.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { cpuOf } from '../../../model/state.ts';
import { core2, exit, expectNotModelled, expectOnly, expectStep, fresh, gp, hex, ok, patchCpu, store } from '../helpers.ts';
import { bit, guestControls, guestWith, readValue, RIP, ripOf } from './guest-setup.ts';

const rdmsr = (ecx: bigint) => ({ kind: 'rdmsr', cpu: 0, ecx: hex(ecx) }) as const;
const wrmsr = (ecx: bigint, value = 0n) => ({ kind: 'wrmsr', cpu: 0, ecx: hex(ecx), value: hex(value) }) as const;
const BITMAPS = 0x40000n;
const withBitmaps = () => guestWith([[FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, bit(PRIMARY_CONTROL.USE_MSR_BITMAPS)], [FIELD.MSR_BITMAPS_ADDRESS, BITMAPS]]);
const FEATURE_CONTROL = 0x3an;
const EFER = 0xc000_0080n;

describe('RDMSR', () => {
  it('#GP(0) at CPL 3 before the exit', () => {
    expectOnly(guestControls(0n, undefined, { cpl: 3 }), rdmsr(FEATURE_CONTROL), gp(), 'rdmsr.gp-cpl');
  });
  it('exits without MSR bitmaps (reason 31), even for an MSR that does not exist', () => {
    expectOnly(guestControls(0n), rdmsr(0x4000_1234n), exit(EXIT_REASON.RDMSR), 'rdmsr.vm-exit');
  });
  it('with MSR bitmaps: the read-low bit of 3AH (byte 7, bit 2) decides; RIP past 2 bytes without an exit', () => {
    expectOnly(store(withBitmaps(), BITMAPS + 4n, 0x0400_0000), rdmsr(FEATURE_CONTROL), exit(EXIT_REASON.RDMSR), 'rdmsr.vm-exit');
    const after = expectOnly(withBitmaps(), rdmsr(FEATURE_CONTROL), ok(), 'rdmsr.known');
    expect(ripOf(after)).toBe(RIP + 2n);
  });
  it('with MSR bitmaps: IA32_EFER by the read-high bitmap (byte 1024 + 16, bit 0); MSRs outside both ranges always exit', () => {
    expectOnly(store(withBitmaps(), BITMAPS + 1024n + 16n, 1), rdmsr(EFER), exit(EXIT_REASON.RDMSR), 'rdmsr.vm-exit');
    expectOnly(withBitmaps(), rdmsr(0x4000_0000n), exit(EXIT_REASON.RDMSR), 'rdmsr.vm-exit');
  });
  it('reads IA32_FEATURE_CONTROL and the MSRs the model knows', () => {
    expect(readValue(patchCpu(fresh(), 0, { featureControl: 5n }), rdmsr(FEATURE_CONTROL))).toBe('0x5');
    expect(readValue(patchCpu(fresh(), 0, { msrs: new Map([[0x277, 0x0007_0406_0007_0406n]]) }), rdmsr(0x277n))).toBe('0x7040600070406');
  });
  it('reads the VMX capability MSRs of the profile; #GP(0) for one the processor lacks', () => {
    const basic = fresh().profile.data.msrs.IA32_VMX_BASIC;
    expect(readValue(fresh(), rdmsr(0x480n))).toBe(hex(BigInt(basic)));
    expectOnly(fresh(), rdmsr(0x480n), ok(), 'rdmsr.capability-msr');
    expectOnly(fresh(core2()), rdmsr(0x491n), gp(), 'rdmsr.capability-msr');
  });
  it('an MSR the model does not know: the read or #GP(0)', () => {
    expectStep(fresh(), rdmsr(0x1234n), ok(), 'rdmsr.model-specific');
    expectStep(fresh(), rdmsr(0x1234n), gp(), 'rdmsr.model-specific');
  });
});

describe('x2APIC MSRs in a guest', () => {
  it('with "virtualize x2APIC mode" and their bitmap bits clear: not modelled (virtualized); without it: like any MSR', () => {
    const controls = (secondary: bigint) =>
      guestWith([
        [FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, bit(PRIMARY_CONTROL.USE_MSR_BITMAPS) | bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS)],
        [FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, secondary],
        [FIELD.MSR_BITMAPS_ADDRESS, BITMAPS],
      ]);
    expectNotModelled(controls(bit(SECONDARY_CONTROL.VIRTUALIZE_X2APIC_MODE)), wrmsr(0x808n, 0x10n), 'msr-access.x2apic-virtualization');
    expectNotModelled(controls(bit(SECONDARY_CONTROL.VIRTUALIZE_X2APIC_MODE)), rdmsr(0x808n), 'msr-access.x2apic-virtualization');
    expectStep(controls(0n), rdmsr(0x808n), ok(), 'rdmsr.model-specific');
  });
});

describe('WRMSR', () => {
  it('#GP(0) at CPL 3 before the exit', () => {
    expectOnly(guestControls(0n, undefined, { cpl: 3 }), wrmsr(0x1234n), gp(), 'wrmsr.gp-cpl');
  });
  it('exits without MSR bitmaps (reason 32); with them by the write-low bit (byte 2048 + 7, bit 2 for 3AH)', () => {
    expectOnly(guestControls(0n), wrmsr(FEATURE_CONTROL), exit(EXIT_REASON.WRMSR), 'wrmsr.vm-exit');
    expectOnly(store(withBitmaps(), BITMAPS + 2048n + 4n, 0x0400_0000), wrmsr(FEATURE_CONTROL), exit(EXIT_REASON.WRMSR), 'wrmsr.vm-exit');
  });
  it('IA32_FEATURE_CONTROL in a guest is locked: #GP(0); also as a write-feature-control operation', () => {
    const locked = patchCpu(withBitmaps(), 0, { featureControl: 5n });
    expectOnly(locked, wrmsr(FEATURE_CONTROL, 5n), gp(), 'wrmsr.gp-feature-control-locked');
    expectOnly(locked, { kind: 'write-feature-control', cpu: 0, value: '0x5' }, gp(), 'wrmsr.gp-feature-control-locked');
  });
  it('outside VMX, IA32_FEATURE_CONTROL follows write-feature-control', () => {
    expectOnly(patchCpu(fresh(), 0, { featureControl: 0n }), wrmsr(FEATURE_CONTROL, 5n), ok(), 'write-feature-control.ok');
  });
  it('the VMX capability MSRs are read-only: #GP(0)', () => {
    expectOnly(fresh(), wrmsr(0x480n), gp(), 'wrmsr.gp-capability-msr');
  });
  // IA32_EFER: Vol. 3A §2.2.1 "Extended Feature Enable Register" (bits 7:1, 9, 63:12 reserved; LMA
  // read-only) and §4.1.2 "Paging-Mode Enabling" (LME cannot change while CR0.PG = 1: #GP(0)).
  it('IA32_EFER: a reserved bit is #GP(0)', () => {
    expectOnly(fresh(), wrmsr(EFER, 0xd02n), gp(), 'wrmsr.efer-reserved');
    expectOnly(fresh(), wrmsr(EFER, 0x1_0000_0d00n), gp(), 'wrmsr.efer-reserved');
  });
  it('IA32_EFER: LME changed while paging is on is #GP(0), in 64-bit mode (clearing) and in 32-bit paging (setting)', () => {
    expectOnly(fresh(), wrmsr(EFER, 0x400n), gp(), 'wrmsr.efer-lme-while-paging');
    expectOnly(patchCpu(fresh(), 0, { eferLma: 0, eferLme: 0, csL: 0 }), wrmsr(EFER, 0x100n), gp(), 'wrmsr.efer-lme-while-paging');
  });
  it('IA32_EFER: SCE and NXE written, LME and LMA as they are: completes, and the MSR then holds the value', () => {
    const after = expectOnly(fresh(), wrmsr(EFER, 0xd01n), ok(), 'wrmsr.efer-write');
    expect(cpuOf(after, 0).msrs.get(0xc000_0080)).toBe(0xd01n);
  });
  it('IA32_EFER: LME set with paging off is written (LMA stays 0 until paging is enabled)', () => {
    const off = patchCpu(fresh(), 0, { eferLma: 0, eferLme: 0, csL: 0, cr0: 0x31n });
    const after = expectOnly(off, wrmsr(EFER, 0x100n), ok(), 'wrmsr.efer-write');
    expect(cpuOf(after, 0)).toMatchObject({ eferLme: 1, eferLma: 0 });
  });
  it('IA32_EFER: LMA is read-only; a value with a different LMA is ignored in that bit or #GP(0), both allowed', () => {
    const off = patchCpu(fresh(), 0, { eferLma: 0, eferLme: 0, csL: 0, cr0: 0x31n });
    const verdict = step(off, wrmsr(EFER, 0x400n));
    expect(verdict.kind === 'defined' ? verdict.branches.map((b) => [b.expected.kind, b.rule.id]) : verdict).toEqual([
      ['ok', 'wrmsr.efer-lma-read-only'],
      ['fault', 'wrmsr.efer-lma-read-only'],
    ]);
    const after = expectStep(off, wrmsr(EFER, 0x400n), ok(), 'wrmsr.efer-lma-read-only');
    expect(cpuOf(after, 0).msrs.get(0xc000_0080)).toBe(0n);
  });
  it('an MSR the model does not know: the write (its value then unknown) or #GP(0)', () => {
    const known = patchCpu(fresh(), 0, { msrs: new Map([[0x277, 6n]]) });
    const after = expectStep(known, wrmsr(0x277n, 7n), ok(), 'wrmsr.model-specific');
    expect(cpuOf(after, 0).msrs.has(0x277)).toBe(false);
    expectStep(known, wrmsr(0x277n, 7n), gp(), 'wrmsr.model-specific');
  });
});
