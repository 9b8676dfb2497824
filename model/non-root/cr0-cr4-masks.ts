/**
 * MOV to CR0 and CR4 in VMX non-root operation, and CLTS and LMSW everywhere: the CR0 and CR4
 * guest/host masks and read shadows.
 *
 * Exit conditions (Vol. 3C §26.1.3 "Instructions That Cause VM Exits Conditionally"): MOV to CR0
 * (CR4) exits unless the source operand equals the read shadow in every bit the guest/host mask
 * sets; CLTS exits when bit 3 (TS) is set in both the CR0 mask and the CR0 read shadow; LMSW
 * exits when the mask owns PE, the source sets PE and the shadow's PE is 0, or when the mask owns
 * one of bits 3:1 and the source and the shadow differ there. Privilege faults (virtual-8086 mode,
 * CPL > 0) come first (§26.1.1 "Relative Priority of Faults and VM Exits"); every other fault of
 * the instruction comes after the exit.
 *
 * Without an exit (§26.3 "Changes to Instruction Behavior in VMX Non-Root Operation") the bits
 * the mask owns keep their value in the register. The other bits are written, with the MOV page's
 * checks judged on the value the register would take (the SDM words the CR0 combinations that
 * way: "if it would result in CR0.PE = 0 and CR0.PG = 1"; the model does the same for every
 * check of mov-cr0.ts and mov-cr4.ts), then the VMX fixed bits in the bits the mask does not own
 * — for CR0 except PE and PG with "unrestricted guest" = 1. With EPT, a write that loads PAE
 * PDPTEs reads them through EPT, which is not modelled.
 *
 * LMSW (Vol. 2A "LMSW—Load Machine Status Word") loads CR0 bits 3:0 from the source and never
 * clears PE; CLTS (Vol. 2A "CLTS—Clear Task-Switched Flag in CR0") clears TS. In VMX operation
 * both #GP(0) when the result breaks the VMX fixed bits (§24.8 "Restrictions on VMX Operation").
 * The memory operand of LMSW is given by value; its faults are not modelled.
 */
import { sdm } from '../../spec/citation.ts';
import { CR0_BIT } from '../../spec/control-registers.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import type { CltsOp, LmswOp } from '../../spec/guest-operations.ts';
import type { MovCr0Op, MovCr4Op, Operation } from '../../spec/operations.ts';
import { toHex } from '../../spec/hex.ts';
import { fault } from '../conventions.ts';
import { CR0, CR4, paePaging } from '../control-registers.ts';
import { formOf, operand } from '../input.ts';
import { in64BitMode, toOperandSize } from '../modes.ts';
import { MOV_CR0_RULES, movCr0 } from '../mov-cr0.ts';
import { MOV_CR4_RULES, movCr4 } from '../mov-cr4.ts';
import { controlField } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, ModelInputError, withCpu } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { atCplZero, checkGpr, completed, controlBit, controlsUnknown, gp, instructionExit, reportedGpr, secondaryControls } from './guest.ts';
import { CR_ACCESS_TYPE, crAccessQualification, linearAddressQualification } from '../../spec/exit-qualification.ts';

const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const CHANGES = sdm('26.3', 'Changes to Instruction Behavior in VMX Non-Root Operation');
const RESTRICTIONS = sdm('24.8', 'Restrictions on VMX Operation');
const PDPTE_REGISTERS = sdm('4.4.1', 'PDPTE Registers', '3A');
const CLTS_PAGE = sdm('3.3', 'CLTS—Clear Task-Switched Flag in CR0', '2A');
const LMSW_PAGE = sdm('3.3', 'LMSW—Load Machine Status Word', '2A');

const TS = 1n << BigInt(CR0_BIT.TS);
/** CR0 bits 3:0: PE, MP, EM, TS, the bits LMSW loads. */
const MACHINE_STATUS_BITS = 0xfn;

