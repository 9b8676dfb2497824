/**
 * Linear → guest-physical → physical translation for the accesses of event delivery, and reads
 * and writes of guest memory by linear address (SDM Vol. 3A, December 2023, ch. 4 "Paging").
 *
 * - Paging off (CR0.PG = 0): the linear address is the guest-physical address (bits 31:0 outside
 *   IA-32e mode).
 * - §4.3 "32-Bit Paging": the page directory at CR3 bits 31:12 (index bits 31:22); a PDE with PS
 *   = 1 and CR4.PSE = 1 maps a 4-MByte page (bits 39:32 of the address in PDE bits 20:13, bit 21
 *   reserved), else the page table (index bits 21:12). 4-byte entries.
 * - §4.4 "PAE Paging": four PDPTEs (index bits 31:30) held in registers: from the PDPTE fields
 *   VM entry loaded with "enable EPT" = 1 (§27.3.2.4), else as they are in memory at CR3 bits
 *   31:5 (loaded from there with CR3; the model assumes they have not been rewritten since);
 *   then the page directory (29:21; PS maps a 2-MByte page, bits 20:13 reserved) and table.
 * - §4.5 "4-Level Paging and 5-Level Paging": PML4 at CR3 bits 51:12 (47:39), PDPT (38:30, PS:
 *   1-GByte page), PD (29:21), PT (20:12); PS is reserved in a PML4E. CR4.LA57 = 1 is not followed.
 * - Reserved bits (§4.4.2, §4.5.4): bits 51:MAXPHYADDR (62:MAXPHYADDR for PAE) and XD (bit 63) when
 *   IA32_EFER.NXE = 0, in every entry; a set one is a page fault, as is a clear P bit.
 * - §4.6 "Access Rights": every access of delivery to the IDT, GDT and TSS is an implicit
 *   supervisor-mode access; a push to the new stack is a user-mode access when the new CPL is 3.
 *   A user-mode access needs U/S = 1 in every entry and, to write, R/W = 1 in every entry; a
 *   supervisor-mode write needs R/W = 1 in every entry when CR0.WP = 1. With CR4.SMAP = 1 an
 *   implicit supervisor-mode access to a user-mode page (U/S = 1 in every entry) faults whatever
 *   RFLAGS.AC says. Protection keys (CR4.PKE, CR4.PKS) and CET (CR4.CET) are not followed.
 * - §4.8 "Accessed and Dirty Flags": after the walk the processor sets the accessed flag of every
 *   entry it used (not the PAE PDPTEs, which have none) and, for a write, the dirty flag of the
 *   entry that maps the page. Each paging-structure access is itself a guest-physical access
 *   through EPT: a read, or a write with EPT A/D flags on (§29.3.5, in ept.ts), and a write when
 *   an A or D flag is set.
 */
import { CR0, CR4 } from '../../spec/registers.ts';
import { CR4_PAGING_BIT, PAGE_OFFSET, PAGING_ENTRY } from '../../spec/event-delivery-formats.ts';
import { EPT_ENTRY } from '../../spec/event-delivery-formats.ts';
import { FIELD } from '../../spec/fields.ts';
import { readByte, readWord, writeWord } from '../memory.ts';
import { bitOf, controlField, secondaryControlsInEffect } from '../non-root.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { cpuOf } from '../state.ts';
import { MSR } from '../vm-exit/msr-indices.ts';
import { aboveWidth, eptTranslate, readPhysical64, writePhysical64 } from './ept.ts';
import type { DeliveryState } from './ept.ts';
import { EVENT_DELIVERY_RULES as R, isStop, stopAt } from './rules.ts';
import type { Stop } from './rules.ts';

/** How delivery accesses a linear address. */
export interface Access {
  readonly write: boolean;
  /** A user-mode access (a push at new CPL 3); IDT, GDT and TSS accesses are supervisor-mode. */
  readonly user: boolean;
}

/** IA32_EFER bit 11: NXE. */
const EFER_NXE = 1n << 11n;

/** One paging-structure entry of a walk: where it is (guest-physical), its value and width. */
interface UsedEntry {
  readonly gpa: bigint;
  readonly value: bigint;
  readonly bytes: 4 | 8;
}

