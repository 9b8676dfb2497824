/**
 * MOV from CR0, CR3, CR4 and CR8, MOV to CR3 and MOV to CR8, in and out of VMX non-root operation
 * (MOV to CR0 and CR4 in VMX non-root operation, CLTS and LMSW: cr0-cr4-masks.ts).
 *
 * Order: #UD (CR8 exists only in 64-bit mode: without REX.R there is no encoding for it), then
 * #GP(0) at CPL > 0 (Vol. 2B "MOV—Move to/from Control Registers"; both before any VM exit,
 * Vol. 3C §26.1.1 "Relative Priority of Faults and VM Exits"), then the exit conditions (§26.1.3
 * "Instructions That Cause VM Exits Conditionally": CR3-load exiting with the CR3-target values,
 * CR3-store, CR8-load and CR8-store exiting), then the MOV page's checks of the value.
 *
 * Values read (§26.3 "Changes to Instruction Behavior in VMX Non-Root Operation"): MOV from CR0
 * or CR4 never exits; it returns the read shadow in the bits the guest/host mask sets and the
 * register elsewhere. MOV from CR8 with "use TPR shadow" = 1 returns bits 7:4 of VTPR (byte 80H of
 * the virtual-APIC page, in the model's memory) in bits 3:0. The TPR itself is not tracked: MOV
 * from CR8 elsewhere reports no value, MOV to CR8 changes nothing the model follows; MOV to CR8
 * with "use TPR shadow" = 1 (a write to VTPR and the TPR-threshold check) is not modelled.
 *
 * MOV to CR3 (Vol. 2B MOV page, Vol. 3A §4.5 "4-Level Paging and 5-Level Paging", §4.10.4.1
 * "Operations that Invalidate TLBs and Paging-Structure Caches"): in 64-bit mode bits
 * 63:MAXPHYADDR are reserved, except that with CR4.PCIDE = 1 bit 63 only says "do not
 * invalidate" and is not written (so 62:MAXPHYADDR are reserved); outside 64-bit mode the operand
 * is 32 bits. With PAE paging the PDPTEs are loaded (§4.4.1 "PDPTE Registers"). Linear-address
 * masking (LAM) is not modelled. The exit qualification is Table 28-3 "Exit Qualification for
 * Control-Register Accesses" (§28.2.1).
 */
import { sdm } from '../../spec/citation.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import type { MovCr3Op, MovCr8Op, MovFromCrOp } from '../../spec/guest-operations.ts';
import { CR4, paePaging, pdptesHaveReservedBits } from '../control-registers.ts';
import { operand } from '../input.ts';
import { readByte } from '../memory.ts';
import { in64BitMode, toOperandSize } from '../modes.ts';
import { controlField } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, ModelInputError } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { notModelled } from '../verdict.ts';
import {
  atCplZero,
  checkGpr,
  completed,
  controlBit,
  controlsUnknown,
  gp,
  instructionExit,
  primaryControls,
  reportedGpr,
  secondaryControls,
  ud,
} from './guest.ts';
import { CR_ACCESS_TYPE, crAccessQualification } from '../../spec/exit-qualification.ts';

const MOV_CR = sdm('4.3', 'MOV—Move to/from Control Registers', '2B');
const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const CHANGES = sdm('26.3', 'Changes to Instruction Behavior in VMX Non-Root Operation');
const PDPTE_REGISTERS = sdm('4.4.1', 'PDPTE Registers', '3A');
const TPR_VIRTUALIZATION = sdm('30.3', 'Virtualizing CR8-Based TPR Accesses');

/** Offset of VTPR in the virtual-APIC page (§30.1 "Virtual APIC State"). */
const VTPR_OFFSET = 0x80n;
/** How many CR3-target values the VMCS has fields for. */
const CR3_TARGET_FIELDS = [FIELD.CR3_TARGET_VALUE_0, FIELD.CR3_TARGET_VALUE_1, FIELD.CR3_TARGET_VALUE_2, FIELD.CR3_TARGET_VALUE_3];
/** Bit 63 of a MOV to CR3 source with CR4.PCIDE = 1: do not invalidate (not written to CR3). */
const CR3_NO_INVALIDATE = 1n << 63n;

