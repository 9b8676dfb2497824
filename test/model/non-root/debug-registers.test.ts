/**
 * MOV DR, from SDM Vol. 3C, December 2023, §26.1.3 "Instructions That Cause VM Exits
 * Conditionally" ("MOV-DR exiting"; such exits take priority over the privilege #GP and the
 * DR4/DR5 #UD, an exception to §26.1.1), Appendix C (reason 29), and Vol. 2B "MOV—Move to/from
 * Debug Registers" (#GP(0) at CPL > 0 and in virtual-8086 mode, #UD for DR4/DR5 with CR4.DE = 1,
 * #DB with DR7.GD = 1, #GP(0) for bits 63:32 of DR6/DR7 in 64-bit mode).
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { cpuOf } from '../../../model/state.ts';
import { exit, expectOnly, expectStep, fresh, gp, hex, ok, patchCpu, ud } from '../helpers.ts';
import { bit, guestControls, readValue, RIP, ripOf } from './guest-setup.ts';

const toDr = (dr: number, value: bigint, gpr = 0) => ({ kind: 'mov-dr', cpu: 0, direction: 'to', dr, gpr, value: hex(value) }) as const;
const fromDr = (dr: number, gpr = 0) => ({ kind: 'mov-dr', cpu: 0, direction: 'from', dr, gpr }) as const;
const DE = bit(3);
const MOV_DR_EXITING = bit(PRIMARY_CONTROL.MOV_DR_EXITING);

describe('MOV DR', () => {
  it('exits with "MOV-DR exiting" (reason 29) even at CPL 3, in virtual-8086 mode, and for DR4 with CR4.DE = 1', () => {
    expectOnly(guestControls(MOV_DR_EXITING, undefined, { cpl: 3 }), fromDr(7), exit(EXIT_REASON.MOV_DR), 'mov-dr.vm-exit');
    expectOnly(guestControls(MOV_DR_EXITING, undefined, { rflagsVm: 1 }), fromDr(7), exit(EXIT_REASON.MOV_DR), 'mov-dr.vm-exit');
    expectOnly(guestControls(MOV_DR_EXITING, undefined, { cr4: 0x2020n | DE }), toDr(4, 0n), exit(EXIT_REASON.MOV_DR), 'mov-dr.vm-exit');
  });
  it('#GP(0) at CPL 3 without the exit', () => {
    expectOnly(guestControls(0n, undefined, { cpl: 3 }), fromDr(0), gp(), 'mov-dr.gp-cpl');
  });
  it('#UD for DR4/DR5 with CR4.DE = 1; with both conditions either fault', () => {
    expectOnly(patchCpu(fresh(), 0, { cr4: 0x2020n | DE }), fromDr(5), ud(), 'mov-dr.ud-dr4-dr5');
    expectStep(patchCpu(fresh(), 0, { cr4: 0x2020n | DE, cpl: 3 }), fromDr(4), gp(), 'mov-dr.gp-or-ud');
    expectStep(patchCpu(fresh(), 0, { cr4: 0x2020n | DE, cpl: 3 }), fromDr(4), ud(), 'mov-dr.gp-or-ud');
  });
  it('#DB with DR7.GD = 1', () => {
    expectOnly(patchCpu(fresh(), 0, { dr7: 0x2400n }), fromDr(0), { kind: 'fault', vector: 'DB', flags: 0 }, 'mov-dr.db-general-detect');
  });
  it('#GP(0) in 64-bit mode for a DR7 value with bits 63:32 set', () => {
    expectOnly(fresh(), toDr(7, 1n << 32n), gp(), 'mov-dr.gp-high-bits');
  });
  it('DR7 takes the value with bit 10 set, DR5 is DR7 with CR4.DE = 0, reads report it; RIP past 3 bytes', () => {
    const after = expectOnly(guestControls(0n), toDr(5, 0x1n), ok(), 'mov-dr.write');
    expect(hex(cpuOf(after, 0).dr7)).toBe('0x401');
    expect(ripOf(after)).toBe(RIP + 3n);
    expect(readValue(after, fromDr(7))).toBe('0x401');
    expectOnly(after, fromDr(7), ok(), 'mov-dr.read');
    expect(readValue(after, fromDr(0))).toBeUndefined();
  });
});