/** The decision points of MOV to CR0/CR4 in VMX non-root operation, CLTS and LMSW. */
export const CR0_CR4_MASK_RULES = {
  cr0Cpl: rule('mov-cr0.guest-gp-privilege', 'MOV to CR0', CONDITIONAL, 'in VMX non-root operation, #GP(0) in virtual-8086 mode or at CPL > 0, before the mask is consulted'),
  cr0Exit: rule('mov-cr0.guest-host-mask-exit', 'MOV to CR0', CONDITIONAL, 'the value differs from the CR0 read shadow in a bit the CR0 guest/host mask owns: VM exit (reason 28)'),
  cr0EptPdptes: rule('mov-cr0.guest-ept-pdptes', 'MOV to CR0', PDPTE_REGISTERS, 'with EPT, a write that loads PAE PDPTEs reads them through EPT; not modelled'),
  cr0Fixed: rule('mov-cr0.guest-gp-vmx-fixed-bits', 'MOV to CR0', CHANGES, '#GP(0) when a bit the mask does not own would break the VMX fixed bits (PE and PG free with "unrestricted guest")'),
  cr0Write: rule('mov-cr0.guest-write', 'MOV to CR0', CHANGES, 'CR0 takes the value in the bits the mask does not own; the owned bits keep theirs'),
  cr4Cpl: rule('mov-cr4.guest-gp-privilege', 'MOV to CR4', CONDITIONAL, 'in VMX non-root operation, #GP(0) in virtual-8086 mode or at CPL > 0, before the mask is consulted'),
  cr4Exit: rule('mov-cr4.guest-host-mask-exit', 'MOV to CR4', CONDITIONAL, 'the value differs from the CR4 read shadow in a bit the CR4 guest/host mask owns: VM exit (reason 28)'),
  cr4EptPdptes: rule('mov-cr4.guest-ept-pdptes', 'MOV to CR4', PDPTE_REGISTERS, 'with EPT, a write that loads PAE PDPTEs reads them through EPT; not modelled'),
  cr4Fixed: rule('mov-cr4.guest-gp-vmx-fixed-bits', 'MOV to CR4', CHANGES, '#GP(0) when a bit the mask does not own would break the VMX fixed bits'),
  cr4Write: rule('mov-cr4.guest-write', 'MOV to CR4', CHANGES, 'CR4 takes the value in the bits the mask does not own; the owned bits keep theirs'),
  cltsCpl: rule('clts.gp-cpl', 'CLTS', CLTS_PAGE, '#GP(0) when CPL > 0 (before any VM exit)'),
  cltsExit: rule('clts.vm-exit', 'CLTS', CONDITIONAL, 'TS set in both the CR0 guest/host mask and the CR0 read shadow: VM exit (reason 28)'),
  cltsOwned: rule('clts.ts-owned', 'CLTS', CHANGES, 'TS set in the CR0 guest/host mask and clear in the shadow: CR0.TS is left unchanged'),
  cltsFixed: rule('clts.gp-vmx-fixed-bits', 'CLTS', RESTRICTIONS, 'in VMX operation, #GP(0) when IA32_VMX_CR0_FIXED0 fixes TS to 1'),
  cltsOk: rule('clts.ok', 'CLTS', CLTS_PAGE, 'CR0.TS is cleared'),
  lmswCpl: rule('lmsw.gp-cpl', 'LMSW', LMSW_PAGE, '#GP(0) when CPL > 0 (before any VM exit)'),
  lmswExit: rule('lmsw.vm-exit', 'LMSW', CONDITIONAL, 'the source would set an owned PE the shadow clears, or differs from the shadow in an owned bit of 3:1: VM exit (reason 28)'),
  lmswFixed: rule('lmsw.gp-vmx-fixed-bits', 'LMSW', RESTRICTIONS, 'in VMX operation, #GP(0) when a bit LMSW writes (not owned by the mask) would break the VMX fixed bits'),
  lmswOk: rule('lmsw.ok', 'LMSW', LMSW_PAGE, 'CR0 bits 3:0 take the source (PE is never cleared; bits the mask owns keep theirs)'),
} as const;

const R = CR0_CR4_MASK_RULES;

/** A guest/host mask and its read shadow, or `undefined` when either is unknown. */
function maskAndShadow(state: ModelState, c: number, cr: 0 | 4): { mask: bigint; shadow: bigint } | undefined {
  const mask = controlField(state, c, cr === 0 ? FIELD.CR0_GUEST_HOST_MASK : FIELD.CR4_GUEST_HOST_MASK);
  const shadow = controlField(state, c, cr === 0 ? FIELD.CR0_READ_SHADOW : FIELD.CR4_READ_SHADOW);
  return mask === undefined || shadow === undefined ? undefined : { mask, shadow };
}

