/**
 * Linear to guest-physical translation through the guest's paging for event delivery (SDM Vol.
 * 3A, December 2023, chapter 4 "Paging": §4.3 "32-Bit Paging", §4.4 "PAE Paging", §4.5 "4-Level
 * Paging and 5-Level Paging", §4.6 "Access Rights", §4.8 "Accessed and Dirty Flags"), each
 * paging-structure access and the final address then through EPT when "enable EPT" is 1
 * (impl/non-root/event-delivery/ept.ts).
 *
 * - No paging (CR0.PG = 0): the linear address (32 bits) is the guest-physical address.
 * - 32-bit paging (CR4.PAE = 0): PDE at CR3[31:12] indexed by bits 31:22 (with CR4.PSE, PS = 1
 *   maps a 4-MByte page whose address bits 39:32 are PDE bits 20:13, bit 21 reserved); PTE at
 *   PDE[31:12] indexed by bits 21:12; 4-byte entries.
 * - PAE paging: the four PDPTEs (from memory at CR3[31:5], or from the guest PDPTE fields when
 *   "enable EPT" is 1, §27.3.2.4 "Loading Page-Directory-Pointer-Table Entries"; impl/ reads the
 *   current values), indexed by bits 31:30; then 8-byte PDE (bits 29:21; PS = 1 a 2-MByte page)
 *   and PTE (bits 20:12). Bits 62:MAXPHYADDR are reserved, and bit 63 when IA32_EFER.NXE = 0.
 * - 4-level paging (IA32_EFER.LMA = 1): PML4E (bits 47:39; PS reserved), PDPTE (bits 38:30; PS =
 *   1 a 1-GByte page), PDE, PTE; bits 51:MAXPHYADDR reserved, bit 63 when NXE = 0. The linear
 *   address must be canonical (bits 63:47 equal).
 *
 * Access rights (§4.6): a user-mode access (the stack pushes of a delivery to CPL 3) needs U/S =
 * 1 in every entry, and R/W = 1 in every entry to write; a supervisor-mode access writes a
 * read-only page only with CR0.WP = 0. Accessed flags are set in every entry used, the dirty flag
 * in the entry that maps the page for a write, and an entry is written only when a flag changes
 * (§4.8). Not modelled, so the translation ends with {@link GuestMemory.what} set: any page fault
 * (not present, reserved bit, access rights), a non-canonical address, 5-level paging, a
 * supervisor access to a user page with CR4.SMAP = 1 or CR4.PKE = 1 (whether SMAP or a protection
 * key allows it depends on the kind of access and on PKRU), a supervisor page with CR4.PKS = 1, an
 * access to the APIC-access page with "virtualize APIC accesses", a sub-page-protected write.
 */
import type { PhysicalMemory } from '../../memory.ts';
import { EptWalker, indexAt } from './ept.ts';

/** CR4 bits impl/ tests here (Vol. 3A §2.5 "Control Registers"): PSE 4, PAE 5, LA57 12, SMAP 21, PKE 22, PKS 24. */
const enum K {
  CR0_WP = 0x1_0000,
  CR0_PG = -0x8000_0000,
  CR4_PSE = 0x10,
  CR4_PAE = 0x20,
  CR4_LA57 = 0x1000,
  CR4_SMAP = 0x20_0000,
  CR4_PKE = 0x40_0000,
  CR4_PKS = 0x100_0000,
  /** Paging-structure entry bits: present, R/W, U/S, accessed, dirty, page size. */
  P = 1,
  RW = 2,
  US = 4,
  ACCESSED = 0x20,
  DIRTY = 0x40,
  PS = 0x80,
}

/** Paging modes. */
export const PAGING_NONE = 0;
export const PAGING_32 = 1;
export const PAGING_PAE = 2;
export const PAGING_4_LEVEL = 3;

/** The guest's view of memory during one event delivery (see the file header). */
export class GuestMemory {
  /** The guest-physical (then physical) address of the last translation, halves. */
  lo = 0;
  hi = 0;
  /** '' or what the delivery met that impl/ does not model (set once; later accesses do nothing). */
  what = '';
  readonly ept: EptWalker;
  private paging = PAGING_NONE;
  private cr3Lo = 0;
  private cr3Hi = 0;
  private cr0 = 0;
  private cr4 = 0;
  private nxe = false;
  private eptOn = false;
  /** APIC-access page (bits 31:12 and 63:32), or hi -1 when "virtualize APIC accesses" is 0. */
  private apicLo = 0;
  private apicHi = -1;
  /** The four PAE PDPTEs as (lo, hi) pairs. */
  readonly pdptes = new Int32Array(8);

