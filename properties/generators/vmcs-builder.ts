/**
 * A valid VMCS for a profile: a value for every field a VM-entry check of the catalogue
 * (spec/entry-checks/) reads, chosen from the profile's allowed control settings and fixed CR0/CR4
 * bits so that every check passes. The host is always 64-bit; the guest is 64-bit, 32-bit
 * protected mode with 32-bit paging or with PAE paging, virtual-8086 (RFLAGS.VM = 1 over 32-bit
 * paging), or (with unrestricted guest, which needs EPT) real-address mode. A *rich* VMCS also
 * loads every guest MSR the profile's VM-entry controls allow (debug controls, PERF_GLOBAL_CTRL,
 * PAT, EFER, BNDCFGS, CET state, PKRS, UINV) with valid values, has a usable LDTR, and (where the
 * profile allows) uses the VMCS link pointer, referencing a region laid out by {@link buildMemory}:
 * a plain VMCS, or a shadow VMCS with "VMCS shadowing" on. PAE guests without EPT read their
 * PDPTEs from memory at guest CR3: {@link buildMemory} writes four valid ones there.
 *
 * Values follow SDM Vol. 3C, December 2023, §27.2 "Checks on VMX Controls and Host-State Area"
 * and §27.3.1 "Checks on the Guest State Area" (2016: §26.2, §26.3.1), with the allowed settings
 * of Vol. 3D Appendix A.3-A.8. Fields that no check needs set (counts, addresses of areas not in
 * use, event injection, reserved-bit fields) are written as 0, which passes; the VMCS link
 * pointer is all ones. A field the profile does not have is left out. The guest's stack pointer and
 * its GDTR, IDTR and TR bases name the guest environment of spec/guest-layout.ts, which
 * guest-environment.ts lays out in memory before a guest may take an event.
 */