/** The decision points of MOV from CR and MOV to CR3 and CR8. */
export const CONTROL_REGISTER_RULES = {
  readCr8Mode: rule('mov-from-cr.ud-cr8-outside-64-bit', 'MOV from CR', MOV_CR, '#UD for CR8 outside 64-bit mode (no encoding reaches it)'),
  readCpl: rule('mov-from-cr.gp-cpl', 'MOV from CR', MOV_CR, '#GP(0) when CPL > 0 (before any VM exit)'),
  readCr3Exit: rule('mov-from-cr.cr3-store-exit', 'MOV from CR', CONDITIONAL, 'MOV from CR3 with "CR3-store exiting" = 1: VM exit (reason 28)'),
  readCr8Exit: rule('mov-from-cr.cr8-store-exit', 'MOV from CR', CONDITIONAL, 'MOV from CR8 with "CR8-store exiting" = 1: VM exit (reason 28)'),
  readShadowed: rule('mov-from-cr.read-shadow', 'MOV from CR', CHANGES, 'MOV from CR0/CR4 in VMX non-root operation: the read shadow in the bits the guest/host mask owns, the register elsewhere'),
  readVtpr: rule('mov-from-cr.cr8-tpr-shadow', 'MOV from CR', TPR_VIRTUALIZATION, 'MOV from CR8 with "use TPR shadow" = 1: bits 7:4 of VTPR in bits 3:0, other bits 0'),
  read: rule('mov-from-cr.ok', 'MOV from CR', MOV_CR, 'the register is read (CR8, the TPR, is not tracked: no value)'),
  cr3Cpl: rule('mov-cr3.gp-cpl', 'MOV to CR3', MOV_CR, '#GP(0) when CPL > 0 (before any VM exit)'),
  cr3Exit: rule('mov-cr3.cr3-load-exit', 'MOV to CR3', CONDITIONAL, '"CR3-load exiting" = 1 and the value is none of the first CR3-target-count target values: VM exit (reason 28)'),
  cr3Reserved: rule('mov-cr3.gp-reserved-bits', 'MOV to CR3', MOV_CR, '#GP(0) in 64-bit mode when the value sets a bit at or above MAXPHYADDR (bit 63 excepted with CR4.PCIDE = 1)'),
  cr3EptPdptes: rule('mov-cr3.ept-pdptes', 'MOV to CR3', PDPTE_REGISTERS, 'with EPT in VMX non-root operation, PAE paging loads the PDPTEs through EPT, which is not modelled'),
  cr3Pdptes: rule('mov-cr3.gp-pdpte-reserved', 'MOV to CR3', PDPTE_REGISTERS, '#GP(0) with PAE paging when a present PDPTE at the new CR3[31:5] sets a reserved bit'),
  cr3Ok: rule('mov-cr3.ok', 'MOV to CR3', MOV_CR, 'CR3 takes the value (bit 63 not written with CR4.PCIDE = 1)'),
  cr8Mode: rule('mov-cr8.ud-outside-64-bit', 'MOV to CR8', MOV_CR, '#UD outside 64-bit mode (no encoding reaches CR8)'),
  cr8Cpl: rule('mov-cr8.gp-cpl', 'MOV to CR8', MOV_CR, '#GP(0) when CPL > 0 (before any VM exit)'),
  cr8Exit: rule('mov-cr8.cr8-load-exit', 'MOV to CR8', CONDITIONAL, 'MOV to CR8 with "CR8-load exiting" = 1: VM exit (reason 28)'),
  cr8TprShadow: rule('mov-cr8.tpr-shadow', 'MOV to CR8', TPR_VIRTUALIZATION, 'MOV to CR8 with "use TPR shadow" = 1 writes VTPR and may cause a TPR-below-threshold exit; not modelled'),
  cr8Reserved: rule('mov-cr8.gp-reserved-bits', 'MOV to CR8', MOV_CR, '#GP(0) when the value sets any of bits 63:4'),
  cr8Ok: rule('mov-cr8.ok', 'MOV to CR8', MOV_CR, 'the TPR takes the value (not tracked)'),
} as const;

const R = CONTROL_REGISTER_RULES;

