/**
 * A VMCS that passes every check on the controls and the host-state area (SDM Vol. 3C, December
 * 2023, §27.2 "Checks on VMX Controls and Host-State Area") for a given profile, built from the
 * SDM's rules (not from running impl/ or the model), and the operations that load it.
 *
 * The processor is in 64-bit mode (the initial state), so the host is 64-bit: "host address-space
 * size" = 1, host CR4.PAE = 1. Every field the catalogue's checks read and the profile has is
 * written, so the model never meets a field that was never written.
 */
import { ENTRY_CHECKS } from '../../spec/entry-checks/index.ts';
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { EXIT_CONTROL, PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import { FIELD } from '../../spec/fields.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { environmentFor } from './guest-environment.ts';

/** A field name of spec/field-names.ts. */
export type FieldName = keyof typeof FIELD;

/** Page-aligned addresses for the structures the controls point at (all below 4 GBytes). */
export const PAGES = {
  ioBitmapA: 0x10000n,
  ioBitmapB: 0x11000n,
  msrBitmap: 0x12000n,
  virtualApic: 0x13000n,
  apicAccess: 0x14000n,
  postedDescriptor: 0x15000n,
  pml: 0x16000n,
  subPage: 0x17000n,
  eptpList: 0x18000n,
  vmreadBitmap: 0x19000n,
  vmwriteBitmap: 0x1a000n,
  veInformation: 0x1b000n,
  msrAreas: 0x1c000n,
} as const;

const bit = (value: bigint, position: number): boolean => ((value >> BigInt(position)) & 1n) === 1n;

/** The valid VMCS of `profile`: field name to value, for every field it has that the checks read. */
export function validVmcs(profile: Profile): Map<FieldName, bigint> {
  const c = profile.controls;
  const cap = profile.eptVpidCap;
  const primary = c.primary.mustBeOne | (profile.supportsControl('primary', PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) ? 1n << BigInt(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) : 0n);
  const values: [FieldName, bigint][] = [
    ['PIN_BASED_CONTROLS', c.pin.mustBeOne],
    ['PRIMARY_PROCESSOR_BASED_CONTROLS', primary],
    ['SECONDARY_PROCESSOR_BASED_CONTROLS', c.secondary.mustBeOne],
    ['TERTIARY_PROCESSOR_BASED_CONTROLS', 0n],
    ['CR3_TARGET_COUNT', 0n],
    ['IO_BITMAP_A_ADDRESS', PAGES.ioBitmapA],
    ['IO_BITMAP_B_ADDRESS', PAGES.ioBitmapB],
    ['MSR_BITMAPS_ADDRESS', PAGES.msrBitmap],
    ['VIRTUAL_APIC_ADDRESS', PAGES.virtualApic],
    ['TPR_THRESHOLD', 0n],
    ['APIC_ACCESS_ADDRESS', PAGES.apicAccess],
    ['POSTED_INTERRUPT_NOTIFICATION_VECTOR', 0xf2n],
    ['POSTED_INTERRUPT_DESCRIPTOR_ADDRESS', PAGES.postedDescriptor],
    ['VPID', 1n],
    // Write-back (6) if supported, else uncacheable (0); page-walk length 4 (bits 5:3 = 3).
    ['EPT_POINTER', (bit(cap, EPT_VPID_CAP.MEMORY_TYPE_WB) ? 6n : 0n) | (3n << 3n)],
    ['PML_ADDRESS', PAGES.pml],
    ['SUB_PAGE_PERMISSION_TABLE_POINTER', PAGES.subPage],
    ['VM_FUNCTION_CONTROLS', 0n],
    ['EPTP_LIST_ADDRESS', PAGES.eptpList],
    ['VMREAD_BITMAP_ADDRESS', PAGES.vmreadBitmap],
    ['VMWRITE_BITMAP_ADDRESS', PAGES.vmwriteBitmap],
    ['VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS', PAGES.veInformation],
    ['PRIMARY_VM_EXIT_CONTROLS', c.exit.mustBeOne | (1n << BigInt(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE))],
    ['SECONDARY_VM_EXIT_CONTROLS', 0n],
    ['VM_EXIT_MSR_STORE_COUNT', 0n],
    ['VM_EXIT_MSR_STORE_ADDRESS', PAGES.msrAreas],
    ['VM_EXIT_MSR_LOAD_COUNT', 0n],
    ['VM_EXIT_MSR_LOAD_ADDRESS', PAGES.msrAreas],
    ['VM_ENTRY_CONTROLS', c.entry.mustBeOne],
    ['VM_ENTRY_MSR_LOAD_COUNT', 0n],
    ['VM_ENTRY_MSR_LOAD_ADDRESS', PAGES.msrAreas],
    ['VM_ENTRY_INTERRUPTION_INFORMATION', 0n],
    ['VM_ENTRY_EXCEPTION_ERROR_CODE', 0n],
    ['VM_ENTRY_INSTRUCTION_LENGTH', 1n],
    // CR0: PG, NE, ET, PE; CR4: PAE and VMXE; both within the VMX-fixed bits.
    ['HOST_CR0', (0x8000_0031n | profile.cr0Fixed0) & profile.cr0Fixed1],
    ['HOST_CR3', 0x1000n],
    ['HOST_CR4', (0x2020n | profile.cr4Fixed0) & profile.cr4Fixed1],
    ['HOST_IA32_SYSENTER_ESP', 0n],
    ['HOST_IA32_SYSENTER_EIP', 0n],
    ['HOST_IA32_PERF_GLOBAL_CTRL', 0n],
    // The power-up value of IA32_PAT: WB, WT, UC-, UC in each half.
    ['HOST_IA32_PAT', 0x0007_0406_0007_0406n],
    // LME, LMA, NXE, SCE: a 64-bit host.
    ['HOST_IA32_EFER', 0xd01n],
    ['HOST_IA32_S_CET', 0n],
    ['HOST_SSP', 0n],
    ['HOST_IA32_INTERRUPT_SSP_TABLE_ADDR', 0n],
    ['HOST_IA32_PKRS', 0n],
    ['HOST_ES_SELECTOR', 0x18n],
    ['HOST_CS_SELECTOR', 0x10n],
    ['HOST_SS_SELECTOR', 0x18n],
    ['HOST_DS_SELECTOR', 0x18n],
    ['HOST_FS_SELECTOR', 0n],
    ['HOST_GS_SELECTOR', 0n],
    ['HOST_TR_SELECTOR', 0x40n],
    ['HOST_FS_BASE', 0n],
    ['HOST_GS_BASE', 0n],
    ['HOST_TR_BASE', 0x2_0000n],
    ['HOST_GDTR_BASE', 0x3_0000n],
    ['HOST_IDTR_BASE', 0x4_0000n],
    ['HOST_RSP', 0x8000n],
    ['HOST_RIP', 0x40_0000n],
    ...validGuestState(profile),
  ];
  return new Map(values.filter(([name]) => profile.fieldExists(FIELD[name])));
}

/**
 * A guest state that passes every guest-state check (SDM Vol. 3C, December 2023, §27.3.1
 * "Checks on the Guest State Area") whether "IA-32e mode guest" is 0 or 1 and whatever
 * "unrestricted guest" says: 32-bit protected mode with PAE paging (CR0.PG, CR4.PAE; the PDPTEs
 * at CR3 = 7000H read as zeros, not present), flat 4-GByte code (type 11, D/B = 1) and data
 * (type 3) segments at DPL 0, a busy 32-bit TSS, an unusable LDTR, RFLAGS = 2, active, nothing
 * blocked, the VMCS link pointer unused.
 */
export function validGuestState(profile: Profile): [FieldName, bigint][] {
  const flat = (name: 'ES' | 'SS' | 'DS' | 'FS' | 'GS'): [FieldName, bigint][] => [
    [`GUEST_${name}_SELECTOR`, 0x10n],
    [`GUEST_${name}_BASE`, 0n],
    [`GUEST_${name}_LIMIT`, 0xffff_ffffn],
    [`GUEST_${name}_ACCESS_RIGHTS`, 0xc093n],
  ];
  return [
    ['GUEST_CR0', (0x8000_0031n | profile.cr0Fixed0) & profile.cr0Fixed1],
    ['GUEST_CR3', 0x7000n],
    ['GUEST_CR4', (0x2020n | profile.cr4Fixed0) & profile.cr4Fixed1],
    ['GUEST_DR7', 0x400n],
    ['GUEST_IA32_DEBUGCTL', 0n],
    ['GUEST_IA32_SYSENTER_ESP', 0n],
    ['GUEST_IA32_SYSENTER_EIP', 0n],
    ['GUEST_IA32_PERF_GLOBAL_CTRL', 0n],
    ['GUEST_IA32_PAT', 0x0007_0406_0007_0406n],
    ['GUEST_IA32_EFER', 0n],
    ['GUEST_IA32_BNDCFGS', 0n],
    ['GUEST_IA32_S_CET', 0n],
    ['GUEST_SSP', 0n],
    ['GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR', 0n],
    ['GUEST_IA32_PKRS', 0n],
    ['GUEST_IA32_SPEC_CTRL', 0n],
    ['GUEST_IA32_FRED_CONFIG', 0n],
    ['GUEST_IA32_FRED_RSP1', 0n],
    ['GUEST_IA32_FRED_RSP2', 0n],
    ['GUEST_IA32_FRED_RSP3', 0n],
    ['GUEST_IA32_FRED_SSP1', 0n],
    ['GUEST_IA32_FRED_SSP2', 0n],
    ['GUEST_IA32_FRED_SSP3', 0n],
    ['GUEST_UINV', 0n],
    ['GUEST_CS_SELECTOR', 0x8n],
    ['GUEST_CS_BASE', 0n],
    ['GUEST_CS_LIMIT', 0xffff_ffffn],
    ['GUEST_CS_ACCESS_RIGHTS', 0xc09bn],
    ...flat('SS'),
    ...flat('DS'),
    ...flat('ES'),
    ...flat('FS'),
    ...flat('GS'),
    ['GUEST_TR_SELECTOR', 0x18n],
    ['GUEST_TR_BASE', 0x5_0000n],
    ['GUEST_TR_LIMIT', 0x67n],
    ['GUEST_TR_ACCESS_RIGHTS', 0x8bn],
    ['GUEST_LDTR_SELECTOR', 0n],
    ['GUEST_LDTR_BASE', 0n],
    ['GUEST_LDTR_LIMIT', 0n],
    ['GUEST_LDTR_ACCESS_RIGHTS', 0x1_0000n],
    ['GUEST_GDTR_BASE', 0x3_0000n],
    ['GUEST_GDTR_LIMIT', 0xffn],
    ['GUEST_IDTR_BASE', 0x4_0000n],
    ['GUEST_IDTR_LIMIT', 0xfffn],
    ['GUEST_RIP', 0x1000n],
    ['GUEST_RSP', 0x9000n],
    ['GUEST_RFLAGS', 0x2n],
    ['GUEST_ACTIVITY_STATE', 0n],
    ['GUEST_INTERRUPTIBILITY_STATE', 0n],
    ['GUEST_PENDING_DEBUG_EXCEPTIONS', 0n],
    ['VMCS_LINK_POINTER', 0xffff_ffff_ffff_ffffn],
    ['GUEST_PDPTE0', 0n],
    ['GUEST_PDPTE1', 0n],
    ['GUEST_PDPTE2', 0n],
    ['GUEST_PDPTE3', 0n],
  ];
}

/** Every field named by a catalogue check of the control and host groups (for completeness tests). */
export const CATALOGUE_FIELDS: ReadonlySet<string> = new Set(
  ENTRY_CHECKS.filter((check) => check.group !== 'basic').flatMap((check) => check.fields),
);

const hex = (value: bigint): string => `0x${value.toString(16)}`;

/**
 * Operations that enter VMX operation on cpu 0, load a clear VMCS, write `fields` to it and set
 * VTPR (byte 80H of the virtual-APIC page) to `vtpr`; with `environment` (the default) also the
 * guest environment of test/impl/guest-environment.ts, so that events delivered through the guest
 * IDT succeed.
 */
export function loadVmcsOperations(profile: Profile, fields: ReadonlyMap<FieldName, bigint>, vtpr = 0n, environment = true): Operation[] {
  const revision = hex(BigInt(profile.revisionId));
  const ops: Operation[] = [
    { kind: 'write-memory', cpu: 0, address: '0x1000', value: revision },
    { kind: 'write-memory', cpu: 0, address: '0x2000', value: revision },
    { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
    { kind: 'vmclear', cpu: 0, pointer: '0x2000' },
    { kind: 'vmptrld', cpu: 0, pointer: '0x2000' },
  ];
  const apic = fields.get('VIRTUAL_APIC_ADDRESS') ?? PAGES.virtualApic;
  if ((apic & 0xfffn) === 0n && apic < 1n << 32n) {
    ops.push({ kind: 'write-memory', cpu: 0, address: hex(apic + 0x80n), value: hex(vtpr) });
  }
  if (environment) {
    for (const [address, word] of environmentFor(fields)) ops.push({ kind: 'write-memory', cpu: 0, address: hex(BigInt(address)), value: hex(BigInt(word)) });
  }
  for (const [name, value] of fields) {
    ops.push({ kind: 'vmwrite', cpu: 0, encoding: hex(BigInt(FIELD[name])), value: hex(value) });
  }
  return ops;
}

/** VMWRITEs (on `cpu`) of the valid VMCS of `profile` into the current VMCS. */
export function validVmcsWrites(profile: Profile, cpu = 0): Operation[] {
  return [...validVmcs(profile)].map(([name, value]) => ({ kind: 'vmwrite', cpu, encoding: hex(BigInt(FIELD[name])), value: hex(value) }));
}