import fc from 'fast-check';
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { ENTRY_CONTROL, EXIT_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { CR0_BIT, CR4_BIT } from '../../spec/control-registers.ts';
import { ENTRY_CHECKS } from '../../spec/entry-checks/index.ts';
import { FIELD, type FieldName } from '../../spec/fields.ts';
import { GUEST_LAYOUT, GUEST_SELECTORS } from '../../spec/guest-layout.ts';
import type { Profile } from '../../spec/profile.ts';

/** The guest's mode after VM entry. */
export type GuestMode = '64-bit' | '32-bit' | '32-bit-pae' | 'v8086' | 'real';

/** How the VMCS link pointer is used: not at all (all ones), a plain VMCS region, a shadow VMCS with "VMCS shadowing" on. */
export type LinkUse = 'none' | 'plain' | 'shadow';

/** What kind of VMCS to build. */
export interface BuildOptions {
  guest: GuestMode;
  /** Activate the secondary processor-based controls (needed for EPT and unrestricted guest). */
  secondary: boolean;
  /** Enable EPT (needs `secondary`). */
  ept: boolean;
  /** Unrestricted guest (needs `ept`). */
  unrestricted: boolean;
  /**
   * Load every guest MSR the VM-entry controls allow, with a usable LDTR (absent: false). The
   * checks that apply only under a "load ..." control then apply, and pass.
   */
  rich?: boolean;
  /** The VMCS link pointer's use (absent: 'none'). */
  link?: LinkUse;
}

/** One 32-bit store to physical memory the VMCS needs before VM entry (a PDPTE half, a link-region header). */
export interface MemoryWrite {
  address: bigint;
  value: bigint;
}

/** A VMCS as an ordered list of field values (the order of the VMWRITEs). */
export type VmcsValues = Map<FieldName, bigint>;

/** Every field some catalogue check reads, in catalogue order. */
export const CHECKED_FIELDS: readonly FieldName[] = [...new Set(ENTRY_CHECKS.flatMap((check) => check.fields as readonly FieldName[]))];

const bit = (n: number): bigint => 1n << BigInt(n);

/** True when control `n` of `set` may be 1 on `profile`. */
function may(profile: Profile, set: keyof Profile['controls'], n: number): boolean {
  return (profile.controls[set].mayBeOne & bit(n)) !== 0n;
}

/** The build options `profile` can support: the guest modes and control choices its capability MSRs allow. */
export function supportedOptions(profile: Profile): BuildOptions[] {
  const hostOk = may(profile, 'exit', EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE);
  if (!hostOk) return [];
  const secondary = may(profile, 'primary', PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS);
  const eptTypeOk = (profile.eptVpidCap & (bit(EPT_VPID_CAP.MEMORY_TYPE_WB) | bit(EPT_VPID_CAP.MEMORY_TYPE_UC))) !== 0n;
  const ept = secondary && may(profile, 'secondary', SECONDARY_CONTROL.ENABLE_EPT) && eptTypeOk && (profile.eptVpidCap & bit(EPT_VPID_CAP.PAGE_WALK_LENGTH_4)) !== 0n;
  const unrestricted = ept && may(profile, 'secondary', SECONDARY_CONTROL.UNRESTRICTED_GUEST);
  const options: BuildOptions[] = [];
  const long = may(profile, 'entry', ENTRY_CONTROL.IA32E_MODE_GUEST);
  const shadowing = secondary && may(profile, 'secondary', SECONDARY_CONTROL.VMCS_SHADOWING);
  const richest = (guest: GuestMode, link: LinkUse): BuildOptions => ({ guest, secondary, ept, unrestricted, rich: true, link });
  for (const guest of (long ? ['64-bit', '32-bit'] : ['32-bit']) as GuestMode[]) {
    options.push({ guest, secondary: false, ept: false, unrestricted: false });
    if (secondary) options.push({ guest, secondary: true, ept: false, unrestricted: false });
    if (ept) options.push({ guest, secondary: true, ept: true, unrestricted: false });
    if (unrestricted) options.push({ guest, secondary: true, ept: true, unrestricted: true });
    options.push(richest(guest, guest === '64-bit' && shadowing ? 'shadow' : 'plain'));
  }
  // PAE paging: PDPTEs in memory (EPT off) or in the VMCS (EPT on).
  options.push({ guest: '32-bit-pae', secondary: false, ept: false, unrestricted: false });
  if (ept) options.push({ guest: '32-bit-pae', secondary: true, ept: true, unrestricted: false });
  options.push(richest('32-bit-pae', shadowing ? 'shadow' : 'plain'));
  // Virtual-8086 over 32-bit paging, with and without unrestricted guest.
  options.push({ guest: 'v8086', secondary: false, ept: false, unrestricted: false });
  options.push(richest('v8086', 'plain'));
  if (unrestricted) {
    options.push({ guest: 'real', secondary: true, ept: true, unrestricted: true });
    options.push(richest('real', shadowing ? 'shadow' : 'plain'));
  }
  return options;
}

/** An arbitrary over {@link supportedOptions}; fails when the profile supports none (no 64-bit host). */
export function buildOptionsArbitrary(profile: Profile): fc.Arbitrary<BuildOptions> {
  const options = supportedOptions(profile);
  if (options.length === 0) throw new Error(`profile ${profile.name} cannot have a 64-bit host (host address-space size not allowed)`);
  return fc.constantFrom(...options);
}

/** Addresses of the structures the VMCS points at (page-aligned, far below any physical-address width; spec/guest-layout.ts). */
export const BUILD_ADDRESSES = {
  hostCr3: GUEST_LAYOUT.hostCr3,
  guestCr3: GUEST_LAYOUT.guestCr3,
  eptRoot: GUEST_LAYOUT.eptPml4,
  /** The region the VMCS link pointer references when in use (a page no other generator lays out). */
  linkRegion: GUEST_LAYOUT.linkRegion,
  /** Page tables the valid PDPTEs point at. */
  pageDirectories: GUEST_LAYOUT.pageDirectories,
  hostRip: GUEST_LAYOUT.hostRip,
  guestRip: GUEST_LAYOUT.guestRip,
} as const;

/** The default PAT (every entry a valid memory type). */
const DEFAULT_PAT = 0x0007_0406_0007_0406n;
const EFER_LME = bit(8);
const EFER_LMA = bit(10);
const DR7_RESERVED_ONE = 0x400n;
const RFLAGS_RESERVED_ONE = 0x2n;
/** Access rights: accessed execute/read code, accessed read/write data, busy TSS; S, P, L, D/B, G bits. */
const AR = { codeType: 0xbn, dataType: 0x3n, busyTss: 0xbn, ldtType: 0x2n, s: bit(4), p: bit(7), l: bit(13), db: bit(14), g: bit(15), unusable: bit(16) } as const;

/** Builds the VMCS for `profile` with `options` (which must be one of {@link supportedOptions}). */
export function buildVmcs(profile: Profile, options: BuildOptions): VmcsValues {
  const values: VmcsValues = new Map(CHECKED_FIELDS.map((field) => [field, 0n]));
  values.set('VMCS_LINK_POINTER', (options.link ?? 'none') === 'none' ? 0xffff_ffff_ffff_ffffn : BUILD_ADDRESSES.linkRegion);
  setControls(profile, options, values);
  setHost(profile, values);
  setGuest(profile, options, values);
  for (const field of values.keys()) if (!profile.fieldExists(FIELD[field])) values.delete(field);
  return values;
}

/**
 * The memory the VMCS built with `options` needs: the header of the region the link pointer
 * references (revision identifier, shadow-VMCS indicator for a shadow VMCS), and for a PAE guest
 * without EPT four present, valid PDPTEs at guest CR3 (8 bytes each, written as two halves).
 */
export function buildMemory(profile: Profile, options: BuildOptions): MemoryWrite[] {
  const writes: MemoryWrite[] = [];
  const link = options.link ?? 'none';
  if (link !== 'none') writes.push({ address: BUILD_ADDRESSES.linkRegion, value: BigInt(profile.revisionId) | (link === 'shadow' ? bit(31) : 0n) });
  if (options.guest === '32-bit-pae' && !options.ept) {
    for (let n = 0n; n < 4n; n += 1n) {
      writes.push({ address: BUILD_ADDRESSES.guestCr3 + 8n * n, value: validPdpte(n) });
      writes.push({ address: BUILD_ADDRESSES.guestCr3 + 8n * n + 4n, value: 0n });
    }
  }
  return writes;
}

/**
 * Physical memory as a VM entry sees it after `writes` (in order) over memory reading as zeros,
 * as a check environment's `readMemory32` reads it.
 */
export function memoryReader(writes: readonly MemoryWrite[]): (address: bigint) => number {
  const words = new Map<bigint, number>();
  for (const write of writes) words.set(write.address, Number(write.value & 0xffff_ffffn));
  return (address) => words.get(address) ?? 0;
}

/** A present PAE PDPTE with no reserved bit set, pointing at page directory `n`. */
function validPdpte(n: bigint): bigint {
  return (BUILD_ADDRESSES.pageDirectories + 0x1000n * n) | 1n;
}

/** The VM-entry controls that load guest MSRs (each with a check that applies only under it). */
const LOAD_CONTROLS = [
  ENTRY_CONTROL.LOAD_DEBUG_CONTROLS,
  ENTRY_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL,
  ENTRY_CONTROL.LOAD_IA32_PAT,
  ENTRY_CONTROL.LOAD_IA32_EFER,
  ENTRY_CONTROL.LOAD_IA32_BNDCFGS,
  ENTRY_CONTROL.LOAD_UINV,
  ENTRY_CONTROL.LOAD_CET_STATE,
  ENTRY_CONTROL.LOAD_PKRS,
] as const;

function setControls(profile: Profile, options: BuildOptions, values: VmcsValues): void {
  const c = profile.controls;
  values.set('PIN_BASED_CONTROLS', c.pin.mustBeOne);
  values.set('PRIMARY_PROCESSOR_BASED_CONTROLS', c.primary.mustBeOne | (options.secondary ? bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) : 0n));
  let secondary = 0n;
  if (options.ept) secondary |= bit(SECONDARY_CONTROL.ENABLE_EPT);
  if (options.unrestricted) secondary |= bit(SECONDARY_CONTROL.UNRESTRICTED_GUEST);
  if (options.link === 'shadow') secondary |= bit(SECONDARY_CONTROL.VMCS_SHADOWING);
  values.set('SECONDARY_PROCESSOR_BASED_CONTROLS', secondary);
  // No VM-entry check reads the exception bitmap, but the guest's faults do (§26.2): a VMM writes it.
  values.set('EXCEPTION_BITMAP', 0n);
  values.set('PRIMARY_VM_EXIT_CONTROLS', c.exit.mustBeOne | bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE));
  let entry = c.entry.mustBeOne | (options.guest === '64-bit' ? bit(ENTRY_CONTROL.IA32E_MODE_GUEST) : 0n);
  if (options.rich === true) for (const n of LOAD_CONTROLS) if (may(profile, 'entry', n)) entry |= bit(n);
  values.set('VM_ENTRY_CONTROLS', entry);
  if (options.ept) {
    // EPTP (§25.6.11 "Extended-Page-Table Pointer (EPTP)"): memory type WB (6) or UC (0), walk length 4 (bits 5:3 = 3).
    const wb = (profile.eptVpidCap & bit(EPT_VPID_CAP.MEMORY_TYPE_WB)) !== 0n;
    values.set('EPT_POINTER', BUILD_ADDRESSES.eptRoot | (3n << 3n) | (wb ? 6n : 0n));
  }
}