/** The physical address of `linear` for `access`, or a stop. */
export function translate(d: DeliveryState, linear: bigint, access: Access): bigint | Stop {
  const gpa = linearToGuestPhysical(d, linear, access);
  if (isStop(gpa)) return gpa;
  const physical = eptTranslate(d, gpa, access.write);
  if (isStop(physical)) return physical;
  return apicAccessPage(d, physical) ? stopAt(R.feature) : physical;
}

/** The guest-physical address of `linear` through the guest's paging (A/D flags set), or a stop. */
export function linearToGuestPhysical(d: DeliveryState, linear: bigint, access: Access): bigint | Stop {
  const cpu = cpuOf(d.state, d.cpu);
  if ((cpu.cr0 & CR0.PG) === 0n) return cpu.eferLma === 1 ? linear : linear & 0xffff_ffffn;
  if ((cpu.cr4 & CR4_PAGING_BIT.CET) !== 0n) return stopAt(R.feature);
  const walk = cpu.eferLma === 1 ? fourLevel(d, linear) : (cpu.cr4 & CR4.PAE) !== 0n ? pae(d, linear & 0xffff_ffffn) : thirtyTwoBit(d, linear & 0xffff_ffffn);
  if (isStop(walk)) return walk;
  const rights = accessRights(d, walk.entries, access);
  if (rights !== undefined) return rights;
  for (const [index, entry] of walk.entries.entries()) {
    const dirty = access.write && index === walk.entries.length - 1 ? PAGING_ENTRY.D : 0n;
    const updated = entry.value | PAGING_ENTRY.A | dirty;
    if (updated === entry.value) continue;
    const stored = writeGuestPhysical(d, entry.gpa, entry.bytes, updated);
    if (stored !== undefined) return stored;
  }
  return walk.address;
}

interface Walk {
  readonly entries: readonly UsedEntry[];
  readonly address: bigint;
}

/** §4.5: 4-level paging. */
function fourLevel(d: DeliveryState, linear: bigint): Walk | Stop {
  const cpu = cpuOf(d.state, d.cpu);
  if ((cpu.cr4 & CR4_PAGING_BIT.LA57) !== 0n) return stopAt(R.fiveLevel);
  const entries: UsedEntry[] = [];
  let table = cpu.cr3 & 0x000f_ffff_ffff_f000n;
  for (let level = 4; level >= 1; level--) {
    const shift = BigInt(12 + 9 * (level - 1));
    const entry = readEntry(d, table + ((linear >> shift) & 0x1ffn) * 8n, 8);
    if (isStop(entry)) return entry;
    entries.push(entry);
    const reserved = reservedBits(d, entry.value, 0n);
    if (isStop(reserved)) return reserved;
    if ((entry.value & PAGING_ENTRY.P) === 0n || reserved) return stopAt(R.nestedPf);
    const large = level <= 3 && (entry.value & PAGING_ENTRY.PS) !== 0n;
    if (level === 4 && (entry.value & PAGING_ENTRY.PS) !== 0n) return stopAt(R.nestedPf);
    if (level === 3 && large) return stopAt(R.feature);
    if (level === 1 || large) return { entries, address: leafAddress(entry.value, shift, linear) };
    table = entry.value & 0x000f_ffff_ffff_f000n;
  }
  throw new Error('model bug: a 4-level walk ended without a page');
}

