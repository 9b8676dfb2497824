/**
 * Physical memory shared by all logical processors: sparse 4-KByte pages of 32-bit words.
 *
 * Trick: a physical-address space of up to 2^52 bytes cannot be one array, and cases touch a
 * handful of pages. A Map from page number to an Int32Array(1024) keeps memory proportional to
 * what was written, and because VMXON and VMCS regions are 4-KByte aligned and at most 4096
 * bytes, a whole region is always one page: loading or flushing a VMCS is one Map lookup.
 * Pages never written read as zero without being created.
 */

/** Words per 4-KByte page. */
export const PAGE_WORDS = 1024;

/** Page number of the address hi:lo (int32 halves); exact because page numbers stay below 2^52. */
export function pageNumber(lo: number, hi: number): number {
  return (hi >>> 0) * 0x10_0000 + (lo >>> 12);
}

/** Sparse physical memory. */
export class PhysicalMemory {
  /** Page number -> the page's words. */
  pages: Map<number, Int32Array> = new Map();

  /** The page, or `undefined` when it was never written (it reads as zeros). */
  peek(page: number): Int32Array | undefined {
    return this.pages.get(page);
  }

  /** The page, created zeroed on first use. */
  page(page: number): Int32Array {
    let words = this.pages.get(page);
    if (words === undefined) {
      words = new Int32Array(PAGE_WORDS);
      this.pages.set(page, words);
    }
    return words;
  }

  /** The 32-bit word at the 4-byte-aligned address hi:lo. */
  read32(lo: number, hi: number): number {
    const words = this.pages.get(pageNumber(lo, hi));
    return words === undefined ? 0 : (words[(lo & 0xfff) >>> 2] as number);
  }

  /** Stores a 32-bit word at the 4-byte-aligned address hi:lo. */
  write32(lo: number, hi: number, value: number): void {
    this.page(pageNumber(lo, hi))[(lo & 0xfff) >>> 2] = value;
  }

  /** A deep copy (snapshots). */
  clone(): PhysicalMemory {
    const copy = new PhysicalMemory();
    for (const [number, words] of this.pages) copy.pages.set(number, words.slice());
    return copy;
  }
}
