/**
 * Guest-physical to physical translation through EPT for the accesses of event delivery (SDM
 * Vol. 3C, December 2023, §29.3.2 "EPT Translation Mechanism", §29.3.3 "EPT-Induced VM Exits",
 * §29.3.5 "Accessed and Dirty Flags for EPT").
 *
 * With "enable EPT" = 0 a guest-physical address is the physical address. With 1, the 4-level
 * walk: EPT PML4 at EPTP bits 51:12, indexed by guest-physical bits 47:39, then the EPT PDPT
 * (38:30; bit 7 maps a 1-GByte page), page directory (29:21; bit 7 maps a 2-MByte page) and page
 * table (20:12). An entry with bits 2:0 all 0 is not present: EPT violation. EPT
 * misconfigurations (§29.3.3.1): write without read (bits 1:0 = 10b), execute-only (bits 2:0 =
 * 100b) where IA32_VMX_EPT_VPID_CAP[0] is 0, a reserved bit set (bits 51:MAXPHYADDR; bits 6:3 and
 * bit 7 of a PML4E; bits 6:3 of an entry referencing another structure; bits 29:12 / 20:12 of a
 * 1-GByte / 2-MByte page), a reserved memory type (2, 3 or 7) in an entry that maps a page. A
 * read needs bit 0 and a write bit 1 in every entry of the walk, otherwise EPT violation
 * (§29.3.3.2). With EPTP bit 6 (accessed and dirty flags) the processor sets bit 8 of every entry
 * it uses and bit 9 of the entry mapping the page on a write, and its accesses to guest
 * paging-structure entries count as writes (§29.3.5; translate.ts passes them as writes).
 *
 * Not followed (a `feature-not-modelled` or `five-level-paging` stop): an EPTP page-walk length
 * other than 4; page-modification logging ("enable PML") with A/D flags, whose dirty-flag updates
 * log and may exit; sub-page write permissions; a 2-MByte or 1-GByte EPT page on a profile whose
 * IA32_VMX_EPT_VPID_CAP[16]/[17] does not report the page size (bit 7 the processor does not
 * support would be a misconfiguration; the model does not decide it).
 */
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EPT_ENTRY, EPT_MEMORY_TYPES } from '../../spec/event-delivery-formats.ts';
import { FIELD } from '../../spec/fields.ts';
import { readWord, writeWord } from '../memory.ts';
import { bitOf, controlField, secondaryControlsInEffect } from '../non-root.ts';
import type { ModelState } from '../state.ts';
import { EVENT_DELIVERY_RULES as R, stopAt } from './rules.ts';
import type { Stop } from './rules.ts';

/** The evolving state of one delivery: memory grows A/D flags and the pushed frame. */
export interface DeliveryState {
  state: ModelState;
  readonly cpu: number;
}

/** IA32_VMX_EPT_VPID_CAP bits 16 and 17: 2-MByte and 1-GByte EPT pages supported. */
const EPT_2MB_PAGES = 16n;
const EPT_1GB_PAGES = 17n;
/** Bits 51:12 of an entry: the address of the next structure or page. */
const ADDRESS_51_12 = 0x000f_ffff_ffff_f000n;

/** The 64-bit word at 8-byte-aligned physical `address`. */
export function readPhysical64(state: ModelState, address: bigint): bigint {
  return BigInt(readWord(state, address) >>> 0) | (BigInt(readWord(state, address + 4n) >>> 0) << 32n);
}

/** `state` with the 64-bit word at 8-byte-aligned physical `address` set to `value`. */
export function writePhysical64(state: ModelState, address: bigint, value: bigint): ModelState {
  const low = writeWord(state, address, Number(value & 0xffff_ffffn));
  return writeWord(low, address + 4n, Number((value >> 32n) & 0xffff_ffffn));
}

/** Bits 51:MAXPHYADDR, reserved in every EPT and paging entry. */
export function aboveWidth(state: ModelState): bigint {
  const width = BigInt(state.profile.data.physicalAddressWidth);
  return ((1n << 52n) - 1n) & ~((1n << width) - 1n);
}