/** §4.4: PAE paging. */
function pae(d: DeliveryState, linear: bigint): Walk | Stop {
  const cpu = cpuOf(d.state, d.cpu);
  const index = Number((linear >> 30n) & 3n);
  const eptOn = bitOf(secondaryControlsInEffect(d.state, d.cpu) ?? 0n, SECONDARY_CONTROL.ENABLE_EPT);
  const pdpte = eptOn ? cpu.guest?.pdptes?.[index] : readPhysical64(d.state, (cpu.cr3 & 0xffff_ffe0n) + BigInt(index) * 8n);
  if (pdpte === undefined) return stopAt(R.stateUnknown);
  if ((pdpte & PAGING_ENTRY.P) === 0n) return stopAt(R.nestedPf);
  const entries: UsedEntry[] = [];
  let table = pdpte & 0x000f_ffff_ffff_f000n;
  for (let level = 2; level >= 1; level--) {
    const shift = BigInt(12 + 9 * (level - 1));
    const entry = readEntry(d, table + ((linear >> shift) & 0x1ffn) * 8n, 8);
    if (isStop(entry)) return entry;
    entries.push(entry);
    const reserved = reservedBits(d, entry.value, PAE_HIGH_RESERVED);
    if (isStop(reserved)) return reserved;
    if ((entry.value & PAGING_ENTRY.P) === 0n || reserved) return stopAt(R.nestedPf);
    const large = level === 2 && (entry.value & PAGING_ENTRY.PS) !== 0n;
    if (large && (entry.value & 0x1f_e000n) !== 0n) return stopAt(R.nestedPf);
    if (level === 1 || large) return { entries, address: leafAddress(entry.value, shift, linear) };
    table = entry.value & 0x000f_ffff_ffff_f000n;
  }
  throw new Error('model bug: a PAE walk ended without a page');
}

/** §4.3: 32-bit paging. */
function thirtyTwoBit(d: DeliveryState, linear: bigint): Walk | Stop {
  const cpu = cpuOf(d.state, d.cpu);
  const pde = readEntry(d, (cpu.cr3 & 0xffff_f000n) + ((linear >> 22n) & 0x3ffn) * 4n, 4);
  if (isStop(pde)) return pde;
  if ((pde.value & PAGING_ENTRY.P) === 0n) return stopAt(R.nestedPf);
  if ((pde.value & PAGING_ENTRY.PS) !== 0n && (cpu.cr4 & CR4_PAGING_BIT.PSE) !== 0n) {
    const high = (pde.value >> 13n) & 0xffn;
    const width = BigInt(d.state.profile.data.physicalAddressWidth);
    const highAllowed = width >= 40n ? 0xffn : (1n << (width - 32n)) - 1n;
    if ((pde.value & (1n << 21n)) !== 0n || (high & ~highAllowed) !== 0n) return stopAt(R.nestedPf);
    return { entries: [pde], address: (high << 32n) | (pde.value & 0xffc0_0000n) | (linear & 0x3f_ffffn) };
  }
  const pte = readEntry(d, (pde.value & 0xffff_f000n) + ((linear >> 12n) & 0x3ffn) * 4n, 4);
  if (isStop(pte)) return pte;
  if ((pte.value & PAGING_ENTRY.P) === 0n) return stopAt(R.nestedPf);
  return { entries: [pde, pte], address: (pte.value & 0xffff_f000n) | (linear & PAGE_OFFSET) };
}

/** The address a leaf entry maps for `linear` (page of 2^shift bytes). */
function leafAddress(entry: bigint, shift: bigint, linear: bigint): bigint {
  const pageMask = (1n << shift) - 1n;
  return (entry & 0x000f_ffff_ffff_f000n & ~pageMask) | (linear & pageMask);
}

/** PAE entries reserve bits 62:52 as well as 51:MAXPHYADDR (§4.4.2); 4-level paging ignores them. */
const PAE_HIGH_RESERVED = 0x7ff0_0000_0000_0000n;

/**
 * True when `entry` sets a reserved bit (51:MAXPHYADDR, `more`, XD without NXE); a stop when XD
 * is set and NXE is unknown.
 */
function reservedBits(d: DeliveryState, entry: bigint, more: bigint): boolean | Stop {
  if ((entry & PAGING_ENTRY.P) === 0n) return false;
  if ((entry & (aboveWidth(d.state) | more)) !== 0n) return true;
  if ((entry & PAGING_ENTRY.XD) === 0n) return false;
  const efer = cpuOf(d.state, d.cpu).msrs.get(MSR.EFER);
  if (efer === undefined) return stopAt(R.feature);
  return (efer & EFER_NXE) === 0n;
}