  constructor(
    private readonly memory: PhysicalMemory,
    private readonly physicalHiBad: number,
    executeOnly: boolean,
  ) {
    this.ept = new EptWalker(memory, physicalHiBad, executeOnly);
  }

  /**
   * Takes the guest's paging state: CR0, CR3 (halves), CR4, IA32_EFER.LMA and NXE, and the
   * EPTP (`eptpHi` -1 ... not used when `ept` is false), the APIC-access page (`apicHi` -1 when
   * not virtualized). The PDPTEs are set by the caller in {@link pdptes} for PAE paging.
   */
  setUp(cr0: number, cr3Lo: number, cr3Hi: number, cr4: number, lma: boolean, nxe: boolean, ept: boolean, eptpLo: number, eptpHi: number, apicLo: number, apicHi: number): number {
    this.what = '';
    this.cr0 = cr0;
    this.cr3Lo = cr3Lo;
    this.cr3Hi = cr3Hi;
    this.cr4 = cr4;
    this.nxe = nxe;
    this.eptOn = ept;
    this.apicLo = apicLo & ~0xfff;
    this.apicHi = apicHi;
    this.paging = (cr0 & K.CR0_PG) === 0 ? PAGING_NONE : lma ? PAGING_4_LEVEL : (cr4 & K.CR4_PAE) !== 0 ? PAGING_PAE : PAGING_32;
    if (this.paging === PAGING_4_LEVEL && (cr4 & K.CR4_LA57) !== 0) this.what = '5-level paging (CR4.LA57 = 1) during event delivery';
    if (ept && !this.ept.setUp(eptpLo, eptpHi)) this.what = this.ept.what;
    return this.paging;
  }

  /** Translates the linear address hi:lo for an access (see the file header); the physical address in lo/hi. */
  translate(lo: number, hi: number, write: boolean, user: boolean): boolean {
    if (this.what !== '') return false;
    const paging = this.paging;
    if (paging === PAGING_NONE) return this.physical(lo, 0, write, false);
    if (paging === PAGING_4_LEVEL && (hi << 16) >> 16 !== hi) return this.fail('a non-canonical linear address during event delivery');
    let rights = K.RW | K.US;
    if (paging === PAGING_32) {
      const pde = this.entry32((this.cr3Lo & ~0xfff) + ((lo >>> 22) << 2), 0);
      if ((pde & K.P) === 0) return this.pageFault();
      rights &= pde;
      if ((pde & K.PS) !== 0 && (this.cr4 & K.CR4_PSE) !== 0) {
        if ((pde & 0x20_0000) !== 0 || (((pde >>> 13) & 0xff) & this.physicalHiBad) !== 0) return this.pageFault();
        if (!this.allowed(rights, write, user)) return false;
        this.mark32((this.cr3Lo & ~0xfff) + ((lo >>> 22) << 2), 0, pde, write);
        return this.physical((pde & 0xffc0_0000) | (lo & 0x3f_ffff), (pde >>> 13) & 0xff, write, false);
      }
      const pteAt = (pde & ~0xfff) + (((lo >>> 12) & 0x3ff) << 2);
      const pte = this.entry32(pteAt, 0);
      if ((pte & K.P) === 0) return this.pageFault();
      rights &= pte;
      if (!this.allowed(rights, write, user)) return false;
      this.mark32((this.cr3Lo & ~0xfff) + ((lo >>> 22) << 2), 0, pde, false);
      this.mark32(pteAt, 0, pte, write);
      return this.physical((pte & ~0xfff) | (lo & 0xfff), 0, write, false);
    }
    // PAE and 4-level paging: 8-byte entries. Reserved: the high half's bits at or above
    // MAXPHYADDR (for 4-level paging only up to bit 51), and bit 63 when NXE = 0.
    const reservedHi = paging === PAGING_PAE ? this.physicalHiBad & 0x7fff_ffff : this.physicalHiBad & 0xfffff;
    const reserved = reservedHi | (this.nxe ? 0 : -0x8000_0000);
    let tableLo: number;
    let tableHi: number;
    let level: number;
    if (paging === PAGING_PAE) {
      const i = (lo >>> 30) * 2;
      const pdpteLo = this.pdptes[i] as number;
      if ((pdpteLo & K.P) === 0) return this.pageFault();
      tableLo = pdpteLo & ~0xfff;
      tableHi = (this.pdptes[i + 1] as number) & ~this.physicalHiBad;
      level = 2;
    } else {
      tableLo = this.cr3Lo & ~0xfff;
      tableHi = this.cr3Hi & ~this.physicalHiBad;
      level = 4;
    }
    // The entries used, to set their accessed flags once the access is known to be allowed.
    const used = this.used;
    let count = 0;
    for (; level >= 1; level--) {
      const at = tableLo + indexAt(lo, hi, level) * 8;
      const eLo = this.entry32(at, tableHi);
      const eHi = this.entry32(at + 4, tableHi);
      if (this.what !== '') return false;
      if ((eLo & K.P) === 0) return this.pageFault();
      if ((eHi & reserved) !== 0) return this.pageFault();
      const large = (eLo & K.PS) !== 0;
      if (large && level === 4) return this.pageFault();
      if (large && level === 3 && (eLo & 0x3fff_e000) !== 0) return this.pageFault();
      if (large && level === 2 && (eLo & 0x1f_e000) !== 0) return this.pageFault();
      rights &= eLo;
      used[count * 4] = at;
      used[count * 4 + 1] = tableHi;
      used[count * 4 + 2] = eLo;
      count++;
      if (level === 1 || large) {
        if (!this.allowed(rights, write, user)) return false;
        for (let k = 0; k < count; k++) this.mark32(used[k * 4] as number, used[k * 4 + 1] as number, used[k * 4 + 2] as number, write && k === count - 1);
        const pageMask = level === 3 ? 0x3fff_ffff : level === 2 ? 0x1f_ffff : 0xfff;
        return this.physical((eLo & ~pageMask) | (lo & pageMask), eHi & 0xfffff, write, false);
      }
      tableLo = eLo & ~0xfff;
      tableHi = eHi & 0xfffff;
    }
    return this.fail('impl bug: paging walk fell through');
  }