/**
 * MOV to CR0 in VMX non-root operation, or `undefined` when the mask, the shadow or the secondary
 * controls are unknown (mov-cr0.ts then answers `mov-cr0.non-root`, not modelled).
 */
export function movCr0InGuest(state: ModelState, op: MovCr0Op): Verdict | undefined {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const owned = maskAndShadow(state, c, 0);
  const secondary = secondaryControls(state, c);
  if (owned === undefined || secondary === undefined) return undefined;
  const gpr = checkGpr(op.gpr, 'mov-cr0');
  const value = toOperandSize(cpu, operand(op.value, 'value', 'mov-cr0'));
  if (!atCplZero(cpu)) return gp(state, c, R.cr0Cpl);
  if (((value ^ owned.shadow) & owned.mask) !== 0n) {
    const qualification = crAccessQualification({ accessType: CR_ACCESS_TYPE.MOV_TO_CR, cr: 0, gpr: reportedGpr(cpu, gpr) });
    return instructionExit(state, c, op, R.cr0Exit, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification);
  }
  const effective = (value & ~owned.mask) | (cpu.cr0 & owned.mask);
  const ordinary = movCr0(withCpu(state, c, { vmx: 'outside' }), { ...op, value: toHex(effective) });
  const unrestricted = controlBit(secondary, SECONDARY_CONTROL.UNRESTRICTED_GUEST);
  const free = owned.mask | (unrestricted ? CR0.PE | CR0.PG : 0n);
  return asGuest(state, op, ordinary, 'cr0', {
    ept: controlBit(secondary, SECONDARY_CONTROL.ENABLE_EPT),
    fixed0: state.profile.cr0Fixed0 & ~free,
    fixed1: state.profile.cr0Fixed1 | owned.mask,
    rules: { ept: R.cr0EptPdptes, fixed: R.cr0Fixed, write: R.cr0Write },
  });
}

/** MOV to CR4 in VMX non-root operation, or `undefined` when the mask, shadow or controls are unknown. */
export function movCr4InGuest(state: ModelState, op: MovCr4Op): Verdict | undefined {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const owned = maskAndShadow(state, c, 4);
  const secondary = secondaryControls(state, c);
  if (owned === undefined || secondary === undefined) return undefined;
  const gpr = checkGpr(op.gpr, 'mov-cr4');
  const value = toOperandSize(cpu, operand(op.value, 'value', 'mov-cr4'));
  if (!atCplZero(cpu)) return gp(state, c, R.cr4Cpl);
  if (((value ^ owned.shadow) & owned.mask) !== 0n) {
    const qualification = crAccessQualification({ accessType: CR_ACCESS_TYPE.MOV_TO_CR, cr: 4, gpr: reportedGpr(cpu, gpr) });
    return instructionExit(state, c, op, R.cr4Exit, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification);
  }
  const effective = (value & ~owned.mask) | (cpu.cr4 & owned.mask);
  const ordinary = movCr4(withCpu(state, c, { vmx: 'outside' }), { ...op, value: toHex(effective) });
  return asGuest(state, op, ordinary, 'cr4', {
    ept: controlBit(secondary, SECONDARY_CONTROL.ENABLE_EPT),
    fixed0: state.profile.cr4Fixed0 & ~owned.mask,
    fixed1: state.profile.cr4Fixed1 | owned.mask,
    rules: { ept: R.cr4EptPdptes, fixed: R.cr4Fixed, write: R.cr4Write },
  });
}

interface GuestWriteChecks {
  ept: boolean;
  fixed0: bigint;
  fixed1: bigint;
  rules: { ept: Rule; fixed: Rule; write: Rule };
}

/**
 * The verdict of the ordinary MOV (judged outside VMX) made a guest's: its faults raised in the
 * guest (the exception bitmap decides), then EPT PDPTEs and the fixed bits, then the write with RIP
 * advanced.
 */
