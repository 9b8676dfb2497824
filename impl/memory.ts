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
 *   fault. Small chunks from one slab keep a case inside a few KBytes.
 * - A VMCS's data lives in its region (impl/machine/vmcs-fields.ts reads and writes it in place). A region
 *   is 4-KByte aligned, so its chunks have consecutive numbers; the chunks impl/'s layout spans
 *   (one on most profiles, two on the maximal one) must also sit side by side in the slab, and
 *   {@link PhysicalMemory.region} moves them together the first time a region becomes a VMCS
 *   if they were not.
 * - Chunks are never freed (a moved chunk's old slot stays unused), so the slab needs no free
 *   list, and a snapshot is two array copies.
 */

/** Words per chunk (1 KByte). */
export const CHUNK_WORDS = 256;
/** log2 of the chunk size in bytes. */
const CHUNK_SHIFT = 10;

/** Chunks a new machine's slab has room for: enough for a VMXON region and two VMCSs. */
export const INITIAL_CHUNKS = 8;

/**
 * Chunks per 4 GBytes: 2^(32 - CHUNK_SHIFT). Trick: a literal, not `2 ** (32 - CHUNK_SHIFT)`
 * inside chunkNumber, where V8 left the exponentiation as a call to pow() on every memory
 * look-up (a twelfth of a VM exit + VMRESUME round trip, in a CPU profile of bench/vm-exit.ts).
 */
const CHUNKS_PER_4G = 4_194_304;

/** Chunk number of the address hi:lo (int32 halves); exact because it stays below 2^54. */
export function chunkNumber(lo: number, hi: number): number {
  return (hi >>> 0) * CHUNKS_PER_4G + (lo >>> CHUNK_SHIFT);
}

/**
 * Trick: chunk numbers of addresses are never negative, so negative chunk numbers name "hidden"
 * chunks no physical address reaches. impl/ keeps there the little processor state that has no
 * room in the processor row (impl/non-root/hidden-state.ts); living in memory, it is captured
 * by snapshots and restored with them at no extra cost. Hidden chunk n has number -(n + 1).
 */
function hiddenChunkNumber(n: number): number {
  return -(n + 1);
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
   * The last hidden chunk found (its `n`) and its offset, -1 when none is cached. Trick: every VM
   * exit loads the host's descriptor-table registers into hidden chunk 0
   * (impl/non-root/hidden-state.ts); this saves the scan of the chunk list behind the processor's
   * regions. A chunk never moves once created (only regions' chunks, whose numbers are not
   * negative, are moved by {@link region}), so only {@link copyFrom} forgets it.
   */
  private hiddenN = -1;
  private hiddenAt = -1;

  /**
   * A memory with room for `capacity` chunks before its arrays grow; `words` and `keys` may be
   * views the caller carved from a larger buffer (impl/machine/base.ts does).
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
    else if (this.count > SCANNED_CHUNKS) this.buildIndex();
    return i * CHUNK_WORDS;
  }

  private buildIndex(): void {
    const index = new Map<number, number>();
    for (let j = 0; j < this.count; j++) {
      const key = this.keys[j] as number;
      if (key === key) index.set(key, j); // NaN marks the old slot of a moved chunk
    }
    this.index = index;
  }

  /**
   * Offset in `words` of the first of `count` chunks starting at chunk `first` (a region's
   * chunks, so they have consecutive numbers), laid out side by side in the slab: created
   * zeroed when missing, and copied to fresh consecutive slots when they were scattered (the
   * old slots stay unused). `words` may be replaced.
   */
  region(first: number, count: number): number {
    const start = this.peek(first);
    if (count === 1) return start >= 0 ? start : this.chunk(first);
    let together = start >= 0;
    for (let k = 1; together && k < count; k++) together = this.peek(first + k) === start + k * CHUNK_WORDS;
    if (together) return start;
    // Fresh consecutive slots at the end of the slab, filled from wherever the chunks were.
    while (this.count + count > this.keys.length) this.grow();
    const base = this.count * CHUNK_WORDS;
    for (let k = 0; k < count; k++) {
      const old = this.peek(first + k);
      const slot = this.count + k;
      if (old >= 0) {
        this.words.copyWithin(base + k * CHUNK_WORDS, old, old + CHUNK_WORDS);
        this.keys[old / CHUNK_WORDS] = Number.NaN;
      }
      this.keys[slot] = first + k;
    }
    this.count += count;
    if (this.index !== undefined || this.count > SCANNED_CHUNKS) this.buildIndex();
    return base;
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

  /** Offset in `words` of hidden chunk `n` (see hiddenChunkNumber), or -1 while it was never written. */
  hiddenOffset(n: number): number {
    if (n === this.hiddenN) return this.hiddenAt;
    const at = this.peek(hiddenChunkNumber(n));
    if (at >= 0) {
      this.hiddenN = n;
      this.hiddenAt = at;
    }
    return at;
  }

  /** Offset in `words` of hidden chunk `n`, created zeroed on first use (`words` may be replaced). */
  hiddenChunk(n: number): number {
    if (n === this.hiddenN) return this.hiddenAt;
    const at = this.chunk(hiddenChunkNumber(n));
    this.hiddenN = n;
    this.hiddenAt = at;
    return at;
  }

  /**
   * Offset in `words` of the 32-bit word at the 4-byte-aligned address hi:lo, or -1 when its
   * chunk was never written (it reads as zero). Lets a caller read several words of one chunk
   * (a 32-byte PDPT, say) with one chunk look-up.
   */
  wordOffset(lo: number, hi: number): number {
    const offset = this.peek(chunkNumber(lo, hi));
    return offset < 0 ? -1 : offset + ((lo >>> 2) & (CHUNK_WORDS - 1));
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

  /** A deep copy (snapshots). */
  clone(): PhysicalMemory {
    const index = this.index === undefined ? undefined : new Map(this.index);
    return new PhysicalMemory(this.words.slice(), this.keys.slice(), this.count, index);
  }

  /**
   * Becomes a copy of `other` (restoring a snapshot). Trick: when the slabs have the same size,
   * as they do unless memory grew since the snapshot, the copy reuses this memory's arrays.
   */
  copyFrom(other: PhysicalMemory): void {
    if (this.words.length === other.words.length) this.words.set(other.words);
    else this.words = other.words.slice();
    if (this.keys.length === other.keys.length) this.keys.set(other.keys);
    else this.keys = other.keys.slice();
    this.count = other.count;
    this.index = other.index === undefined ? undefined : new Map(other.index);
    this.hiddenN = -1;
    this.hiddenAt = -1;
  }
}
