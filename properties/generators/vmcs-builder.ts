/**
 * A valid VMCS for a profile: a value for every field a VM-entry check of the catalogue
 * (spec/entry-checks/) reads, chosen from the profile's allowed control settings and fixed CR0/CR4
 * bits so that every check passes. The host is always 64-bit; the guest is 64-bit, 32-bit
 * protected mode with paging, or (with unrestricted guest, which needs EPT) real-address mode.
 *
 * Values follow SDM Vol. 3C, December 2023, §27.2 "Checks on VMX Controls and Host-State Area"
 * and §27.3.1 "Checks on the Guest State Area" (2016: §26.2, §26.3.1), with the allowed settings
 * of Vol. 3D Appendix A.3-A.8. Fields that no check needs set (counts, addresses of areas not in
 * use, event injection, reserved-bit fields) are written as 0, which passes; the VMCS link
 * pointer is all ones. A field the profile does not have is left out.
 */
import fc from 'fast-check';
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { ENTRY_CONTROL, EXIT_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { CR0_BIT, CR4_BIT } from '../../spec/control-registers.ts';
import { ENTRY_CHECKS } from '../../spec/entry-checks/index.ts';
import { FIELD, type FieldName } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';

/** The guest's mode after VM entry. */
export type GuestMode = '64-bit' | '32-bit' | 'real';

/** What kind of VMCS to build. */
export interface BuildOptions {
  guest: GuestMode;
  /** Activate the secondary processor-based controls (needed for EPT and unrestricted guest). */
  secondary: boolean;
  /** Enable EPT (needs `secondary`). */
  ept: boolean;
  /** Unrestricted guest (needs `ept`). */
  unrestricted: boolean;
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
  const guests: GuestMode[] = may(profile, 'entry', ENTRY_CONTROL.IA32E_MODE_GUEST) ? ['64-bit', '32-bit'] : ['32-bit'];
  for (const guest of guests) {
    options.push({ guest, secondary: false, ept: false, unrestricted: false });
    if (secondary) options.push({ guest, secondary: true, ept: false, unrestricted: false });
    if (ept) options.push({ guest, secondary: true, ept: true, unrestricted: false });
    if (unrestricted) options.push({ guest, secondary: true, ept: true, unrestricted: true });
  }
  if (unrestricted) options.push({ guest: 'real', secondary: true, ept: true, unrestricted: true });
  return options;
}

/** An arbitrary over {@link supportedOptions}; fails when the profile supports none (no 64-bit host). */
export function buildOptionsArbitrary(profile: Profile): fc.Arbitrary<BuildOptions> {
  const options = supportedOptions(profile);
  if (options.length === 0) throw new Error(`profile ${profile.name} cannot have a 64-bit host (host address-space size not allowed)`);
  return fc.constantFrom(...options);
}

/** Addresses of the structures the VMCS points at (page-aligned, far below any physical-address width). */
export const BUILD_ADDRESSES = { hostCr3: 0x20000n, guestCr3: 0x21000n, eptRoot: 0x22000n, hostRip: 0x40_1000n, guestRip: 0x40_2000n } as const;

/** The default PAT (every entry a valid memory type). */
const DEFAULT_PAT = 0x0007_0406_0007_0406n;
const EFER_LME = bit(8);
const EFER_LMA = bit(10);
const DR7_RESERVED_ONE = 0x400n;
const RFLAGS_RESERVED_ONE = 0x2n;
/** Access rights: accessed execute/read code, accessed read/write data, busy TSS; S, P, L, D/B, G bits. */
const AR = { codeType: 0xbn, dataType: 0x3n, busyTss: 0xbn, s: bit(4), p: bit(7), l: bit(13), db: bit(14), g: bit(15), unusable: bit(16) } as const;

/** Builds the VMCS for `profile` with `options` (which must be one of {@link supportedOptions}). */
export function buildVmcs(profile: Profile, options: BuildOptions): VmcsValues {
  const values: VmcsValues = new Map(CHECKED_FIELDS.map((field) => [field, 0n]));
  values.set('VMCS_LINK_POINTER', 0xffff_ffff_ffff_ffffn);
  setControls(profile, options, values);
  setHost(profile, values);
  setGuest(profile, options, values);
  for (const field of values.keys()) if (!profile.fieldExists(FIELD[field])) values.delete(field);
  return values;
}

function setControls(profile: Profile, options: BuildOptions, values: VmcsValues): void {
  const c = profile.controls;
  values.set('PIN_BASED_CONTROLS', c.pin.mustBeOne);
  values.set('PRIMARY_PROCESSOR_BASED_CONTROLS', c.primary.mustBeOne | (options.secondary ? bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) : 0n));
  let secondary = 0n;
  if (options.ept) secondary |= bit(SECONDARY_CONTROL.ENABLE_EPT);
  if (options.unrestricted) secondary |= bit(SECONDARY_CONTROL.UNRESTRICTED_GUEST);
  values.set('SECONDARY_PROCESSOR_BASED_CONTROLS', secondary);
  values.set('PRIMARY_VM_EXIT_CONTROLS', c.exit.mustBeOne | bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE));
  values.set('VM_ENTRY_CONTROLS', c.entry.mustBeOne | (options.guest === '64-bit' ? bit(ENTRY_CONTROL.IA32E_MODE_GUEST) : 0n));
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