function asGuest(state: ModelState, op: Operation, ordinary: Verdict, register: 'cr0' | 'cr4', checks: GuestWriteChecks): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (ordinary.kind !== 'defined' || ordinary.branches.length !== 1) throw new Error('model bug: MOV to CR outside VMX has one outcome');
  const [only] = ordinary.branches;
  if (only === undefined) throw new Error('model bug: no outcome');
  if (checks.ept && (only.rule === MOV_CR0_RULES.pdpte || only.rule === MOV_CR4_RULES.pdpte)) return notModelled(checks.rules.ept);
  if (only.expected.kind === 'fault') return defined(fault(state, c, only.rule, only.expected.vector));
  const after = cpuOf(only.next({ kind: 'ok', flags: only.expected.flags }), c);
  const result = after[register];
  const pagingBitsChanged = ((after.cr0 ^ cpu.cr0) & (CR0.CD | CR0.NW | CR0.PG)) !== 0n || ((after.cr4 ^ cpu.cr4) & (CR4.PAE | CR4.PGE | CR4.PSE | CR4.SMEP)) !== 0n;
  if (checks.ept && pagingBitsChanged && paePaging(after.cr0, after.cr4, after.eferLme)) return notModelled(checks.rules.ept);
  if ((result & checks.fixed0) !== checks.fixed0 || (result & ~checks.fixed1 & 0xffff_ffff_ffff_ffffn) !== 0n) return gp(state, c, checks.rules.fixed);
  return completed(state, c, op, checks.rules.write, { cr0: after.cr0, cr4: after.cr4, eferLma: after.eferLma });
}

/** CLTS. */
export function clts(state: ModelState, op: CltsOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (!atCplZero(cpu)) return gp(state, c, R.cltsCpl);
  if (cpu.vmx === 'non-root') {
    const owned = maskAndShadow(state, c, 0);
    if (owned === undefined) return controlsUnknown();
    if ((owned.mask & TS) !== 0n && (owned.shadow & TS) !== 0n) {
      return instructionExit(state, c, op, R.cltsExit, EXIT_REASON.CONTROL_REGISTER_ACCESS, crAccessQualification({ accessType: CR_ACCESS_TYPE.CLTS }));
    }
    if ((owned.mask & TS) !== 0n) return completed(state, c, op, R.cltsOwned);
  }
  if (cpu.vmx !== 'outside' && (state.profile.cr0Fixed0 & TS) !== 0n) return gp(state, c, R.cltsFixed);
  return completed(state, c, op, R.cltsOk, { cr0: cpu.cr0 & ~TS });
}

/** LMSW. */
export function lmsw(state: ModelState, op: LmswOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const memory = formOf(op.form, 'register', 'lmsw') === 'memory';
  if (memory && op.address === undefined) throw new ModelInputError('lmsw: the memory form needs the linear address of its operand in address');
  const source = operand(op.value, 'value', 'lmsw') & 0xffffn;
  const address = op.address === undefined ? undefined : operand(op.address, 'address', 'lmsw');
  if (!atCplZero(cpu)) return gp(state, c, R.lmswCpl);
  let ownedBits = 0n;
  if (cpu.vmx === 'non-root') {
    const owned = maskAndShadow(state, c, 0);
    if (owned === undefined) return controlsUnknown();
    if (lmswExits(source, owned.mask, owned.shadow)) {
      const qualification = crAccessQualification({ accessType: CR_ACCESS_TYPE.LMSW, lmswMemory: memory, lmswSourceData: Number(source) });
      const linear = memory && address !== undefined ? { guestLinearAddress: linearAddressQualification(address, in64BitMode(cpu)) } : {};
      return instructionExit(state, c, op, R.lmswExit, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification, linear);
    }
    ownedBits = owned.mask & MACHINE_STATUS_BITS;
  }
  const loaded = (source & MACHINE_STATUS_BITS) | (cpu.cr0 & CR0.PE);
  const cr0 = (cpu.cr0 & ~(MACHINE_STATUS_BITS & ~ownedBits)) | (loaded & ~ownedBits);
  const checked = MACHINE_STATUS_BITS & ~ownedBits;
  const fixed0 = state.profile.cr0Fixed0 & checked;
  if (cpu.vmx !== 'outside' && ((cr0 & fixed0) !== fixed0 || (cr0 & ~state.profile.cr0Fixed1 & checked) !== 0n)) return gp(state, c, R.lmswFixed);
  return completed(state, c, op, R.lmswOk, { cr0 });
}

/** LMSW's exit condition: an owned PE set by the source over a clear shadow PE, or an owned bit of 3:1 that differs. */
function lmswExits(source: bigint, mask: bigint, shadow: bigint): boolean {
  if ((mask & CR0.PE) !== 0n && (source & CR0.PE) !== 0n && (shadow & CR0.PE) === 0n) return true;
  return ((source ^ shadow) & mask & 0xen) !== 0n;
}
