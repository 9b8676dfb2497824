/**
 * The descriptor-table instructions, GETSEC, XSAVES and XRSTORS, from the SDM text (December
 * 2023): the Vol. 2 pages of SGDT, SIDT, SLDT, STR (stores; #GP(0) with CR4.UMIP = 1 at CPL > 0;
 * SLDT and STR #UD in real-address and virtual-8086 mode), LGDT/LIDT (#GP(0) at CPL > 0; loads
 * limit and base, 32 bits of base outside 64-bit mode), LLDT and LTR (#UD in real-address and
 * virtual-8086 mode, #GP(0) at CPL > 0, LTR of a null selector #GP(0)), GETSEC (#UD with CR4.SMXE
 * = 0), XSAVES/XRSTORS (#UD without the feature or CR4.OSXSAVE, #GP(0) at CPL > 0); Vol. 3C §26.1.2
 * "Instructions That Cause VM Exits Unconditionally" (GETSEC), §26.1.3 (descriptor-table exiting),
 * §26.3 "Changes to Instruction Behavior in VMX Non-Root Operation" (XSAVES/XRSTORS: #UD with
 * "enable XSAVES/XRSTORS" = 0, else a VM exit when EDX:EAX & IA32_XSS & XSS-exiting bitmap is not
 * 0), Appendix C (reasons 11, 46, 47, 63, 64); Vol. 1 §13.3 (IA32_XSS).
 */
import { describe, expect, it } from 'vitest';
import { SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Operation } from '../../../spec/operations.ts';
import type { Profile } from '../../../spec/profile.ts';
import type { GuestRegisters, ModelState, SegmentRegister } from '../../../model/state.ts';
import { cpuOf } from '../../../model/state.ts';
import { exit, expectNotModelled, expectOnly, expectStep, fresh, gp, hex, ok, patchCpu, skylake, ud, withCurrent } from '../helpers.ts';
import { ACTIVATE_SECONDARY, bit, guestControls, guestWith, outcomes, PROTECTED_32, RIP, ripOf } from './guest-setup.ts';

const UMIP = bit(11);
const SMXE = bit(14);
const OSXSAVE = bit(18);
const DT_EXITING = bit(SECONDARY_CONTROL.DESCRIPTOR_TABLE_EXITING);
const XSAVES_ENABLED = bit(SECONDARY_CONTROL.ENABLE_XSAVES_XRSTORS);
const IA32_XSS = 0xda0;

const table = (instruction: 'sgdt' | 'sidt' | 'sldt' | 'str'): Operation => ({ kind: 'descriptor-table', cpu: 0, instruction });
const load = (instruction: 'lgdt' | 'lidt', base: bigint, limit = 0x7fn): Operation => ({ kind: 'descriptor-table', cpu: 0, instruction, base: hex(base), limit: hex(limit) });
const selector = (instruction: 'lldt' | 'ltr', value: bigint, gpr?: number): Operation =>
  gpr === undefined ? { kind: 'descriptor-table', cpu: 0, instruction, selector: hex(value) } : { kind: 'descriptor-table', cpu: 0, instruction, form: 'register', gpr, selector: hex(value) };

const unknown: SegmentRegister = { selector: undefined, base: undefined, limit: undefined, accessRights: undefined };
/** Guest registers as a VM entry would have loaded them: GDTR base 1_2345_6000H, IDTR base 7000H, LDTR 28H, TR 40H. */
const loaded: GuestRegisters = {
  rsp: undefined,
  rflags: undefined,
  segments: { ES: unknown, CS: unknown, SS: unknown, DS: unknown, FS: unknown, GS: unknown, LDTR: { ...unknown, selector: 0x28n }, TR: { ...unknown, selector: 0x40n } },
  gdtr: { ...unknown, base: 0x1_2345_6000n, limit: 0xffn },
  idtr: { ...unknown, base: 0x7000n, limit: 0xfffn },
  interruptibility: undefined,
  pendingDebugExceptions: undefined,
  activity: 0n,
  pdptes: undefined,
  loadedCr3: undefined,
  ssp: undefined,
};