/** The physical address of guest-physical `gpa` for a read or write of delivery, or a stop. */
export function eptTranslate(d: DeliveryState, gpa: bigint, write: boolean): bigint | Stop {
  const secondary = secondaryControlsInEffect(d.state, d.cpu);
  if (secondary === undefined) return stopAt(R.stateUnknown);
  if (!bitOf(secondary, SECONDARY_CONTROL.ENABLE_EPT)) return gpa;
  const eptp = controlField(d.state, d.cpu, FIELD.EPT_POINTER);
  if (eptp === undefined) return stopAt(R.stateUnknown);
  if (((eptp >> EPT_ENTRY.EPTP_WALK_LENGTH_SHIFT) & 7n) !== 3n) return stopAt(R.fiveLevel);
  const accessedDirty = (eptp & EPT_ENTRY.EPTP_AD) !== 0n;
  if (bitOf(secondary, SECONDARY_CONTROL.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT)) return stopAt(R.feature);
  if (accessedDirty && bitOf(secondary, SECONDARY_CONTROL.ENABLE_PML)) return stopAt(R.feature);

  const used: bigint[] = [];
  let table = eptp & ADDRESS_51_12;
  for (let level = 4; level >= 1; level--) {
    const shift = BigInt(12 + 9 * (level - 1));
    const at = table + ((gpa >> shift) & 0x1ffn) * 8n;
    const entry = readPhysical64(d.state, at);
    used.push(at);
    if ((entry & 7n) === 0n) return stopAt(R.eptViolation);
    const leaf = level === 1 || (level <= 3 && (entry & EPT_ENTRY.PS) !== 0n);
    const misconfigured = misconfiguration(d.state, entry, level, leaf);
    if (misconfigured !== undefined) return misconfigured;
    if ((entry & EPT_ENTRY.READ) === 0n || (write && (entry & EPT_ENTRY.WRITE) === 0n)) return stopAt(R.eptViolation);
    if (leaf) {
      const pageMask = (1n << shift) - 1n;
      if (accessedDirty) setFlags(d, used, write);
      return ((entry & ADDRESS_51_12) & ~pageMask) | (gpa & pageMask);
    }
    table = entry & ADDRESS_51_12;
  }
  throw new Error('model bug: an EPT walk ended without a page');
}

/** The EPT misconfiguration `entry` at `level` is (§29.3.3.1), a large page the profile may not support, or `undefined`. */
function misconfiguration(state: ModelState, entry: bigint, level: number, leaf: boolean): Stop | undefined {
  const cap = state.profile.eptVpidCap;
  if ((entry & 3n) === 2n) return stopAt(R.eptMisconfiguration);
  if ((entry & 7n) === 4n && ((cap >> BigInt(EPT_VPID_CAP.EXECUTE_ONLY)) & 1n) === 0n) return stopAt(R.eptMisconfiguration);
  if ((entry & aboveWidth(state)) !== 0n) return stopAt(R.eptMisconfiguration);
  if (level === 4 && (entry & (EPT_ENTRY.NON_LEAF_RESERVED | EPT_ENTRY.PS)) !== 0n) return stopAt(R.eptMisconfiguration);
  if (!leaf) return (entry & EPT_ENTRY.NON_LEAF_RESERVED) !== 0n ? stopAt(R.eptMisconfiguration) : undefined;
  if (!EPT_MEMORY_TYPES.includes((entry >> EPT_ENTRY.MEMORY_TYPE_SHIFT) & 7n)) return stopAt(R.eptMisconfiguration);
  if (level === 3 && ((cap >> EPT_1GB_PAGES) & 1n) === 0n) return stopAt(R.feature);
  if (level === 2 && ((cap >> EPT_2MB_PAGES) & 1n) === 0n) return stopAt(R.feature);
  const pageReserved = level === 3 ? 0x3fff_f000n : level === 2 ? 0x1f_f000n : 0n;
  return (entry & pageReserved) !== 0n ? stopAt(R.eptMisconfiguration) : undefined;
}

/** §29.3.5: the accessed flag in every entry used, the dirty flag in the last one on a write. */
function setFlags(d: DeliveryState, used: readonly bigint[], write: boolean): void {
  used.forEach((at, index) => {
    const entry = readPhysical64(d.state, at);
    const dirty = write && index === used.length - 1 ? EPT_ENTRY.D : 0n;
    const updated = entry | EPT_ENTRY.A | dirty;
    if (updated !== entry) d.state = writePhysical64(d.state, at, updated);
  });
}
