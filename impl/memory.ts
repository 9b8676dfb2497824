/**
 * Physical memory shared by all logical processors: sparse 1-KByte chunks of 32-bit words.
 *
 * Tricks, and what each buys:
 * - A physical-address space of up to 2^52 bytes cannot be one array, and cases touch a handful
 *   of addresses, so chunks are created on first write and found by number (see `keys`),
 *   which keeps memory proportional to what was written. Chunks never written read as zero without being created.
 * - All chunks live in one growing Int32Array "slab", handed out by bumping an offset, and
 *   chunks are 1 KByte rather than a 4-KByte page. Cases run one short sequence on a fresh
 *   machine each, and the cost that dominated them was fresh memory: a separate Int32Array per
 *   page is an off-heap ArrayBuffer each, and every newly touched 4-KByte OS page costs a page
 *   fault. Small chunks from one slab keep a case inside a few KBytes. A VMCS region is 4-KByte
 *   aligned, so its chunks have consecutive numbers and a region copy is one look-up and one
 *   typed-array copy per chunk (one chunk for impl/'s layout on most profiles).
 * - Chunks are never freed, so the slab needs no free list, and a snapshot is two array copies.
 */

/** Words per chunk (1 KByte). */
export const CHUNK_WORDS = 256;
/** log2 of the chunk size in bytes. */
const CHUNK_SHIFT = 10;
/** log2 of the chunk size in words. */
const CHUNK_WORD_SHIFT = CHUNK_SHIFT - 2;

/** Chunks a new machine's slab has room for: enough for a VMXON region and two VMCSs. */
export const INITIAL_CHUNKS = 4;

/** Chunk number of the address hi:lo (int32 halves); exact because it stays below 2^54. */
export function chunkNumber(lo: number, hi: number): number {
  return (hi >>> 0) * 2 ** (32 - CHUNK_SHIFT) + (lo >>> CHUNK_SHIFT);
}

/** Chunks whose numbers are found by a linear scan before a Map index takes over. */
const SCANNED_CHUNKS = 16;

/** Sparse physical memory. */
export class PhysicalMemory {
  /** Every chunk's words; re-read after anything that may create a chunk, which may replace it. */
  words: Int32Array;
  /**
   * Chunk numbers in creation order; chunk i lives at words[i * CHUNK_WORDS]. Trick: cases touch
   * a few chunks, and scanning a few doubles is cheaper than a Map, whose first insertion also
   * allocates; past {@link SCANNED_CHUNKS} chunks a Map index takes over.
   */
  private keys: Float64Array;
  /** Chunks created so far. */
  private count: number;
  /** Chunk number -> chunk index, once there are more than SCANNED_CHUNKS chunks. */
  private index: Map<number, number> | undefined;

  /**
   * A memory with room for `capacity` chunks before its arrays grow; `words` and `keys` may be
   * views the caller carved from a larger buffer (impl/machine.ts does).
   */
  constructor(
    words: Int32Array = new Int32Array(INITIAL_CHUNKS * CHUNK_WORDS),
    keys: Float64Array = new Float64Array(words.length / CHUNK_WORDS),
    count = 0,
    index?: Map<number, number>,
  ) {
    this.words = words;
    this.keys = keys;
    this.count = count;
    this.index = index;
  }

  /** Offset of a chunk in `words`, or -1 when it was never written (it reads as zeros). */
  private peek(chunk: number): number {
    if (this.index !== undefined) {
      const found = this.index.get(chunk);
      return found === undefined ? -1 : found * CHUNK_WORDS;
    }
    const keys = this.keys;
    for (let i = 0; i < this.count; i++) if (keys[i] === chunk) return i * CHUNK_WORDS;
    return -1;
  }

  /** Offset of a chunk in `words`, created zeroed on first use (`words` may be replaced). */
  private chunk(chunk: number): number {
    const found = this.peek(chunk);
    if (found >= 0) return found;
    const i = this.count;
    if (i === this.keys.length) this.grow();
    this.keys[i] = chunk;
    this.count = i + 1;
    if (this.index !== undefined) this.index.set(chunk, i);
    else if (this.count > SCANNED_CHUNKS) this.index = new Map(Array.from(this.keys.subarray(0, this.count), (key, j) => [key, j]));
    return i * CHUNK_WORDS;
  }

  private grow(): void {
    const capacity = Math.max(INITIAL_CHUNKS, this.keys.length * 2);
    const words = new Int32Array(capacity * CHUNK_WORDS);
    words.set(this.words);
    this.words = words;
    const keys = new Float64Array(capacity);
    keys.set(this.keys);
    this.keys = keys;
  }

  /** The 32-bit word at the 4-byte-aligned address hi:lo. */
  read32(lo: number, hi: number): number {
    const offset = this.peek(chunkNumber(lo, hi));
    return offset < 0 ? 0 : (this.words[offset + ((lo >>> 2) & (CHUNK_WORDS - 1))] as number);
  }

  /** Stores a 32-bit word at the 4-byte-aligned address hi:lo. */
  write32(lo: number, hi: number, value: number): void {
    const offset = this.chunk(chunkNumber(lo, hi));
    this.words[offset + ((lo >>> 2) & (CHUNK_WORDS - 1))] = value;
  }

  /**
   * Copies words [from, to) of the region whose first chunk is `first` (a chunk-aligned region
   * of at most 4 KBytes) into `target` at `at`; words of chunks never written read as zeros.
   */
  readRegion(first: number, from: number, to: number, target: Int32Array, at: number): void {
    for (let start = from; start < to; ) {
      const index = start >>> CHUNK_WORD_SHIFT;
      const end = Math.min(to, (index + 1) * CHUNK_WORDS);
      const offset = this.peek(first + index);
      if (offset < 0) target.fill(0, at + start - from, at + end - from);
      else {
        const base = offset - index * CHUNK_WORDS;
        target.set(this.words.subarray(base + start, base + end), at + start - from);
      }
      start = end;
    }
  }

  /** Copies `source[at ..]` into words [from, to) of the region whose first chunk is `first`. */
  writeRegion(first: number, from: number, to: number, source: Int32Array, at: number): void {
    for (let start = from; start < to; ) {
      const index = start >>> CHUNK_WORD_SHIFT;
      const end = Math.min(to, (index + 1) * CHUNK_WORDS);
      const base = this.chunk(first + index) - index * CHUNK_WORDS;
      this.words.set(source.subarray(at + start - from, at + end - from), base + start);
      start = end;
    }
  }

  /** A deep copy (snapshots). */
  clone(): PhysicalMemory {
    const index = this.index === undefined ? undefined : new Map(this.index);
    return new PhysicalMemory(this.words.slice(), this.keys.slice(), this.count, index);
  }
}
