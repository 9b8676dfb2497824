/**
 * MOV to CR0/CR4 in VMX non-root operation, CLTS and LMSW, from SDM Vol. 3C, December 2023,
 * §26.1.3 "Instructions That Cause VM Exits Conditionally" (the guest/host masks against the read
 * shadows; CLTS with TS set in mask and shadow; LMSW's PE and bits 3:1 rules), §26.3 "Changes to
 * Instruction Behavior in VMX Non-Root Operation" (owned bits unchanged; the VMX fixed bits in the
 * other bits, PE and PG exempt with "unrestricted guest"), §24.8 "Restrictions on VMX Operation",
 * §26.2 "Other Causes of VM Exits" (a #GP in the guest exits by the exception bitmap), and Vol. 2A
 * CLTS and LMSW (LMSW loads bits 3:0 and never clears PE).
 */
import { describe, expect, it } from 'vitest';
import { SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { ModelState } from '../../../model/index.ts';
import { cpuOf } from '../../../model/state.ts';
import { exit, expectNotModelled, expectOnly, fresh, gp, hex, ok, patchCpu, withCurrent } from '../helpers.ts';
import { ACTIVATE_SECONDARY, bit, guestWith, PROTECTED_32, RIP, ripOf } from './guest-setup.ts';

const toCr0 = (value: bigint, gpr = 0) => ({ kind: 'mov-cr0', cpu: 0, value: hex(value), gpr }) as const;
const toCr4 = (value: bigint, gpr = 0) => ({ kind: 'mov-cr4', cpu: 0, value: hex(value), gpr }) as const;
const clts = { kind: 'clts', cpu: 0 } as const;
const lmsw = (value: bigint) => ({ kind: 'lmsw', cpu: 0, value: hex(value) }) as const;
const cr0Of = (state: ModelState): bigint => cpuOf(state, 0).cr0;
const TS = 0x8n;
const UNRESTRICTED = bit(SECONDARY_CONTROL.UNRESTRICTED_GUEST);
const EPT = bit(SECONDARY_CONTROL.ENABLE_EPT);
const cr0Mask = (mask: bigint, shadow: bigint) => [[FIELD.CR0_GUEST_HOST_MASK, mask], [FIELD.CR0_READ_SHADOW, shadow]] as const;
const secondary = (controls: bigint) => [[FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, ACTIVATE_SECONDARY], [FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, controls]] as const;

describe('MOV to CR0 in VMX non-root operation', () => {
  it('#GP(0) at CPL 3 before the mask is consulted', () => {
    expectOnly(guestWith(cr0Mask(0x1n, 0n), { cpl: 3 }), toCr0(0x8000_0031n), gp(), 'mov-cr0.guest-gp-privilege');
  });
  it('exits when the value differs from the shadow in an owned bit (reason 28), before the MOV checks', () => {
    expectOnly(guestWith(cr0Mask(0x8n, 0n)), toCr0(0x8000_0039n), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'mov-cr0.guest-host-mask-exit');
    expectOnly(guestWith(cr0Mask(0x8000_0000n, 0x8000_0000n)), toCr0(0x3n << 32n), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'mov-cr0.guest-host-mask-exit');
  });
  it('writes the bits the mask does not own; owned bits keep their value; RIP past 3 bytes', () => {
    const after = expectOnly(guestWith(cr0Mask(0x20n, 0n)), toCr0(0x8000_0013n), ok(), 'mov-cr0.guest-write');
    expect(hex(cr0Of(after))).toBe('0x80000033');
    expect(ripOf(after)).toBe(RIP + 3n);
  });
  it('the VMX fixed bits apply to the bits the mask does not own: clearing NE is #GP(0), unless NE is owned', () => {
    expectOnly(guestWith(cr0Mask(0n, 0n)), toCr0(0x8000_0011n), gp(), 'mov-cr0.guest-gp-vmx-fixed-bits');
    expectOnly(guestWith(cr0Mask(0x20n, 0n)), toCr0(0x8000_0011n), ok(), 'mov-cr0.guest-write');
  });
  it('with "unrestricted guest" PE may be cleared (to real-address mode); without it #GP(0)', () => {
    const state = (controls: bigint) => guestWith(secondary(controls), PROTECTED_32);
    expect(hex(cr0Of(expectOnly(state(UNRESTRICTED), toCr0(0x30n), ok(), 'mov-cr0.guest-write')))).toBe('0x30');
    expectOnly(state(0n), toCr0(0x30n), gp(), 'mov-cr0.guest-gp-vmx-fixed-bits');
  });
  it('the MOV page\'s checks judge the value CR0 would take (PG without PE is #GP(0) even with "unrestricted guest")', () => {
    expectOnly(guestWith(secondary(UNRESTRICTED), PROTECTED_32), toCr0(0x8000_0030n), gp(), 'mov-cr0.gp-pg-without-pe');
  });
  it('a #GP(0) with bit 13 of the exception bitmap set is a VM exit (reason 0)', () => {
    expectOnly(guestWith([[FIELD.EXCEPTION_BITMAP, bit(13)]]), toCr0(0x8000_0011n), exit(EXIT_REASON.EXCEPTION_OR_NMI), 'exception.vm-exit');
  });
  it('with EPT, a write that loads PAE PDPTEs is not modelled', () => {
    const pae = { ...PROTECTED_32, cr4: 0x2020n };
    expectNotModelled(guestWith(secondary(EPT | UNRESTRICTED), pae), toCr0(0x8000_0031n), 'mov-cr0.guest-ept-pdptes');
  });
});

describe('MOV to CR4 in VMX non-root operation', () => {
  const cr4Mask = (mask: bigint, shadow: bigint) => [[FIELD.CR4_GUEST_HOST_MASK, mask], [FIELD.CR4_READ_SHADOW, shadow]] as const;
  it('#GP(0) at CPL 3 before the mask is consulted', () => {
    expectOnly(guestWith(cr4Mask(0x2000n, 0n), { cpl: 3 }), toCr4(0x20n), gp(), 'mov-cr4.guest-gp-privilege');
  });
  it('MOV CR4, R9 changing VMXE (owned, shadow 0) exits (reason 28)', () => {
    expectOnly(guestWith(cr4Mask(0x2000n, 0n)), toCr4(0x2020n, 9), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'mov-cr4.guest-host-mask-exit');
  });
  it('a value matching the shadow leaves owned VMXE set and writes the rest', () => {
    const after = expectOnly(guestWith(cr4Mask(0x2000n, 0n)), toCr4(0x20n | 0x80n, 9), ok(), 'mov-cr4.guest-write');
    expect(hex(cpuOf(after, 0).cr4)).toBe('0x20a0');
    expect(ripOf(after)).toBe(RIP + 4n);
  });
  it('clearing VMXE when the mask does not own it breaks the fixed bits: #GP(0)', () => {
    expectOnly(guestWith(cr4Mask(0n, 0n)), toCr4(0x20n), gp(), 'mov-cr4.guest-gp-vmx-fixed-bits');
  });
  it('the MOV page\'s checks still apply (clearing PAE in IA-32e mode)', () => {
    expectOnly(guestWith(cr4Mask(0n, 0n)), toCr4(0x2000n), gp(), 'mov-cr4.gp-clear-pae-ia32e');
  });
  it('with EPT, a write that loads PAE PDPTEs is not modelled', () => {
    const pae = { ...PROTECTED_32, cr0: 0x8000_0031n, cr4: 0x2020n };
    expectNotModelled(guestWith(secondary(EPT), pae), toCr4(0x20a0n), 'mov-cr4.guest-ept-pdptes');
  });
});

describe('CLTS', () => {
  const withTs = { cr0: 0x8000_0039n };
  it('#GP(0) at CPL 3, before the exit', () => {
    expectOnly(guestWith(cr0Mask(TS, TS), { cpl: 3 }), clts, gp(), 'clts.gp-cpl');
  });
  it('exits when TS is set in both the mask and the shadow (reason 28)', () => {
    expectOnly(guestWith(cr0Mask(TS, TS), withTs), clts, exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'clts.vm-exit');
  });
  it('leaves CR0.TS alone when TS is owned and the shadow clear', () => {
    const after = expectOnly(guestWith(cr0Mask(TS, 0n), withTs), clts, ok(), 'clts.ts-owned');
    expect(cr0Of(after) & TS).toBe(TS);
    expect(ripOf(after)).toBe(RIP + 2n);
  });
  it('clears CR0.TS otherwise', () => {
    expect(cr0Of(expectOnly(guestWith([], withTs), clts, ok(), 'clts.ok')) & TS).toBe(0n);
    expect(cr0Of(expectOnly(patchCpu(fresh(), 0, withTs), clts, ok(), 'clts.ok')) & TS).toBe(0n);
  });
  it('#GP(0) in VMX operation when IA32_VMX_CR0_FIXED0 fixes TS', () => {
    const state = withCurrent();
    const fixedTs = { ...state, profile: { ...state.profile, cr0Fixed0: state.profile.cr0Fixed0 | TS } };
    expectOnly(patchCpu(fixedTs, 0, withTs), clts, gp(), 'clts.gp-vmx-fixed-bits');
  });
});

describe('LMSW', () => {
  it('#GP(0) at CPL 3, before the exit', () => {
    expectOnly(guestWith(cr0Mask(0x1n, 0n), { cpl: 3 }), lmsw(0x1n), gp(), 'lmsw.gp-cpl');
  });
  it('exits when it would set an owned PE over a clear shadow PE, or change an owned bit of 3:1', () => {
    expectOnly(guestWith(cr0Mask(0x1n, 0n)), lmsw(0x1n), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'lmsw.vm-exit');
    expectOnly(guestWith(cr0Mask(TS, 0n)), lmsw(TS), exit(EXIT_REASON.CONTROL_REGISTER_ACCESS), 'lmsw.vm-exit');
  });
  it('does not exit for a clear PE in the source against a set shadow PE (LMSW never clears PE)', () => {
    const after = expectOnly(guestWith(cr0Mask(0x1n, 0x1n)), lmsw(0x0n), ok(), 'lmsw.ok');
    expect(cr0Of(after) & 1n).toBe(1n);
  });
  it('loads bits 3:0 (TS and MP here), keeps PE, ignores bits 15:4; owned bits keep their value', () => {
    expect(hex(cr0Of(expectOnly(fresh(), lmsw(0xfffan), ok(), 'lmsw.ok')))).toBe('0x8000003b');
    expect(hex(cr0Of(expectOnly(guestWith(cr0Mask(TS, 0n)), lmsw(0x2n), ok(), 'lmsw.ok')))).toBe('0x80000033');
  });
  it('#GP(0) in VMX operation when a written bit breaks the fixed bits', () => {
    const state = withCurrent();
    const fixedMp = { ...state, profile: { ...state.profile, cr0Fixed0: state.profile.cr0Fixed0 | 0x2n } };
    expectOnly(patchCpu(fixedMp, 0, { cr0: 0x8000_0033n }), lmsw(0x1n), gp(), 'lmsw.gp-vmx-fixed-bits');
  });
});
