/**
 * MOV from CR0/CR3/CR4/CR8, MOV to CR3 and CR8, from SDM Vol. 3C, December 2023, §26.1.1
 * "Relative Priority of Faults and VM Exits", §26.1.3 "Instructions That Cause VM Exits
 * Conditionally" (CR3-load exiting with the first CR3-target-count target values, CR3-store,
 * CR8-load, CR8-store exiting), §26.3 "Changes to Instruction Behavior in VMX Non-Root Operation"
 * (MOV from CR0/CR4 reads the shadow in owned bits), §30.3 "Virtualizing CR8-Based TPR Accesses"
 * (MOV from CR8 reads VTPR[7:4]), and Vol. 2B "MOV—Move to/from Control Registers" (#UD for CR8
 * outside 64-bit mode, #GP(0) at CPL > 0, CR3 reserved bits at MAXPHYADDR and above, bit 63 with
 * PCIDE, CR8 bits 63:4 reserved) with Vol. 3A §4.4.1 "PDPTE Registers".
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { cpuOf } from '../../../model/state.ts';
import { exit, expectNotModelled, expectOnly, fresh, gp, hex, ok, patchCpu, store, ud } from '../helpers.ts';
import { bit, guestControls, guestWith, PROTECTED_32, readValue, RIP, ripOf } from './guest-setup.ts';

const fromCr = (cr: 0 | 3 | 4 | 8, gpr = 0) => ({ kind: 'mov-from-cr', cpu: 0, cr, gpr }) as const;
const toCr3 = (value: bigint, gpr = 0) => ({ kind: 'mov-cr3', cpu: 0, value: hex(value), gpr }) as const;
const toCr8 = (value: bigint) => ({ kind: 'mov-cr8', cpu: 0, value: hex(value) }) as const;
const CR3_LOAD = bit(PRIMARY_CONTROL.CR3_LOAD_EXITING);
const PCIDE = bit(17);
/** 32-bit protected mode with PAE paging: CR0.PG = 1, CR4.PAE = 1, IA32_EFER.LME = 0. */
const PAE_32 = { ...PROTECTED_32, cr0: 0x8000_0031n, cr4: 0x2020n };

describe('MOV from CR', () => {
  it('#UD for CR8 outside 64-bit mode, before #GP at CPL 3', () => {
    expectOnly(patchCpu(fresh(), 0, { ...PROTECTED_32, cpl: 3 }), fromCr(8), ud(), 'mov-from-cr.ud-cr8-outside-64-bit');
  });
  it('#GP(0) at CPL 3, before "CR3-store exiting"', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.CR3_STORE_EXITING), undefined, { cpl: 3 }), fromCr(3), gp(), 'mov-from-cr.gp-cpl');
  });
  it('exits with "CR3-store exiting" and "CR8-store exiting" (reason 28)', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.CR3_STORE_EXITING)), fromCr(3), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'mov-from-cr.cr3-store-exit');
    expectOnly(guestControls(bit(PRIMARY_CONTROL.CR8_STORE_EXITING)), fromCr(8), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'mov-from-cr.cr8-store-exit');
  });
  it('CR0 in a guest: the read shadow in the bits the mask owns (NE here), CR0 elsewhere; RIP past 3 bytes', () => {
    const state = guestWith([[FIELD.CR0_GUEST_HOST_MASK, 0x20n], [FIELD.CR0_READ_SHADOW, 0x4n]]);
    expect(readValue(state, fromCr(0))).toBe('0x80000011');
    expect(ripOf(expectOnly(state, fromCr(0), ok(), 'mov-from-cr.read-shadow'))).toBe(RIP + 3n);
  });
  it('CR4 in a guest: VMXE owned with a clear shadow reads 0', () => {
    const state = guestWith([[FIELD.CR4_GUEST_HOST_MASK, 0x2000n], [FIELD.CR4_READ_SHADOW, 0n]]);
    expect(readValue(state, fromCr(4))).toBe('0x20');
  });
  it('CR8 with "use TPR shadow": bits 7:4 of VTPR (byte 80H of the virtual-APIC page)', () => {
    const page = 0x30000n;
    const state = store(guestWith([[FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, bit(PRIMARY_CONTROL.USE_TPR_SHADOW)], [FIELD.VIRTUAL_APIC_ADDRESS, page]]), page + 0x80n, 0x5a);
    expect(readValue(state, fromCr(8))).toBe('0x5');
    expectOnly(state, fromCr(8), ok(), 'mov-from-cr.cr8-tpr-shadow');
  });
  it('outside VMX: CR3 reads its value, CR0 its 32 bits outside 64-bit mode, CR8 reads no known value', () => {
    expect(readValue(patchCpu(fresh(), 0, { cr3: 0x5000n }), fromCr(3))).toBe('0x5000');
    expect(readValue(patchCpu(fresh(), 0, PROTECTED_32), fromCr(0))).toBe('0x31');
    expect(readValue(fresh(), fromCr(8))).toBeUndefined();
    expectOnly(fresh(), fromCr(8), ok(), 'mov-from-cr.ok');
  });
});

