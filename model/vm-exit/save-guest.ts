/**
 * Saving guest state (SDM Vol. 3C, December 2023, §28.3 "Saving Guest State"): each guest-state
 * field receives the processor state it corresponds to, as the model knows it — the registers
 * VM entry loaded and guest instructions changed (model/state.ts `CpuState` and its `guest`
 * register file). A value the model does not know, or one the SDM leaves undefined, leaves the
 * field unknown.
 *
 * - §28.3.1 "Saving Control Registers, Debug Registers, and MSRs": CR0, CR3, CR4 and the three
 *   SYSENTER MSRs always (bits 63:32 of IA32_SYSENTER_CS not saved); DR7 and IA32_DEBUGCTL with
 *   "save debug controls"; IA32_PAT, IA32_EFER and IA32_PERF_GLOBAL_CTRL with their "save"
 *   controls; IA32_BNDCFGS when the processor supports "load IA32_BNDCFGS" or "clear
 *   IA32_BNDCFGS"; the SMBASE field is undefined. The fields of later features (IA32_RTIT_CTL,
 *   IA32_LBR_CTL, CET state, IA32_PKRS) become unknown: their saving rules were not checked
 *   against the text here.
 * - §28.3.2 "Saving Segment Registers and Descriptor-Table Registers": selectors always; for a
 *   usable segment the base, limit and access-rights bits 7:0 and 15:12 as in the register; for
 *   an unusable one those are undefined, except the CS base, limit and L, D, G bits, the SS DPL,
 *   the FS and GS bases (saved), and bits 63:32 of the SS, DS and ES bases (0); access-rights bits
 *   31:17 and 11:8 cleared, bit 16 set iff unusable. GDTR and IDTR base and limit.
 * - §28.3.3 "Saving RIP, RSP, RFLAGS, and SSP": RIP is `CpuState.rip`, which the exiting
 *   instruction or faulting instruction has not advanced (the RIP of the instruction for
 *   instruction exits and fault-like exceptions); RSP; RFLAGS with the current arithmetic flags
 *   and VM bit, and RF (bit 16) 0 for an instruction exit, undefined to the model for an
 *   exception exit (it is what the event would have pushed, which depends on the event's class).
 * - §28.3.4 "Saving Non-Register State": the activity state the processor had before the exit
 *   (`CpuState.activity`: active after a guest instruction; HLT after HLT under the monitor trap
 *   flag, §26.5.2; the HLT or shutdown state a VM entry left it in when a window, timer or
 *   TPR-threshold exit wakes it, since §28.1 "Architectural State before a VM Exit" returns it to
 *   the active state only after the exit); the interruptibility state with the current blocking by STI and MOV SS, bit 2
 *   (SMI) and bit 4 (enclave) 0; pending debug exceptions 0, except undefined to the model for an
 *   exit other than #DB under MOV-SS blocking (the SDM then records the debug exceptions pending)
 *   and for the exits that never clear the field, "TPR below threshold" and "monitor trap flag"
 *   (they record the debug exceptions pending, which may be those VM entry loaded);
 *   the VMX-preemption timer value, with "save VMX-preemption timer value", unknown (it counts
 *   down with time the model does not track); the PDPTE fields, on processors with EPT, those VM
 *   entry loaded when "enable EPT" is 1 and PAE paging is in use with the CR3 they came from,
 *   otherwise undefined.
 */
