/**
 * Guest-physical to physical translation through 4-level EPT for event delivery (SDM Vol. 3C,
 * December 2023, §29.3.2 "EPT Translation Mechanism", §29.3.3 "EPT-Induced VM Exits" (EPT
 * misconfigurations and EPT violations), §29.3.5 "Accessed and Dirty Flags for EPT").
 *
 * The walk: the EPT PML4 table at EPTP[M-1:12], indexed by guest-physical bits 47:39; then the
 * EPT PDPT (bits 38:30; bit 7 set maps a 1-GByte page), page directory (bits 29:21; bit 7 a
 * 2-MByte page) and page table (bits 20:12). Each entry is 8 bytes: bit 0 read, bit 1 write, bit 2
 * execute, bits 5:3 the memory type of a page, bit 7 page size, bit 8 accessed, bit 9 dirty,
 * bits M-1:12 the next table or page.
 *
 * What impl/ does not model ends the translation with {@link EptWalker.what} set (the caller
 * answers "not implemented"): an entry that is not present (bits 2:0 = 0) or lacks the permission
 * the access needs (an EPT violation, a VM exit with IDT-vectoring information), an EPT
 * misconfiguration (write without read, execute-only without the capability, reserved bits, a
 * page's memory type 2, 3 or 7), a 5-level EPTP, a guest-physical address beyond MAXPHYADDR.
 * With EPTP bit 6 = 1 the accessed flag is set in every entry the walk uses and the dirty flag in
 * the page's entry for a write (§29.3.5); an entry is written only when a flag changes.
 *
 * Trick: the result is left in {@link EptWalker.lo}/{@link EptWalker.hi} (no allocation per access),
 * and addresses stay in int32 halves.
 */
import type { PhysicalMemory } from '../../memory.ts';

/** Why the last translation is not modelled ('' while every translation succeeded). */
export class EptWalker {
  /** The physical address of the last translation, bits 31:0 and 63:32. */
  lo = 0;
  hi = 0;
  /** '' or what the last translation met that impl/ does not model. */
  what = '';
  /** EPT PML4 table address, bits 31:0 and 63:32. */
  private rootLo = 0;
  private rootHi = 0;
  /** EPTP bit 6: accessed and dirty flags for EPT enabled. */
  private accessedDirty = false;

  constructor(
    private readonly memory: PhysicalMemory,
    /** High-half bits at or above MAXPHYADDR. */
    private readonly physicalHiBad: number,
    /** IA32_VMX_EPT_VPID_CAP[0]: execute-only translations are supported. */
    private readonly executeOnly: boolean,
  ) {}

  /** Takes the EPTP (lo, hi) of the current VMCS; false (with `what`) for a 5-level EPTP. */
  setUp(eptpLo: number, eptpHi: number): boolean {
    this.what = '';
    if (((eptpLo >>> 3) & 7) !== 3) {
      this.what = 'a 5-level EPT walk during event delivery';
      return false;
    }
    this.rootLo = eptpLo & ~0xfff;
    this.rootHi = eptpHi & ~this.physicalHiBad;
    this.accessedDirty = ((eptpLo >>> 6) & 1) === 1;
    return true;
  }

  /**
   * Translates the guest-physical address hi:lo for a read (`write` false) or a write; the
   * physical address in lo/hi. `pagingStructure` says the access is to a guest paging-structure
   * entry, which is a write for EPT when the EPT accessed and dirty flags are enabled (§29.3.5).
   */
  translate(gLo: number, gHi: number, write: boolean, pagingStructure: boolean): boolean {
    if (this.what !== '') return false;
    if ((gHi & this.physicalHiBad) !== 0) return this.fail('a guest-physical address beyond MAXPHYADDR during event delivery');
    const asWrite = write || (pagingStructure && this.accessedDirty);
    let tableLo = this.rootLo;
    let tableHi = this.rootHi;
    let readable = 1;
    let writable = 1;
    // Levels 4 (PML4) down to 1 (page table); the index of level n is bits 12 + 9n - 1 : 12 + 9(n - 1).
    for (let level = 4; level >= 1; level--) {
      const index = indexAt(gLo, gHi, level);
      const entryLo = tableLo + index * 8;
      const eLo = this.memory.read32(entryLo, tableHi);
      const eHi = this.memory.read32(entryLo + 4, tableHi);
      const permissions = eLo & 7;
      if (permissions === 0) return this.fail('an EPT violation during event delivery (entry not present)');
      if ((permissions & 3) === 2 || (permissions === 4 && !this.executeOnly)) return this.fail('an EPT misconfiguration during event delivery (permissions)');
      if ((eHi & this.physicalHiBad & 0xfffff) !== 0) return this.fail('an EPT misconfiguration during event delivery (reserved address bits)');
      const large = (eLo & 0x80) !== 0;
      if (level === 4 && large) return this.fail('an EPT misconfiguration during event delivery (bit 7 of an EPT PML4E)');
      const leaf = level === 1 || large;
      if (!leaf && (eLo & 0x78) !== 0) return this.fail('an EPT misconfiguration during event delivery (reserved bits 6:3)');
      if (leaf) {
        const type = (eLo >>> 3) & 7;
        if (type === 2 || type === 3 || type === 7) return this.fail('an EPT misconfiguration during event delivery (memory type)');
        if (level === 3 && (eLo & 0x3fff_f000) !== 0) return this.fail('an EPT misconfiguration during event delivery (reserved bits of a 1-GByte page)');
        if (level === 2 && (eLo & 0x1f_f000) !== 0) return this.fail('an EPT misconfiguration during event delivery (reserved bits of a 2-MByte page)');
      }
      readable &= eLo;
      writable &= eLo >>> 1;
      if (this.accessedDirty) {
        const flags = 0x100 | (leaf && asWrite ? 0x200 : 0);
        if ((eLo & flags) !== flags) this.memory.write32(entryLo, tableHi, eLo | flags);
      }
      if (leaf) {
        if ((readable & 1) === 0 || (asWrite && (writable & 1) === 0)) return this.fail('an EPT violation during event delivery (permissions)');
        const pageMask = level === 3 ? 0x3fff_ffff : level === 2 ? 0x1f_ffff : 0xfff;
        this.lo = ((eLo & ~pageMask) | (gLo & pageMask)) | 0;
        this.hi = eHi & 0xfffff & ~this.physicalHiBad;
        return true;
      }
      tableLo = eLo & ~0xfff;
      tableHi = eHi & 0xfffff & ~this.physicalHiBad;
    }
    return this.fail('impl bug: EPT walk fell through');
  }

  private fail(what: string): boolean {
    this.what = what;
    return false;
  }
}

/** The 9-bit table index of `level` (4: bits 47:39, 3: 38:30, 2: 29:21, 1: 20:12) of hi:lo. */
export function indexAt(lo: number, hi: number, level: number): number {
  switch (level) {
    case 4:
      return (((hi & 0xff) << 1) | (lo >>> 31)) & 0x1ff;
    case 3:
      return (((hi & 0x7f) << 2) | (lo >>> 30)) & 0x1ff;
    case 2:
      return (lo >>> 21) & 0x1ff;
    default:
      return (lo >>> 12) & 0x1ff;
  }
}