/** §4.6: the access rights of the walk for `access`, a stop when they forbid it. */
function accessRights(d: DeliveryState, entries: readonly UsedEntry[], access: Access): Stop | undefined {
  const cpu = cpuOf(d.state, d.cpu);
  const userPage = entries.every((each) => (each.value & PAGING_ENTRY.US) !== 0n);
  const writable = entries.every((each) => (each.value & PAGING_ENTRY.RW) !== 0n);
  if (cpu.eferLma === 1 && (cpu.cr4 & (CR4_PAGING_BIT.PKE | CR4_PAGING_BIT.PKS)) !== 0n) return stopAt(R.feature);
  if (access.user) {
    if (!userPage || (access.write && !writable)) return stopAt(R.nestedPf);
    return undefined;
  }
  if (access.write && !writable && (cpu.cr0 & CR0.WP) !== 0n) return stopAt(R.nestedPf);
  if (userPage && (cpu.cr4 & CR4_PAGING_BIT.SMAP) !== 0n) return stopAt(R.nestedPf);
  return undefined;
}

/** A paging-structure entry read at guest-physical `gpa` (a write for EPT with A/D flags, §29.3.5). */
function readEntry(d: DeliveryState, gpa: bigint, bytes: 4 | 8): UsedEntry | Stop {
  const eptp = controlField(d.state, d.cpu, FIELD.EPT_POINTER) ?? 0n;
  const physical = eptTranslate(d, gpa, (eptp & EPT_ENTRY.EPTP_AD) !== 0n);
  if (isStop(physical)) return physical;
  const value = bytes === 8 ? readPhysical64(d.state, physical) : BigInt(readWord(d.state, physical) >>> 0);
  return { gpa, value, bytes };
}

/** A paging-structure entry written at guest-physical `gpa` (A/D flags). */
function writeGuestPhysical(d: DeliveryState, gpa: bigint, bytes: 4 | 8, value: bigint): Stop | undefined {
  const physical = eptTranslate(d, gpa, true);
  if (isStop(physical)) return physical;
  d.state = bytes === 8 ? writePhysical64(d.state, physical, value) : writeWord(d.state, physical, Number(value & 0xffff_ffffn));
  return undefined;
}

/** True when "virtualize APIC accesses" = 1 and `physical` is on the APIC-access page (an APIC access may exit). */
function apicAccessPage(d: DeliveryState, physical: bigint): boolean {
  const secondary = secondaryControlsInEffect(d.state, d.cpu) ?? 0n;
  if (!bitOf(secondary, SECONDARY_CONTROL.VIRTUALIZE_APIC_ACCESSES)) return false;
  const page = controlField(d.state, d.cpu, FIELD.APIC_ACCESS_ADDRESS);
  return page === undefined || (physical & ~PAGE_OFFSET) === (page & ~PAGE_OFFSET);
}

/**
 * `bytes` bytes (1-8) at `linear`, little-endian, each page of the range translated for a read;
 * `wrap` is the linear-address width mask (2^32 - 1 outside IA-32e mode).
 */
export function readLinear(d: DeliveryState, linear: bigint, bytes: number, access: Access, wrap: bigint): bigint | Stop {
  let value = 0n;
  for (let index = 0; index < bytes; index++) {
    const physical = translate(d, (linear + BigInt(index)) & wrap, access);
    if (isStop(physical)) return physical;
    value |= BigInt(readByte(d.state, physical)) << BigInt(8 * index);
  }
  return value;
}

/** `value` stored as `bytes` bytes at `linear`, little-endian, each byte translated for a write. */
export function writeLinear(d: DeliveryState, linear: bigint, bytes: number, value: bigint, access: Access, wrap: bigint): Stop | undefined {
  for (let index = 0; index < bytes; index++) {
    const physical = translate(d, (linear + BigInt(index)) & wrap, access);
    if (isStop(physical)) return physical;
    const word = readWord(d.state, physical & ~3n) >>> 0;
    const shift = Number(physical & 3n) * 8;
    const byte = Number((value >> BigInt(8 * index)) & 0xffn);
    d.state = writeWord(d.state, physical & ~3n, ((word & ~(0xff << shift)) | (byte << shift)) >>> 0);
  }
  return undefined;
}