import { ENTRY_CONTROL, EXIT_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import type { ExitInformation } from '../../spec/exit-information.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import type { FieldName } from '../../spec/fields.ts';
import { ARITHMETIC_FLAGS_MASK } from '../../spec/observations.ts';
import type { Profile } from '../../spec/profile.ts';
import { CR0, CR4, IA32_EFER } from '../../spec/registers.ts';
import type { CpuState, SegmentName, SegmentRegister, VmcsContent } from '../state.ts';
import { knownFieldValue } from '../vmcs-fields.ts';
import { ACTIVITY_BY_FIELD } from '../vm-entry/load-guest.ts';
import { DESCRIPTOR_TABLE_FIELDS, PDPTE_FIELDS, SEGMENT_FIELDS } from './guest-registers.ts';
import type { SegmentFields } from './guest-registers.ts';
import { MSR } from './msr-indices.ts';
import { forget, put } from './write.ts';

const LOW32 = 0xffff_ffffn;
const RFLAGS_RF = 1n << 16n;
const RFLAGS_VM = 17n;
const UNUSABLE = 1n << 16n;
/** Access-rights bits a VM exit saves from the register: 7:0 (type, S, DPL, P) and 15:12 (AVL, L, D/B, G). */
const SAVED_ACCESS_RIGHTS = 0xf0ffn;
/** CS access rights L (13), D/B (14), G (15): saved even for an unusable CS. */
const CS_L_D_G = 0xe000n;
/** SS access rights DPL (6:5): saved even for an unusable SS. */
const SS_DPL = 0x60n;
/** Interruptibility state: blocking by STI (0), MOV SS (1), SMI (2), NMI (3), enclave (4). */
const STI = 1n;
const MOV_SS = 2n;
const NMI = 8n;
/** Vector 1, #DB. */
const DEBUG_VECTOR = 1;

/** The fields of features whose saving rules the model leaves unknown. */
const LATER_FEATURE_FIELDS: readonly FieldName[] = [
  'GUEST_IA32_RTIT_CTL',
  'GUEST_IA32_LBR_CTL',
  'GUEST_IA32_S_CET',
  'GUEST_SSP',
  'GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR',
  'GUEST_IA32_PKRS',
  'GUEST_IA32_SPEC_CTRL',
  'GUEST_SMBASE',
];

function bit(value: bigint, position: number | bigint): boolean {
  return ((value >> BigInt(position)) & 1n) === 1n;
}

/** `content` with the guest state of `processor` saved, for an exit described by `info`. */
export function saveGuestState(content: VmcsContent, processor: CpuState, profile: Profile, info: ExitInformation): VmcsContent {
  const exitControls = knownFieldValue(content, FIELD.PRIMARY_VM_EXIT_CONTROLS);
  const saves = (control: number): boolean | undefined => (exitControls === undefined ? undefined : bit(exitControls, control));
  let next = saveControlRegistersAndMsrs(content, processor, profile, saves);
  next = saveSegments(next, processor);
  next = saveRipRspRflags(next, processor, info);
  next = saveNonRegisterState(next, processor, profile, info, saves);
  return forget(next, LATER_FEATURE_FIELDS);
}

/** A field saved under a control: the value, unknown when the control is unknown, untouched when 0. */
function saveIf(content: VmcsContent, name: FieldName, control: boolean | undefined, value: bigint | undefined): VmcsContent {
  if (control === false) return content;
  return put(content, name, control === undefined ? undefined : value);
}

/** §28.3.1. */
function saveControlRegistersAndMsrs(content: VmcsContent, cpu: CpuState, profile: Profile, saves: (control: number) => boolean | undefined): VmcsContent {
  const msr = (index: number): bigint | undefined => cpu.msrs.get(index);
  let next = put(content, 'GUEST_CR0', cpu.cr0);
  next = put(next, 'GUEST_CR3', cpu.cr3);
  next = put(next, 'GUEST_CR4', cpu.cr4);
  const sysenterCs = msr(MSR.SYSENTER_CS);
  next = put(next, 'GUEST_IA32_SYSENTER_CS', sysenterCs === undefined ? undefined : sysenterCs & LOW32);
  next = put(next, 'GUEST_IA32_SYSENTER_ESP', msr(MSR.SYSENTER_ESP));
  next = put(next, 'GUEST_IA32_SYSENTER_EIP', msr(MSR.SYSENTER_EIP));
  const debug = saves(EXIT_CONTROL.SAVE_DEBUG_CONTROLS);
  next = saveIf(next, 'GUEST_DR7', debug, cpu.dr7);
  next = saveIf(next, 'GUEST_IA32_DEBUGCTL', debug, msr(MSR.DEBUGCTL));
  next = saveIf(next, 'GUEST_IA32_PAT', saves(EXIT_CONTROL.SAVE_IA32_PAT), msr(MSR.PAT));
  next = saveIf(next, 'GUEST_IA32_EFER', saves(EXIT_CONTROL.SAVE_IA32_EFER), efer(cpu));
  next = saveIf(next, 'GUEST_IA32_PERF_GLOBAL_CTRL', saves(EXIT_CONTROL.SAVE_IA32_PERF_GLOBAL_CTRL), msr(MSR.PERF_GLOBAL_CTRL));
  const bndcfgs = profile.supportsControl('entry', ENTRY_CONTROL.LOAD_IA32_BNDCFGS) || profile.supportsControl('exit', EXIT_CONTROL.CLEAR_IA32_BNDCFGS);
  return bndcfgs ? put(next, 'GUEST_IA32_BNDCFGS', msr(MSR.BNDCFGS)) : next;
}

/** IA32_EFER as the model knows it: its other bits from `msrs`, LME and LMA from the processor. */
function efer(cpu: CpuState): bigint | undefined {
  const known = cpu.msrs.get(MSR.EFER);
  if (known === undefined) return undefined;
  const modes = (cpu.eferLme === 1 ? IA32_EFER.LME : 0n) | (cpu.eferLma === 1 ? IA32_EFER.LMA : 0n);
  return (known & ~(IA32_EFER.LME | IA32_EFER.LMA)) | modes;
}

/** §28.3.2. */
function saveSegments(content: VmcsContent, cpu: CpuState): VmcsContent {
  const guest = cpu.guest;
  let next = content;
  for (const name of Object.keys(SEGMENT_FIELDS) as SegmentName[]) {
    next = saveSegment(next, name, SEGMENT_FIELDS[name], guest?.segments[name]);
  }
  for (const [fields, register] of [
    [DESCRIPTOR_TABLE_FIELDS.gdtr, guest?.gdtr],
    [DESCRIPTOR_TABLE_FIELDS.idtr, guest?.idtr],
  ] as const) {
    next = put(next, fields.base, register?.base);
    next = put(next, fields.limit, register?.limit);
  }
  return next;
}

function saveSegment(content: VmcsContent, name: SegmentName, fields: SegmentFields, register: SegmentRegister | undefined): VmcsContent {
  let next = fields.selector === undefined ? content : put(content, fields.selector, register?.selector);
  const rights = register?.accessRights;
  if (rights === undefined || fields.accessRights === undefined) return forget(next, [fields.base, fields.limit, ...(fields.accessRights === undefined ? [] : [fields.accessRights])]);
  if ((rights & UNUSABLE) === 0n) {
    next = put(next, fields.base, register?.base);
    next = put(next, fields.limit, register?.limit);
    return put(next, fields.accessRights, rights & SAVED_ACCESS_RIGHTS);
  }
  const kept = name === 'CS' ? CS_L_D_G : name === 'SS' ? SS_DPL : 0n;
  next = put(next, fields.accessRights, UNUSABLE | (rights & kept), SAVED_ACCESS_RIGHTS & ~kept);
  next = put(next, fields.limit, name === 'CS' ? register?.limit : undefined);
  if (name === 'CS' || name === 'FS' || name === 'GS') return put(next, fields.base, register?.base);
  if (name === 'SS' || name === 'DS' || name === 'ES') return put(next, fields.base, 0n, LOW32);
  return put(next, fields.base, undefined);
}

/** §28.3.3. */
function saveRipRspRflags(content: VmcsContent, cpu: CpuState, info: ExitInformation): VmcsContent {
  let next = put(content, 'GUEST_RIP', cpu.rip);
  next = put(next, 'GUEST_RSP', cpu.guest?.rsp);
  const loaded = cpu.guest?.rflags;
  if (loaded === undefined) return put(next, 'GUEST_RFLAGS', undefined);
  const kept = loaded & ~(BigInt(ARITHMETIC_FLAGS_MASK) | RFLAGS_RF | (1n << RFLAGS_VM));
  const rflags = kept | BigInt(cpu.flags) | (BigInt(cpu.rflagsVm) << RFLAGS_VM);
  const exception = info.reason === EXIT_REASON.EXCEPTION_OR_NMI;
  next = put(next, 'GUEST_RFLAGS', rflags, exception ? RFLAGS_RF : 0n);
  return next;
}

/** §28.3.4. */
function saveNonRegisterState(
  content: VmcsContent,
  cpu: CpuState,
  profile: Profile,
  info: ExitInformation,
  saves: (control: number) => boolean | undefined,
): VmcsContent {
  const guest = cpu.guest;
  let next = put(content, 'GUEST_ACTIVITY_STATE', BigInt(ACTIVITY_BY_FIELD.indexOf(cpu.activity)));
  const loaded = guest?.interruptibility;
  const blocking = loaded === undefined ? undefined : (loaded & (STI | NMI)) | (cpu.movSsBlocking === 1 ? MOV_SS : 0n);
  next = put(next, 'GUEST_INTERRUPTIBILITY_STATE', blocking);
  const debugExit = info.reason === EXIT_REASON.EXCEPTION_OR_NMI && ((info.interruptionInformation ?? 0) & 0xff) === DEBUG_VECTOR;
  const keepsPending = info.reason === EXIT_REASON.TPR_BELOW_THRESHOLD || info.reason === EXIT_REASON.MONITOR_TRAP_FLAG;
  next = put(next, 'GUEST_PENDING_DEBUG_EXCEPTIONS', (cpu.movSsBlocking === 1 && !debugExit) || keepsPending ? undefined : 0n);
  next = saveIf(next, 'VMX_PREEMPTION_TIMER_VALUE', saves(EXIT_CONTROL.SAVE_VMX_PREEMPTION_TIMER_VALUE), undefined);
  if (!profile.supportsControl('secondary', SECONDARY_CONTROL.ENABLE_EPT)) return next;
  const paePaging = (cpu.cr0 & CR0.PG) !== 0n && (cpu.cr4 & CR4.PAE) !== 0n && cpu.eferLma === 0;
  const pdptes = paePaging && guest?.pdptes !== undefined && guest.loadedCr3 === cpu.cr3 ? guest.pdptes : undefined;
  PDPTE_FIELDS.forEach((field, index) => {
    next = put(next, field, pdptes?.[index]);
  });
  return next;
}