describe('descriptor-table instructions', () => {
  it('SLDT, STR, LLDT and LTR are #UD in real-address and virtual-8086 mode; SGDT is not', () => {
    const real = patchCpu(fresh(), 0, { cr0: 0x10n, eferLma: 0, eferLme: 0, csL: 0 });
    expectOnly(real, table('str'), ud(), 'descriptor-table.ud-real-or-virtual-8086');
    expectOnly(patchCpu(fresh(), 0, { rflagsVm: 1, eferLma: 0, csL: 0, cr0: 0x31n }), selector('lldt', 0n), ud(), 'descriptor-table.ud-real-or-virtual-8086');
    expectOnly(real, table('sgdt'), ok(), 'descriptor-table.store');
  });
  it('LGDT, LIDT, LLDT and LTR are #GP(0) at CPL 3, before "descriptor-table exiting"', () => {
    expectOnly(patchCpu(fresh(), 0, { cpl: 3 }), load('lidt', 0x1000n), gp(), 'descriptor-table.gp-cpl');
    expectOnly(guestControls(0n, DT_EXITING, { cpl: 3 }), selector('ltr', 0x40n), gp(), 'descriptor-table.gp-cpl');
  });
  it('SGDT, SIDT, SLDT and STR are #GP(0) with CR4.UMIP = 1 at CPL 3, and complete at CPL 3 without UMIP', () => {
    expectOnly(patchCpu(fresh(), 0, { cpl: 3, cr4: 0x2020n | UMIP }), table('sidt'), gp(), 'descriptor-table.gp-umip');
    expectOnly(guestControls(0n, DT_EXITING, { cpl: 3, cr4: 0x2020n | UMIP }), table('sldt'), gp(), 'descriptor-table.gp-umip');
    expectOnly(patchCpu(fresh(), 0, { cpl: 3 }), table('sidt'), ok(), 'descriptor-table.store');
  });
  it('exit with "descriptor-table exiting" = 1: reason 46 for GDTR/IDTR, 47 for LDTR/TR', () => {
    const state = guestControls(0n, DT_EXITING);
    expectOnly(state, table('sgdt'), exit(EXIT_REASON.GDTR_IDTR_ACCESS), 'descriptor-table.vm-exit-gdtr-idtr');
    expectOnly(state, load('lgdt', 0x2000n), exit(EXIT_REASON.GDTR_IDTR_ACCESS), 'descriptor-table.vm-exit-gdtr-idtr');
    expectOnly(state, selector('lldt', 0x28n, 3), exit(EXIT_REASON.LDTR_TR_ACCESS), 'descriptor-table.vm-exit-ldtr-tr');
    expectOnly(state, table('str'), exit(EXIT_REASON.LDTR_TR_ACCESS), 'descriptor-table.vm-exit-ldtr-tr');
  });
  it('in a guest without the exit, SGDT/SIDT store the base VM entry loaded (32 bits outside 64-bit mode), SLDT/STR the selector', () => {
    const state = patchCpu(guestControls(0n, 0n), 0, { guest: loaded });
    expect(outcomes(state, table('sgdt')).map((o) => o.expected)).toEqual([{ kind: 'ok', flags: 0, value: '0x123456000' }]);
    expect(outcomes(patchCpu(state, 0, PROTECTED_32), table('sgdt')).map((o) => o.expected)).toEqual([{ kind: 'ok', flags: 0, value: '0x23456000' }]);
    expect(outcomes(state, table('sldt')).map((o) => o.expected)).toEqual([{ kind: 'ok', flags: 0, value: '0x28' }]);
    expect(outcomes(state, table('str')).map((o) => o.expected)).toEqual([{ kind: 'ok', flags: 0, value: '0x40' }]);
  });
  it('LGDT/LIDT load limit and base into the guest register (a later VM exit saves them); RIP past 3 bytes', () => {
    const state = patchCpu(guestControls(0n, 0n), 0, { guest: loaded });
    const after = expectOnly(state, load('lidt', 0xffff_8000_0000_1000n, 0x1ffn), ok(), 'descriptor-table.load');
    expect(cpuOf(after, 0).guest?.idtr).toMatchObject({ base: 0xffff_8000_0000_1000n, limit: 0x1ffn });
    expect(ripOf(after)).toBe(RIP + 3n);
    const in32 = expectOnly(patchCpu(state, 0, PROTECTED_32), load('lgdt', 0x1_0000_2000n), ok(), 'descriptor-table.load');
    expect(cpuOf(in32, 0).guest?.gdtr).toMatchObject({ base: 0x2000n, limit: 0x7fn });
  });
  it('LGDT of a non-canonical base in 64-bit mode: the load or #GP(0), both allowed', () => {
    expect(outcomes(fresh(), load('lgdt', 0x8000_0000_0000n)).map((o) => o.expected.kind)).toEqual(['ok', 'fault']);
  });
  it('LTR of a null selector is #GP(0); LLDT and LTR of another selector read the GDT: not modelled', () => {
    expectOnly(fresh(), selector('ltr', 3n), gp(), 'descriptor-table.gp-ltr-null');
    expectNotModelled(fresh(), selector('ltr', 0x40n), 'descriptor-table.gdt-not-modelled');
    expectNotModelled(guestControls(0n, 0n), selector('lldt', 0n, 5), 'descriptor-table.gdt-not-modelled');
  });
  it('is not modelled in a guest whose controls are unknown', () => {
    expectNotModelled(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), table('sgdt'), 'non-root.controls-unknown');
  });
});