/** MOV r, CRn. */
export function movFromCr(state: ModelState, op: MovFromCrOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const gpr = checkGpr(op.gpr, 'mov-from-cr');
  if (![0, 3, 4, 8].includes(op.cr)) throw new ModelInputError(`mov-from-cr: cr must be 0, 3, 4 or 8, got ${JSON.stringify(op.cr)}`);
  if (op.cr === 8 && !in64BitMode(cpu)) return ud(state, c, R.readCr8Mode);
  if (!atCplZero(cpu)) return gp(state, c, R.readCpl);
  const exitQualification = crAccessQualification({ accessType: CR_ACCESS_TYPE.MOV_FROM_CR, cr: op.cr, gpr: reportedGpr(cpu, gpr) });
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    if (op.cr === 3 && controlBit(primary, PRIMARY_CONTROL.CR3_STORE_EXITING)) {
      return instructionExit(state, c, op, R.readCr3Exit, EXIT_REASON.CONTROL_REGISTER_ACCESS, exitQualification);
    }
    if (op.cr === 8 && controlBit(primary, PRIMARY_CONTROL.CR8_STORE_EXITING)) {
      return instructionExit(state, c, op, R.readCr8Exit, EXIT_REASON.CONTROL_REGISTER_ACCESS, exitQualification);
    }
    if (op.cr === 8 && controlBit(primary, PRIMARY_CONTROL.USE_TPR_SHADOW)) {
      const page = controlField(state, c, FIELD.VIRTUAL_APIC_ADDRESS);
      if (page === undefined) return controlsUnknown();
      return completed(state, c, op, R.readVtpr, {}, BigInt(readByte(state, page + VTPR_OFFSET) >> 4));
    }
    if (op.cr === 0 || op.cr === 4) {
      const mask = controlField(state, c, op.cr === 0 ? FIELD.CR0_GUEST_HOST_MASK : FIELD.CR4_GUEST_HOST_MASK);
      const shadow = controlField(state, c, op.cr === 0 ? FIELD.CR0_READ_SHADOW : FIELD.CR4_READ_SHADOW);
      if (mask === undefined || shadow === undefined) return controlsUnknown();
      const register = op.cr === 0 ? cpu.cr0 : cpu.cr4;
      return completed(state, c, op, R.readShadowed, {}, toOperandSize(cpu, (register & ~mask) | (shadow & mask)));
    }
  }
  if (op.cr === 8) return completed(state, c, op, R.read);
  const register = op.cr === 0 ? cpu.cr0 : op.cr === 3 ? cpu.cr3 : cpu.cr4;
  return completed(state, c, op, R.read, {}, toOperandSize(cpu, register));
}

/** MOV CR3, r. */
export function movCr3(state: ModelState, op: MovCr3Op): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const gpr = checkGpr(op.gpr, 'mov-cr3');
  const value = toOperandSize(cpu, operand(op.value, 'value', 'mov-cr3'));
  if (!atCplZero(cpu)) return gp(state, c, R.cr3Cpl);
  let ept = false;
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    const secondary = secondaryControls(state, c);
    if (primary === undefined || secondary === undefined) return controlsUnknown();
    ept = controlBit(secondary, SECONDARY_CONTROL.ENABLE_EPT);
    if (controlBit(primary, PRIMARY_CONTROL.CR3_LOAD_EXITING)) {
      const matches = matchesCr3Target(state, c, value);
      if (matches === undefined) return controlsUnknown();
      if (!matches) {
        const qualification = crAccessQualification({ accessType: CR_ACCESS_TYPE.MOV_TO_CR, cr: 3, gpr: reportedGpr(cpu, gpr) });
        return instructionExit(state, c, op, R.cr3Exit, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification);
      }
    }
  }
  const pcide = (cpu.cr4 & CR4.PCIDE) !== 0n;
  const written = pcide ? value & ~CR3_NO_INVALIDATE : value;
  if (in64BitMode(cpu) && written >> BigInt(state.profile.data.physicalAddressWidth) !== 0n) return gp(state, c, R.cr3Reserved);
  if (paePaging(cpu.cr0, cpu.cr4, cpu.eferLme)) {
    if (ept) return notModelled(R.cr3EptPdptes);
    if (pdptesHaveReservedBits(state, { ...cpu, cr3: written })) return gp(state, c, R.cr3Pdptes);
  }
  return completed(state, c, op, R.cr3Ok, { cr3: written });
}

/** True when `value` equals one of the first CR3-target-count CR3-target values; `undefined` when one is unknown. */
function matchesCr3Target(state: ModelState, c: number, value: bigint): boolean | undefined {
  const count = controlField(state, c, FIELD.CR3_TARGET_COUNT);
  if (count === undefined) return undefined;
  for (const field of CR3_TARGET_FIELDS.slice(0, Number(count < 4n ? count : 4n))) {
    const target = controlField(state, c, field);
    if (target === undefined) return undefined;
    if (target === value) return true;
  }
  return false;
}

/** MOV CR8, r. */
export function movCr8(state: ModelState, op: MovCr8Op): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const gpr = checkGpr(op.gpr, 'mov-cr8');
  const value = operand(op.value, 'value', 'mov-cr8');
  if (!in64BitMode(cpu)) return ud(state, c, R.cr8Mode);
  if (!atCplZero(cpu)) return gp(state, c, R.cr8Cpl);
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    if (controlBit(primary, PRIMARY_CONTROL.CR8_LOAD_EXITING)) {
      const qualification = crAccessQualification({ accessType: CR_ACCESS_TYPE.MOV_TO_CR, cr: 8, gpr });
      return instructionExit(state, c, op, R.cr8Exit, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification);
    }
    if (controlBit(primary, PRIMARY_CONTROL.USE_TPR_SHADOW)) return notModelled(R.cr8TprShadow);
  }
  if (value >> 4n !== 0n) return gp(state, c, R.cr8Reserved);
  return completed(state, c, op, R.cr8Ok);
}