function setHost(profile: Profile, values: VmcsValues): void {
  values.set('HOST_CR0', (profile.cr0Fixed0 | bit(CR0_BIT.PE) | bit(CR0_BIT.NE) | bit(CR0_BIT.PG)) & profile.cr0Fixed1 & 0xffff_ffffn);
  values.set('HOST_CR4', (profile.cr4Fixed0 | bit(CR4_BIT.PAE)) & profile.cr4Fixed1);
  values.set('HOST_CR3', BUILD_ADDRESSES.hostCr3);
  values.set('HOST_IA32_PAT', DEFAULT_PAT);
  values.set('HOST_IA32_EFER', EFER_LME | EFER_LMA);
  values.set('HOST_CS_SELECTOR', 0x08n);
  values.set('HOST_SS_SELECTOR', 0x10n);
  for (const seg of ['DS', 'ES', 'FS', 'GS'] as const) values.set(`HOST_${seg}_SELECTOR`, 0x10n);
  values.set('HOST_TR_SELECTOR', 0x18n);
  values.set('HOST_RIP', BUILD_ADDRESSES.hostRip);
}

/** RFLAGS.VM: the guest is a virtual-8086 guest. */
const RFLAGS_VM = bit(17);

function setGuest(profile: Profile, options: BuildOptions, values: VmcsValues): void {
  const real = options.guest === 'real';
  const long = options.guest === '64-bit';
  const pae = long || options.guest === '32-bit-pae';
  // CR0: the fixed bits, with PE and PG (unrestricted guest frees them, SDM §27.3.1.1), no CD/NW.
  // A rich guest also has CR0.WP (which CR4.CET needs).
  const pePg = bit(CR0_BIT.PE) | bit(CR0_BIT.PG);
  let cr0 = (profile.cr0Fixed0 | bit(CR0_BIT.NE) | pePg | (options.rich === true ? bit(CR0_BIT.WP) : 0n)) & profile.cr0Fixed1 & 0xffff_ffffn;
  if (real) cr0 &= ~pePg;
  values.set('GUEST_CR0', cr0 & ~(bit(CR0_BIT.CD) | bit(CR0_BIT.NW)));
  values.set('GUEST_CR4', (profile.cr4Fixed0 | (pae ? bit(CR4_BIT.PAE) : 0n)) & profile.cr4Fixed1);
  values.set('GUEST_CR3', BUILD_ADDRESSES.guestCr3);
  values.set('GUEST_DR7', DR7_RESERVED_ONE);
  values.set('GUEST_IA32_PAT', DEFAULT_PAT);
  values.set('GUEST_IA32_EFER', long ? EFER_LME | EFER_LMA : 0n);
  values.set('GUEST_RIP', BUILD_ADDRESSES.guestRip);
  // The guest's stack and descriptor tables (spec/guest-layout.ts; guest-environment.ts lays them out before a delivery).
  values.set('GUEST_RSP', GUEST_LAYOUT.guestRsp);
  values.set('GUEST_GDTR_BASE', long ? GUEST_LAYOUT.gdt64 : GUEST_LAYOUT.gdt32);
  values.set('GUEST_IDTR_BASE', long ? GUEST_LAYOUT.idt64 : real ? GUEST_LAYOUT.ivt : GUEST_LAYOUT.idt32);
  values.set('GUEST_TR_BASE', long ? GUEST_LAYOUT.tss64 : GUEST_LAYOUT.tss32);
  values.set('GUEST_RFLAGS', RFLAGS_RESERVED_ONE | (options.guest === 'v8086' ? RFLAGS_VM : 0n));
  if (options.ept) for (let n = 0; n < 4; n += 1) values.set(`GUEST_PDPTE${n as 0 | 1 | 2 | 3}`, validPdpte(BigInt(n)));
  setGuestSegments(options.guest, values);
  if (options.rich === true) setGuestLdtr(values);
}