function setGuest(profile: Profile, options: BuildOptions, values: VmcsValues): void {
  const real = options.guest === 'real';
  const long = options.guest === '64-bit';
  // CR0: the fixed bits, with PE and PG (unrestricted guest frees them, SDM §27.3.1.1), no CD/NW.
  const pePg = bit(CR0_BIT.PE) | bit(CR0_BIT.PG);
  let cr0 = (profile.cr0Fixed0 | bit(CR0_BIT.NE) | pePg) & profile.cr0Fixed1 & 0xffff_ffffn;
  if (real) cr0 &= ~pePg;
  values.set('GUEST_CR0', cr0 & ~(bit(CR0_BIT.CD) | bit(CR0_BIT.NW)));
  values.set('GUEST_CR4', (profile.cr4Fixed0 | (long ? bit(CR4_BIT.PAE) : 0n)) & profile.cr4Fixed1);
  values.set('GUEST_CR3', BUILD_ADDRESSES.guestCr3);
  values.set('GUEST_DR7', DR7_RESERVED_ONE);
  values.set('GUEST_IA32_PAT', DEFAULT_PAT);
  values.set('GUEST_IA32_EFER', long ? EFER_LME | EFER_LMA : 0n);
  values.set('GUEST_RIP', BUILD_ADDRESSES.guestRip);
  values.set('GUEST_RFLAGS', RFLAGS_RESERVED_ONE);
  setGuestSegments(options.guest, values);
}

/**
 * Guest segments (§27.3.1.2 "Checks on Guest Segment Registers"): flat code and data segments
 * at DPL 0 (real mode: 64 KiB, byte-granular), a busy TSS, LDTR unusable, descriptor tables with
 * limits below 64 KiB.
 */
function setGuestSegments(guest: GuestMode, values: VmcsValues): void {
  const real = guest === 'real';
  const limit = real ? 0xffffn : 0xffff_ffffn;
  const big = real ? 0n : AR.g | AR.db;
  const code = AR.codeType | AR.s | AR.p | (guest === '64-bit' ? AR.g | AR.l : big);
  const data = AR.dataType | AR.s | AR.p | big;
  const selectors = real ? { CS: 0n, SS: 0n, DATA: 0n } : { CS: 0x08n, SS: 0x10n, DATA: 0x10n };
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
  values.set('GUEST_TR_SELECTOR', real ? 0n : 0x18n);
  values.set('GUEST_TR_ACCESS_RIGHTS', AR.busyTss | AR.p);
  values.set('GUEST_TR_LIMIT', 0x67n);
  values.set('GUEST_LDTR_ACCESS_RIGHTS', AR.unusable);
  values.set('GUEST_GDTR_LIMIT', 0x7fn);
  values.set('GUEST_IDTR_LIMIT', 0xfffn);
}