describe('MOV to CR3', () => {
  const targets = (count: bigint) => [
    [FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, CR3_LOAD],
    [FIELD.CR3_TARGET_COUNT, count],
    [FIELD.CR3_TARGET_VALUE_0, 0x1000n],
    [FIELD.CR3_TARGET_VALUE_1, 0x2000n],
    [FIELD.CR3_TARGET_VALUE_2, 0x3000n],
    [FIELD.CR3_TARGET_VALUE_3, 0x4000n],
  ] as const;
  it('#GP(0) at CPL 3 before "CR3-load exiting"', () => {
    expectOnly(guestWith(targets(0n), { cpl: 3 }), toCr3(0x1000n), gp(), 'mov-cr3.gp-cpl');
  });
  it('exits unless the value is one of the first CR3-target-count values (count 0: always)', () => {
    expectOnly(guestWith(targets(0n)), toCr3(0x1000n), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'mov-cr3.cr3-load-exit');
    expectOnly(guestWith(targets(2n)), toCr3(0x3000n), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'mov-cr3.cr3-load-exit');
    const after = expectOnly(guestWith(targets(2n)), toCr3(0x2000n), ok(), 'mov-cr3.ok');
    expect(cpuOf(after, 0).cr3).toBe(0x2000n);
    expect(ripOf(after)).toBe(RIP + 3n);
  });
  it('the exit comes before the reserved-bit #GP', () => {
    expectOnly(guestWith(targets(1n)), toCr3(1n << 62n), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'mov-cr3.cr3-load-exit');
  });
  it('#GP(0) in 64-bit mode for bits at or above MAXPHYADDR; bit 63 with PCIDE is not written', () => {
    expectOnly(fresh(), toCr3(1n << 46n), gp(), 'mov-cr3.gp-reserved-bits');
    expectOnly(fresh(), toCr3(1n << 63n), gp(), 'mov-cr3.gp-reserved-bits');
    const after = expectOnly(patchCpu(fresh(), 0, { cr4: 0x2020n | PCIDE }), toCr3((1n << 63n) | 0x5001n), ok(), 'mov-cr3.ok');
    expect(cpuOf(after, 0).cr3).toBe(0x5001n);
  });
  it('PAE paging loads the PDPTEs: a present entry with a reserved bit is #GP(0); with EPT in a guest, not modelled', () => {
    const state = store(patchCpu(fresh(), 0, PAE_32), 0x6000n, 0x3);
    expectOnly(state, toCr3(0x6000n), gp(), 'mov-cr3.gp-pdpte-reserved');
    expectOnly(state, toCr3(0x7000n), ok(), 'mov-cr3.ok');
    expectNotModelled(guestControls(0n, bit(SECONDARY_CONTROL.ENABLE_EPT), PAE_32), toCr3(0x7000n), 'mov-cr3.ept-pdptes');
  });
});

describe('MOV to CR8', () => {
  it('#UD outside 64-bit mode, #GP(0) at CPL 3, both before "CR8-load exiting"', () => {
    const exiting = bit(PRIMARY_CONTROL.CR8_LOAD_EXITING);
    expectOnly(guestControls(exiting, undefined, PROTECTED_32), toCr8(1n), ud(), 'mov-cr8.ud-outside-64-bit');
    expectOnly(guestControls(exiting, undefined, { cpl: 3 }), toCr8(1n), gp(), 'mov-cr8.gp-cpl');
  });
  it('exits with "CR8-load exiting" (reason 28), even with reserved bits set', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.CR8_LOAD_EXITING)), toCr8(0x100n), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'mov-cr8.cr8-load-exit');
  });
  it('with "use TPR shadow" (VTPR write, TPR threshold) not modelled', () => {
    expectNotModelled(guestControls(bit(PRIMARY_CONTROL.USE_TPR_SHADOW)), toCr8(1n), 'mov-cr8.tpr-shadow');
  });
  it('#GP(0) for bits 63:4, else the TPR is written', () => {
    expectOnly(fresh(), toCr8(0x10n), gp(), 'mov-cr8.gp-reserved-bits');
    expect(ripOf(expectOnly(guestControls(0n), toCr8(0xfn), ok(), 'mov-cr8.ok'))).toBe(RIP + 4n);
  });
});