/**
 * Guest segments (§27.3.1.2 "Checks on Guest Segment Registers"): flat code and data segments
 * at DPL 0 (real mode: 64 KiB, byte-granular), a busy TSS, LDTR unusable, descriptor tables with
 * limits below 64 KiB. A virtual-8086 guest has the segments that mode requires: base = selector
 * × 16, limit FFFFH, access rights F3H (present read/write accessed data, DPL 3).
 */
function setGuestSegments(guest: GuestMode, values: VmcsValues): void {
  if (guest === 'v8086') {
    const v8086 = { CS: 0x1000n, SS: 0x2000n, DS: 0x3000n, ES: 0x3000n, FS: 0x4000n, GS: 0x5000n } as const;
    for (const seg of ['CS', 'SS', 'DS', 'ES', 'FS', 'GS'] as const) {
      values.set(`GUEST_${seg}_SELECTOR`, v8086[seg]);
      values.set(`GUEST_${seg}_BASE`, v8086[seg] << 4n);
      values.set(`GUEST_${seg}_LIMIT`, 0xffffn);
      values.set(`GUEST_${seg}_ACCESS_RIGHTS`, V8086_ACCESS_RIGHTS);
    }
  } else {
    const real = guest === 'real';
    const limit = real ? 0xffffn : 0xffff_ffffn;
    const big = real ? 0n : AR.g | AR.db;
    const code = AR.codeType | AR.s | AR.p | (guest === '64-bit' ? AR.g | AR.l : big);
    const data = AR.dataType | AR.s | AR.p | big;
    const selectors = real ? { CS: 0n, SS: 0n, DATA: 0n } : { CS: GUEST_SELECTORS.code, SS: GUEST_SELECTORS.data, DATA: GUEST_SELECTORS.data };
    values.set('GUEST_CS_SELECTOR', selectors.CS);
    values.set('GUEST_CS_ACCESS_RIGHTS', real ? AR.dataType | AR.s | AR.p : code);
    values.set('GUEST_CS_LIMIT', limit);
    values.set('GUEST_SS_SELECTOR', selectors.SS);
    values.set('GUEST_SS_ACCESS_RIGHTS', data);
    values.set('GUEST_SS_LIMIT', limit);
    for (const seg of ['DS', 'ES', 'FS', 'GS'] as const) {
      values.set(`GUEST_${seg}_SELECTOR`, selectors.DATA);
      values.set(`GUEST_${seg}_ACCESS_RIGHTS`, data);
      values.set(`GUEST_${seg}_LIMIT`, limit);
    }
  }
  values.set('GUEST_TR_SELECTOR', guest === 'real' ? 0n : GUEST_SELECTORS.tss);
  values.set('GUEST_TR_ACCESS_RIGHTS', AR.busyTss | AR.p);
  values.set('GUEST_TR_LIMIT', 0x67n);
  values.set('GUEST_LDTR_ACCESS_RIGHTS', AR.unusable);
  values.set('GUEST_GDTR_LIMIT', 0x7fn);
  values.set('GUEST_IDTR_LIMIT', 0xfffn);
}

/** Access rights of every segment of a virtual-8086 guest: type 3, S, DPL 3, P. */
const V8086_ACCESS_RIGHTS = 0xf3n;

/** A usable LDTR: selector 20H (GDT, RPL 0), type 2 (LDT), P, byte-granular limit FFFFH. */
function setGuestLdtr(values: VmcsValues): void {
  values.set('GUEST_LDTR_SELECTOR', GUEST_SELECTORS.ldt);
  values.set('GUEST_LDTR_ACCESS_RIGHTS', AR.ldtType | AR.p);
  values.set('GUEST_LDTR_LIMIT', 0xffffn);
}