  /** Scratch: (address lo, address hi, entry bits 31:0, unused) per entry of a walk. */
  private readonly used = new Int32Array(16);

  /** §4.6 for the combined R/W and U/S bits of a translation. */
  private allowed(rights: number, write: boolean, user: boolean): boolean {
    const cr4 = this.cr4;
    if (user) {
      if ((rights & K.US) === 0 || (write && (rights & K.RW) === 0)) return this.pageFault() as false;
      if ((cr4 & K.CR4_PKE) !== 0) return this.fail('a protection-key check (CR4.PKE = 1) during event delivery');
      return true;
    }
    if ((rights & K.US) !== 0 && (cr4 & (K.CR4_SMAP | K.CR4_PKE)) !== 0) return this.fail('a supervisor-mode access to a user-mode page with CR4.SMAP or CR4.PKE = 1 during event delivery');
    if ((rights & K.US) === 0 && (cr4 & K.CR4_PKS) !== 0) return this.fail('a supervisor protection-key check (CR4.PKS = 1) during event delivery');
    if (write && (rights & K.RW) === 0 && (this.cr0 & K.CR0_WP) !== 0) return this.pageFault() as false;
    return true;
  }

  /** Reads 4 bytes of a paging-structure entry at the guest-physical address hi:at. */
  private entry32(at: number, hi: number): number {
    if (!this.physical(at, hi, false, true)) return 0;
    return this.memory.read32(this.lo, this.hi);
  }

  /** Sets the accessed flag (and dirty, when `dirty`) of the 4-byte entry word `value` at hi:at. */
  private mark32(at: number, hi: number, value: number, dirty: boolean): void {
    const flags = K.ACCESSED | (dirty ? K.DIRTY : 0);
    if ((value & flags) === flags) return;
    if (!this.physical(at, hi, true, true)) return;
    this.memory.write32(this.lo, this.hi, value | flags);
  }

  /**
   * The guest-physical address hi:lo to physical (through EPT when enabled) into lo/hi, with the
   * APIC-access page check. `pagingStructure` for the walk's own accesses.
   */
  private physical(gLo: number, gHi: number, write: boolean, pagingStructure: boolean): boolean {
    if (this.what !== '') return false;
    if (this.eptOn) {
      const ept = this.ept;
      if (!ept.translate(gLo, gHi, write, pagingStructure)) return this.fail(ept.what);
      gLo = ept.lo;
      gHi = ept.hi;
    } else if ((gHi & this.physicalHiBad) !== 0) {
      return this.fail('a physical address beyond MAXPHYADDR during event delivery');
    }
    if (gHi === this.apicHi && (gLo & ~0xfff) === this.apicLo) return this.fail('an access to the APIC-access page during event delivery');
    this.lo = gLo;
    this.hi = gHi;
    return true;
  }

  private pageFault(): boolean {
    return this.fail('a page fault during event delivery');
  }

  private fail(what: string): boolean {
    if (this.what === '') this.what = what;
    return false;
  }
}
