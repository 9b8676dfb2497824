/**
 * RDTSC, RDTSCP and RDPMC, from SDM Vol. 3C, December 2023, §26.1.1 "Relative Priority of Faults
 * and VM Exits", §26.1.3 "Instructions That Cause VM Exits Conditionally" ("RDTSC exiting" for
 * both RDTSC and RDTSCP, "RDPMC exiting"), §26.3 "Changes to Instruction Behavior in VMX Non-Root
 * Operation" (RDTSCP is #UD with "enable RDTSCP" = 0), Appendix C (reasons 15, 16, 51) and the
 * Vol. 2B pages (#GP(0) with CR4.TSD = 1 at CPL > 0; RDPMC #GP(0) with CR4.PCE = 0 at CPL > 0, and
 * for an ECX that names no counter).
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { core2, exit, expectNotModelled, expectOnly, expectStep, fresh, gp, inRoot, ok, patchCpu, ud } from '../helpers.ts';
import { bit, guestControls, RIP, ripOf } from './guest-setup.ts';

const TSD = bit(2);
const PCE = bit(8);
const rdtsc = { kind: 'rdtsc', cpu: 0 } as const;
const rdtscp = { kind: 'rdtscp', cpu: 0 } as const;
const rdpmc = { kind: 'rdpmc', cpu: 0, ecx: '0x0' } as const;
const RDTSC_EXITING = bit(PRIMARY_CONTROL.RDTSC_EXITING);
const ENABLE_RDTSCP = bit(SECONDARY_CONTROL.ENABLE_RDTSCP);

describe('RDTSC', () => {
  it('#GP(0) with CR4.TSD = 1 at CPL 3, before "RDTSC exiting"', () => {
    expectOnly(patchCpu(fresh(), 0, { cr4: 0x2020n | TSD, cpl: 3 }), rdtsc, gp(), 'rdtsc.gp-tsd');
    expectOnly(guestControls(RDTSC_EXITING, undefined, { cr4: 0x2020n | TSD, cpl: 3 }), rdtsc, gp(), 'rdtsc.gp-tsd');
  });
  it('reads the counter with CR4.TSD = 1 at CPL 0', () => {
    expectOnly(patchCpu(fresh(), 0, { cr4: 0x2020n | TSD }), rdtsc, ok(), 'rdtsc.ok');
  });
  it('exits with "RDTSC exiting" (reason 16)', () => {
    expectOnly(guestControls(RDTSC_EXITING), rdtsc, exit(EXIT_REASON.RDTSC), 'rdtsc.vm-exit');
  });
  it('completes in a guest without it, RIP past its 2 bytes', () => {
    expect(ripOf(expectOnly(guestControls(0n), rdtsc, ok(), 'rdtsc.ok'))).toBe(RIP + 2n);
  });
});

describe('RDTSCP', () => {
  it('#UD in a guest with "enable RDTSCP" = 0, or without secondary controls, even with "RDTSC exiting"', () => {
    expectOnly(guestControls(RDTSC_EXITING, 0n), rdtscp, ud(), 'rdtscp.ud-not-enabled');
    expectOnly(guestControls(RDTSC_EXITING), rdtscp, ud(), 'rdtscp.ud-not-enabled');
  });
  it('#GP(0) with CR4.TSD = 1 at CPL 3, before the exit', () => {
    expectOnly(guestControls(RDTSC_EXITING, ENABLE_RDTSCP, { cr4: 0x2020n | TSD, cpl: 3 }), rdtscp, gp(), 'rdtscp.gp-tsd');
  });
  it('exits with "RDTSC exiting" and "enable RDTSCP" (reason 51)', () => {
    expectOnly(guestControls(RDTSC_EXITING, ENABLE_RDTSCP), rdtscp, exit(EXIT_REASON.RDTSCP), 'rdtscp.vm-exit');
  });
  it('completes in a guest with "enable RDTSCP" only, and in root operation, RIP past 3 bytes', () => {
    expect(ripOf(expectOnly(guestControls(0n, ENABLE_RDTSCP), rdtscp, ok(), 'rdtscp.ok'))).toBe(RIP + 3n);
    expectOnly(inRoot(), rdtscp, ok(), 'rdtscp.ok');
  });
  it('is not modelled outside a guest on a processor that cannot enable RDTSCP (CPUID not recorded)', () => {
    expectNotModelled(fresh(core2()), rdtscp, 'rdtscp.support-unknown');
  });
});

describe('RDPMC', () => {
  it('#GP(0) with CR4.PCE = 0 at CPL 3, before "RDPMC exiting"', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.RDPMC_EXITING), undefined, { cpl: 3 }), rdpmc, gp(), 'rdpmc.gp-pce');
  });
  it('exits with "RDPMC exiting" (reason 15), at CPL 3 too when CR4.PCE = 1', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.RDPMC_EXITING), undefined, { cpl: 3, cr4: 0x2020n | PCE }), rdpmc, exit(EXIT_REASON.RDPMC), 'rdpmc.vm-exit');
  });
  it('reads a counter or #GP(0) for an ECX naming none (CPUID leaf 0AH is not recorded)', () => {
    expectStep(fresh(), rdpmc, ok(), 'rdpmc.counter-model-specific');
    expectStep(fresh(), rdpmc, gp(), 'rdpmc.counter-model-specific');
  });
});