describe('GETSEC', () => {
  it('#UD with CR4.SMXE = 0, also in a guest (before the unconditional exit)', () => {
    expectOnly(fresh(), { kind: 'getsec', cpu: 0 }, ud(), 'getsec.ud-smxe');
    expectOnly(guestWith(), { kind: 'getsec', cpu: 0 }, ud(), 'getsec.ud-smxe');
  });
  it('with CR4.SMXE = 1: a VM exit in a guest (reason 11, no control needed); the leaves outside a guest are not modelled', () => {
    expectOnly(patchCpu(withCurrent(), 0, { vmx: 'non-root', cr4: 0x2020n | SMXE }), { kind: 'getsec', cpu: 0, eax: '0x0' }, exit(EXIT_REASON.GETSEC), 'getsec.vm-exit');
    expectNotModelled(patchCpu(fresh(), 0, { cr4: 0x2020n | SMXE }), { kind: 'getsec', cpu: 0 }, 'getsec.leaf-not-modelled');
  });
});

/** A guest with XSAVES/XRSTORS enabled, CR4.OSXSAVE = 1, the XSS-exiting bitmap `bitmap`, and IA32_XSS `xss` if known. */
function xsavesGuest(bitmap: bigint, xss?: bigint, cpu: { cpl?: number } = {}): ModelState {
  const state = guestWith(
    [
      [FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, ACTIVATE_SECONDARY],
      [FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, XSAVES_ENABLED],
      [FIELD.XSS_EXITING_BITMAP, bitmap],
    ],
    { cr4: 0x2020n | OSXSAVE, ...cpu },
  );
  return xss === undefined ? state : patchCpu(state, 0, { msrs: new Map([[IA32_XSS, xss]]) });
}
const xsaves = (mask: bigint): Operation => ({ kind: 'xsaves', cpu: 0, mask: hex(mask) });
const xrstors = (mask: bigint): Operation => ({ kind: 'xrstors', cpu: 0, mask: hex(mask) });

describe('XSAVES and XRSTORS', () => {
  it('#UD without the feature or with CR4.OSXSAVE = 0', () => {
    const noXsaves: Profile = { ...skylake(), cpuid: { ...skylake().cpuid, xsaves: false } };
    expectOnly(patchCpu(fresh(noXsaves), 0, { cr4: 0x2020n | OSXSAVE }), xsaves(1n), ud(), 'xsaves.ud-unsupported');
    expectOnly(fresh(), xrstors(1n), ud(), 'xsaves.ud-osxsave');
  });
  it('#UD in a guest with "enable XSAVES/XRSTORS" = 0', () => {
    expectOnly(guestControls(0n, 0n, { cr4: 0x2020n | OSXSAVE }), xsaves(0x100n), ud(), 'xsaves.ud-not-enabled');
  });
  it('#GP(0) at CPL 3 before the VM exit', () => {
    expectOnly(xsavesGuest(0x100n, 0x100n, { cpl: 3 }), xsaves(0x100n), gp(), 'xsaves.gp-cpl');
  });
  it('exit when EDX:EAX & IA32_XSS & the XSS-exiting bitmap is not 0 (reasons 63, 64)', () => {
    expectOnly(xsavesGuest(0x100n, 0x100n), xsaves(0x101n), exit(EXIT_REASON.XSAVES), 'xsaves.vm-exit');
    expectOnly(xsavesGuest(0xffff_ffff_ffff_ffffn, 0x1800n), xrstors(0x800n), exit(EXIT_REASON.XRSTORS), 'xrstors.vm-exit');
  });
  it('no exit when the AND is 0 (execution then not modelled); IA32_XSS unknown with mask and bitmap overlapping: not modelled', () => {
    expectNotModelled(xsavesGuest(0x100n, 0x1800n), xsaves(0x100n), 'xsaves.execution-not-modelled');
    expectNotModelled(xsavesGuest(0n), xrstors(0xffffn), 'xrstors.execution-not-modelled');
    expectNotModelled(xsavesGuest(0x100n), xsaves(0x100n), 'xsaves.ia32-xss-unknown');
  });
  it('WRMSR of IA32_XSS that completes leaves the value written (or #GP(0)); XSAVES then exits on it', () => {
    const wrmsr: Operation = { kind: 'wrmsr', cpu: 0, ecx: hex(IA32_XSS), value: '0x100' };
    expect(outcomes(patchCpu(fresh(), 0, { cr4: 0x2020n | OSXSAVE }), wrmsr).map((o) => o.rule)).toEqual(['wrmsr.ia32-xss', 'wrmsr.ia32-xss']);
    const after = expectStep(fresh(), wrmsr, ok(), 'wrmsr.ia32-xss');
    expect(cpuOf(after, 0).msrs.get(IA32_XSS)).toBe(0x100n);
  });
  it('is not modelled in a guest whose XSS-exiting bitmap is unknown', () => {
    const state = guestWith([[FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, ACTIVATE_SECONDARY], [FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, XSAVES_ENABLED]], { cr4: 0x2020n | OSXSAVE });
    expectNotModelled(state, xsaves(1n), 'non-root.controls-unknown');
  });
});
