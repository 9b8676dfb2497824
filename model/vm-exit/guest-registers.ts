/**
 * The guest register file (model/state.ts `GuestRegisters`) and the guest-state fields it
 * corresponds to: what VM entry loads (SDM Vol. 3C, December 2023, §27.3.2 "Loading Guest State")
 * is what a VM exit saves (§28.3 "Saving Guest State"), so both sides read the tables here.
 *
 * Segment registers and descriptor-table registers: §25.4.1 "Guest Register State" lists the
 * selector, base, limit and access-rights fields of each. MSRs: the guest-state fields that hold
 * an MSR, with the VM-entry control that loads it (none: always loaded) — §27.3.2.1 "Loading
 * Guest Control Registers, Debug Registers, and MSRs".
 */
import { ENTRY_CONTROL } from '../../spec/control-bits.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { GuestRegisters, SegmentName, SegmentRegister } from '../state.ts';
import type { VmcsView } from '../vm-entry/check.ts';
import { MSR } from './msr-indices.ts';

/** The four fields of one segment register. */
export interface SegmentFields {
  readonly selector: FieldName | undefined;
  readonly base: FieldName;
  readonly limit: FieldName;
  readonly accessRights: FieldName | undefined;
}

/** The segment registers in the order of the guest-state area, with their fields. */
export const SEGMENT_FIELDS: Readonly<Record<SegmentName, SegmentFields>> = {
  ES: { selector: 'GUEST_ES_SELECTOR', base: 'GUEST_ES_BASE', limit: 'GUEST_ES_LIMIT', accessRights: 'GUEST_ES_ACCESS_RIGHTS' },
  CS: { selector: 'GUEST_CS_SELECTOR', base: 'GUEST_CS_BASE', limit: 'GUEST_CS_LIMIT', accessRights: 'GUEST_CS_ACCESS_RIGHTS' },
  SS: { selector: 'GUEST_SS_SELECTOR', base: 'GUEST_SS_BASE', limit: 'GUEST_SS_LIMIT', accessRights: 'GUEST_SS_ACCESS_RIGHTS' },
  DS: { selector: 'GUEST_DS_SELECTOR', base: 'GUEST_DS_BASE', limit: 'GUEST_DS_LIMIT', accessRights: 'GUEST_DS_ACCESS_RIGHTS' },
  FS: { selector: 'GUEST_FS_SELECTOR', base: 'GUEST_FS_BASE', limit: 'GUEST_FS_LIMIT', accessRights: 'GUEST_FS_ACCESS_RIGHTS' },
  GS: { selector: 'GUEST_GS_SELECTOR', base: 'GUEST_GS_BASE', limit: 'GUEST_GS_LIMIT', accessRights: 'GUEST_GS_ACCESS_RIGHTS' },
  LDTR: { selector: 'GUEST_LDTR_SELECTOR', base: 'GUEST_LDTR_BASE', limit: 'GUEST_LDTR_LIMIT', accessRights: 'GUEST_LDTR_ACCESS_RIGHTS' },
  TR: { selector: 'GUEST_TR_SELECTOR', base: 'GUEST_TR_BASE', limit: 'GUEST_TR_LIMIT', accessRights: 'GUEST_TR_ACCESS_RIGHTS' },
};

/** GDTR and IDTR: base and limit only. */
export const DESCRIPTOR_TABLE_FIELDS = {
  gdtr: { selector: undefined, base: 'GUEST_GDTR_BASE', limit: 'GUEST_GDTR_LIMIT', accessRights: undefined },
  idtr: { selector: undefined, base: 'GUEST_IDTR_BASE', limit: 'GUEST_IDTR_LIMIT', accessRights: undefined },
} as const satisfies Record<string, SegmentFields>;

/** The PDPTE fields, in order. */
export const PDPTE_FIELDS: readonly FieldName[] = ['GUEST_PDPTE0', 'GUEST_PDPTE1', 'GUEST_PDPTE2', 'GUEST_PDPTE3'];

/** A guest-state field holding an MSR, and the VM-entry control that loads it (`undefined`: always). */
export interface MsrField {
  readonly field: FieldName;
  readonly msr: number;
  readonly loadedBy: number | undefined;
}

