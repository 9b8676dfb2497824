/**
 * CPUID, HLT, INVD, WBINVD, INVLPG and XSETBV, from SDM Vol. 3C, December 2023, §26.1.1 "Relative
 * Priority of Faults and VM Exits" (privilege faults and #UD before the exit), §26.1.2
 * "Instructions That Cause VM Exits Unconditionally" (CPUID, INVD, XSETBV), §26.1.3 "Instructions
 * That Cause VM Exits Conditionally" (HLT, INVLPG and WBINVD exiting), Appendix C (reasons 10, 12,
 * 13, 14, 54, 55) and the Vol. 2 pages (#GP(0) at CPL > 0; XSETBV #UD without CR4.OSXSAVE, #GP for
 * ECX other than 0, XCR0 bit 0 clear, AVX without SSE).
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { exit, expectNotModelled, expectOnly, fresh, gp, hex, ok, patchCpu, ud, withCurrent } from '../helpers.ts';
import { bit, guestControls, guestWith, RIP, ripOf } from './guest-setup.ts';

const OSXSAVE = bit(18);
const cpuid = { kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' } as const;
const hlt = { kind: 'hlt', cpu: 0 } as const;
const invd = { kind: 'invd', cpu: 0 } as const;
const wbinvd = { kind: 'wbinvd', cpu: 0 } as const;
const invlpg = { kind: 'invlpg', cpu: 0, address: '0x7000' } as const;
const xsetbv = (ecx: bigint, value: bigint) => ({ kind: 'xsetbv', cpu: 0, ecx: hex(ecx), value: hex(value) }) as const;
const user = { cpl: 3 };

describe('CPUID', () => {
  it('completes outside VMX non-root operation', () => {
    expectOnly(fresh(), cpuid, ok(), 'cpuid.ok');
  });
  it('always exits in VMX non-root operation (reason 10), RIP left at the instruction', () => {
    expectOnly(guestWith(), cpuid, exit(EXIT_REASON.CPUID), 'cpuid.vm-exit');
  });
  it('needs no control: exits in a guest whose controls are unknown', () => {
    expectOnly(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), cpuid, exit(EXIT_REASON.CPUID), 'cpuid.vm-exit');
  });
});

describe('HLT', () => {
  it('#GP(0) at CPL 3, also in a guest with "HLT exiting" (privilege fault first)', () => {
    expectOnly(patchCpu(fresh(), 0, user), hlt, gp(), 'hlt.gp-cpl');
    expectOnly(guestControls(bit(PRIMARY_CONTROL.HLT_EXITING), undefined, user), hlt, gp(), 'hlt.gp-cpl');
  });
  it('exits with "HLT exiting" = 1 (reason 12)', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.HLT_EXITING)), hlt, exit(EXIT_REASON.HLT), 'hlt.vm-exit');
  });
  it('completes in a guest without it, RIP moved past its 1 byte', () => {
    const after = expectOnly(guestControls(0n), hlt, ok(), 'hlt.ok');
    expect(ripOf(after)).toBe(RIP + 1n);
  });
  it('is not modelled when the primary controls are unknown', () => {
    expectNotModelled(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), hlt, 'non-root.controls-unknown');
  });
});

describe('INVD', () => {
  it('#GP(0) at CPL 3 before the unconditional exit', () => {
    expectOnly(guestWith([], user), invd, gp(), 'invd.gp-cpl');
  });
  it('always exits in VMX non-root operation at CPL 0 (reason 13)', () => {
    expectOnly(guestWith(), invd, exit(EXIT_REASON.INVD), 'invd.vm-exit');
  });
  it('completes in VMX root operation', () => {
    expectOnly(withCurrent(), invd, ok(), 'invd.ok');
  });
});

describe('WBINVD', () => {
  const exiting = bit(SECONDARY_CONTROL.WBINVD_EXITING);
  it('#GP(0) at CPL 3', () => {
    expectOnly(guestControls(0n, exiting, user), wbinvd, gp(), 'wbinvd.gp-cpl');
  });
  it('exits with the secondary control "WBINVD exiting" (reason 54)', () => {
    expectOnly(guestControls(0n, exiting), wbinvd, exit(EXIT_REASON.WBINVD_OR_WBNOINVD), 'wbinvd.vm-exit');
  });
  it('completes when the secondary controls are not activated, whatever their field says', () => {
    const state = guestWith([[FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, exiting]]);
    expectOnly(state, wbinvd, ok(), 'wbinvd.ok');
  });
});

describe('INVLPG', () => {
  it('#GP(0) at CPL 3', () => {
    expectOnly(patchCpu(fresh(), 0, user), invlpg, gp(), 'invlpg.gp-cpl');
  });
  it('exits with "INVLPG exiting" (reason 14)', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.INVLPG_EXITING)), invlpg, exit(EXIT_REASON.INVLPG), 'invlpg.vm-exit');
  });
  it('completes without it, RIP moved past its 3 bytes', () => {
    expect(ripOf(expectOnly(guestControls(0n), invlpg, ok(), 'invlpg.ok'))).toBe(RIP + 3n);
  });
});

describe('XSETBV', () => {
  const withOsxsave = (state = fresh()) => patchCpu(state, 0, { cr4: 0x2020n | OSXSAVE });
  it('#UD without CR4.OSXSAVE, in a guest too (before the unconditional exit)', () => {
    expectOnly(fresh(), xsetbv(0n, 1n), ud(), 'xsetbv.ud-osxsave');
    expectOnly(guestWith(), xsetbv(0n, 1n), ud(), 'xsetbv.ud-osxsave');
  });
  it('#GP(0) at CPL 3 before the exit', () => {
    expectOnly(withOsxsave(guestWith([], user)), xsetbv(0n, 1n), gp(), 'xsetbv.gp-cpl');
  });
  it('exits in VMX non-root operation (reason 55) even with ECX naming no XCR', () => {
    expectOnly(withOsxsave(guestWith()), xsetbv(5n, 0n), exit(EXIT_REASON.XSETBV), 'xsetbv.vm-exit');
  });
  it('#GP(0) for ECX 1, for XCR0 bit 0 clear, for AVX without SSE', () => {
    expectOnly(withOsxsave(), xsetbv(1n, 1n), gp(), 'xsetbv.gp-register');
    expectOnly(withOsxsave(), xsetbv(0n, 2n), gp(), 'xsetbv.gp-x87-clear');
    expectOnly(withOsxsave(), xsetbv(0n, 5n), gp(), 'xsetbv.gp-avx-without-sse');
  });
  it('x87 and SSE are written; other state components depend on CPUID leaf 0DH (not modelled)', () => {
    expectOnly(withOsxsave(), xsetbv(0n, 3n), ok(), 'xsetbv.ok');
    expectNotModelled(withOsxsave(), xsetbv(0n, 7n), 'xsetbv.features-not-modelled');
  });
});