/**
 * The MSRs VM entry loads from guest-state fields, besides IA32_EFER (its LME and LMA bits follow
 * "IA-32e mode guest" when "load IA32_EFER" is 0: load-guest.ts). IA32_SYSENTER_CS takes bits
 * 31:0 of its 32-bit field, bits 63:32 cleared; the FS and GS base MSRs are the segment bases.
 */
export const GUEST_MSR_FIELDS: readonly MsrField[] = [
  { field: 'GUEST_IA32_DEBUGCTL', msr: MSR.DEBUGCTL, loadedBy: ENTRY_CONTROL.LOAD_DEBUG_CONTROLS },
  { field: 'GUEST_IA32_SYSENTER_CS', msr: MSR.SYSENTER_CS, loadedBy: undefined },
  { field: 'GUEST_IA32_SYSENTER_ESP', msr: MSR.SYSENTER_ESP, loadedBy: undefined },
  { field: 'GUEST_IA32_SYSENTER_EIP', msr: MSR.SYSENTER_EIP, loadedBy: undefined },
  { field: 'GUEST_FS_BASE', msr: MSR.FS_BASE, loadedBy: undefined },
  { field: 'GUEST_GS_BASE', msr: MSR.GS_BASE, loadedBy: undefined },
  { field: 'GUEST_IA32_PERF_GLOBAL_CTRL', msr: MSR.PERF_GLOBAL_CTRL, loadedBy: ENTRY_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL },
  { field: 'GUEST_IA32_PAT', msr: MSR.PAT, loadedBy: ENTRY_CONTROL.LOAD_IA32_PAT },
  { field: 'GUEST_IA32_BNDCFGS', msr: MSR.BNDCFGS, loadedBy: ENTRY_CONTROL.LOAD_IA32_BNDCFGS },
  { field: 'GUEST_IA32_RTIT_CTL', msr: MSR.RTIT_CTL, loadedBy: ENTRY_CONTROL.LOAD_IA32_RTIT_CTL },
  { field: 'GUEST_IA32_LBR_CTL', msr: MSR.LBR_CTL, loadedBy: ENTRY_CONTROL.LOAD_GUEST_IA32_LBR_CTL },
  { field: 'GUEST_IA32_S_CET', msr: MSR.S_CET, loadedBy: ENTRY_CONTROL.LOAD_CET_STATE },
  { field: 'GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR', msr: MSR.INTERRUPT_SSP_TABLE_ADDR, loadedBy: ENTRY_CONTROL.LOAD_CET_STATE },
  { field: 'GUEST_IA32_PKRS', msr: MSR.PKRS, loadedBy: ENTRY_CONTROL.LOAD_PKRS },
];

function segmentFrom(view: VmcsView, fields: SegmentFields): SegmentRegister {
  return {
    selector: fields.selector === undefined ? undefined : view.get(fields.selector),
    base: view.get(fields.base),
    limit: view.get(fields.limit),
    accessRights: fields.accessRights === undefined ? undefined : view.get(fields.accessRights),
  };
}

/**
 * The register file VM entry loads from the guest-state area seen through `view` (unknown fields
 * give unknown registers). `pdptes` says whether the PDPTE fields are loaded ("enable EPT" = 1
 * and the guest uses PAE paging, §27.3.2.4 "Loading Page-Directory-Pointer-Table Entries").
 */
export function loadedRegisters(view: VmcsView, pdptes: boolean): GuestRegisters {
  const segments = Object.fromEntries(
    (Object.keys(SEGMENT_FIELDS) as SegmentName[]).map((name) => [name, segmentFrom(view, SEGMENT_FIELDS[name])]),
  ) as Record<SegmentName, SegmentRegister>;
  return {
    rsp: view.get('GUEST_RSP'),
    rflags: view.get('GUEST_RFLAGS'),
    segments,
    gdtr: segmentFrom(view, DESCRIPTOR_TABLE_FIELDS.gdtr),
    idtr: segmentFrom(view, DESCRIPTOR_TABLE_FIELDS.idtr),
    interruptibility: view.get('GUEST_INTERRUPTIBILITY_STATE'),
    pendingDebugExceptions: view.get('GUEST_PENDING_DEBUG_EXCEPTIONS'),
    activity: view.get('GUEST_ACTIVITY_STATE') ?? 0n,
    pdptes: pdptes ? PDPTE_FIELDS.map((field) => view.get(field)) : undefined,
    loadedCr3: view.get('GUEST_CR3'),
    ssp: view.get('GUEST_SSP'),
  };
}
