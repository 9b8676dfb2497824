/**
 * impl/memory.ts: sparse physical memory, and keeping a VMCS region's chunks side by side.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_WORDS, chunkNumber, PhysicalMemory } from '../../impl/memory.ts';

const CHUNK_BYTES = CHUNK_WORDS * 4;

/** Fills `count` chunks from `address` with words that name their own address. */
function fill(memory: PhysicalMemory, address: number, count: number): void {
  for (let a = address; a < address + count * CHUNK_BYTES; a += 4) memory.write32(a, 0, a);
}

function expectFilled(memory: PhysicalMemory, address: number, count: number): void {
  for (let a = address; a < address + count * CHUNK_BYTES; a += 4) {
    if (memory.read32(a, 0) !== a) expect.fail(`word at ${a.toString(16)} reads ${memory.read32(a, 0)}`);
  }
}

describe('PhysicalMemory', () => {
  it('reads zeros where nothing was written, and keeps words of addresses beyond 4 GBytes apart', () => {
    const memory = new PhysicalMemory();
    expect(memory.read32(0x1000, 0)).toBe(0);
    memory.write32(0x1000, 0, 7);
    memory.write32(0x1000, 1, 9);
    expect(memory.read32(0x1000, 0)).toBe(7);
    expect(memory.read32(0x1000, 1)).toBe(9);
    expect(memory.read32(0x1004, 0)).toBe(0);
  });

  it('region of one chunk: the offset where the chunk\'s words are, created when missing', () => {
    const memory = new PhysicalMemory();
    const base = memory.region(chunkNumber(0x3000, 0), 1);
    memory.words[base + 5] = 42;
    expect(memory.read32(0x3000 + 20, 0)).toBe(42);
    memory.write32(0x4000, 0, 1);
    expect(memory.region(chunkNumber(0x3000, 0), 1)).toBe(base);
  });

  it('region of two chunks written in reverse order moves them side by side, keeping every word', () => {
    const memory = new PhysicalMemory();
    fill(memory, 0x2000 + CHUNK_BYTES, 1); // the region's second chunk first
    fill(memory, 0x9000, 1); // an unrelated chunk in between
    fill(memory, 0x2000, 1);
    const base = memory.region(chunkNumber(0x2000, 0), 2);
    for (let w = 0; w < 2 * CHUNK_WORDS; w++) {
      if (memory.words[base + w] !== 0x2000 + 4 * w) expect.fail(`region word ${w} reads ${memory.words[base + w]}`);
    }
    expectFilled(memory, 0x2000, 2);
    expectFilled(memory, 0x9000, 1);
    // Side by side now: asking again moves nothing.
    expect(memory.region(chunkNumber(0x2000, 0), 2)).toBe(base);
    // Writes through either path land in the same place.
    memory.write32(0x2000 + CHUNK_BYTES, 0, 5);
    expect(memory.words[base + CHUNK_WORDS]).toBe(5);
  });

  it('region of chunks never written creates them zeroed and side by side, growing the slab', () => {
    const memory = new PhysicalMemory();
    for (let i = 0; i < 7; i++) memory.write32(0x10_0000 + i * 0x1000, 0, i + 1);
    const base = memory.region(chunkNumber(0x20_0000, 0), 4);
    expect(Array.from(memory.words.subarray(base, base + 4 * CHUNK_WORDS)).every((w) => w === 0)).toBe(true);
    memory.words[base + 3 * CHUNK_WORDS] = 77;
    expect(memory.read32(0x20_0000 + 3 * CHUNK_BYTES, 0)).toBe(77);
    for (let i = 0; i < 7; i++) expect(memory.read32(0x10_0000 + i * 0x1000, 0)).toBe(i + 1);
  });

  it('region works the same once chunks are found through the index (more than a scan covers)', () => {
    const memory = new PhysicalMemory();
    for (let i = 0; i < 30; i++) fill(memory, 0x40_0000 + i * 0x1000, 1);
    fill(memory, 0x2000 + CHUNK_BYTES, 1);
    fill(memory, 0x2000, 1);
    const base = memory.region(chunkNumber(0x2000, 0), 2);
    expect(memory.words[base + CHUNK_WORDS]).toBe(0x2000 + CHUNK_BYTES);
    expectFilled(memory, 0x2000, 2);
    for (let i = 0; i < 30; i++) expectFilled(memory, 0x40_0000 + i * 0x1000, 1);
    // A region moved after the index exists.
    fill(memory, 0x5000 + CHUNK_BYTES, 1);
    fill(memory, 0x5000, 1);
    const moved = memory.region(chunkNumber(0x5000, 0), 2);
    expectFilled(memory, 0x5000, 2);
    // Reads and writes by address find the chunks where they were moved to.
    memory.write32(0x5000 + CHUNK_BYTES, 0, 5);
    memory.write32(0x5000, 0, 6);
    expect(memory.words[moved + CHUNK_WORDS]).toBe(5);
    expect(memory.words[moved]).toBe(6);
  });

  it('copyFrom brings back an earlier clone, whether or not the slab grew in between', () => {
    const memory = new PhysicalMemory();
    memory.write32(0x1000, 0, 1);
    const small = memory.clone();
    for (let i = 0; i < 20; i++) memory.write32(0x10_0000 + i * 0x1000, 0, 2);
    const large = memory.clone();
    memory.copyFrom(small);
    expect(memory.read32(0x1000, 0)).toBe(1);
    expect(memory.read32(0x10_0000, 0)).toBe(0);
    memory.write32(0x1000, 0, 3);
    memory.copyFrom(small); // same slab size this time
    expect(memory.read32(0x1000, 0)).toBe(1);
    memory.copyFrom(large);
    expect(memory.read32(0x10_0000 + 19 * 0x1000, 0)).toBe(2);
    memory.write32(0x10_0000, 0, 9);
    expect(large.read32(0x10_0000, 0)).toBe(2);
  });
});

/**
 * The contract of PhysicalMemory as its TSDoc states it (impl/memory.ts): words read 0 until
 * written and every chunk keeps its own words whatever the look-up (scan or index); hidden chunks
 * are reached by no physical address; a region is moved only when scattered, and moving it loses
 * no other chunk; a clone and a restored snapshot are deep copies that later changes of the
 * other memory do not reach. These state behaviour, not the look-up strategy.
 */
describe('PhysicalMemory contract', () => {
  it('hidden chunks are apart from every physical chunk (0 and 1 included) and from each other, and -1 until created', () => {
    const memory = new PhysicalMemory();
    memory.write32(0, 0, 10);
    memory.write32(CHUNK_BYTES, 0, 11);
    expect(memory.hiddenOffset(0)).toBe(-1);
    expect(memory.hiddenOffset(1)).toBe(-1);
    const h0 = memory.hiddenChunk(0);
    memory.words[h0] = 20;
    const h1 = memory.hiddenChunk(1);
    memory.words[h1] = 21;
    expect(memory.hiddenOffset(0)).toBe(h0);
    expect(new Set([h0, h1, memory.wordOffset(0, 0), memory.wordOffset(CHUNK_BYTES, 0)]).size).toBe(4);
    expect([memory.read32(0, 0), memory.read32(CHUNK_BYTES, 0), memory.words[h0], memory.words[h1]]).toEqual([10, 11, 20, 21]);
  });

  it('wordOffset is -1 for a chunk never written, and else the offset of the word read32 reads (first, second and last word of the first chunk)', () => {
    const memory = new PhysicalMemory();
    expect(memory.wordOffset(0x1000, 0)).toBe(-1);
    expect(memory.wordOffset(0x1008, 0)).toBe(-1);
    for (const [address, value] of [[0x1000, 1], [0x1004, 2], [0x1000 + CHUNK_BYTES - 4, 3]] as const) memory.write32(address, 0, value);
    for (const address of [0x1000, 0x1004, 0x1000 + CHUNK_BYTES - 4]) expect(memory.words[memory.wordOffset(address, 0)]).toBe(memory.read32(address, 0));
    expect(memory.wordOffset(0x1000 + CHUNK_BYTES + 8, 0)).toBe(-1);
  });

  it('address 0 (chunk 0) keeps its words apart from chunks written before and after it, with and without the index', () => {
    for (const others of [1, 20]) {
      const memory = new PhysicalMemory();
      for (let i = 0; i < others; i++) memory.write32(0x10_0000 + i * 0x1000, 0, 100 + i);
      memory.write32(0, 0, 5);
      memory.write32(0x80_0000, 0, 9);
      expect([memory.read32(0, 0), memory.read32(0x80_0000, 0)]).toEqual([5, 9]);
      for (let i = 0; i < others; i++) expect(memory.read32(0x10_0000 + i * 0x1000, 0)).toBe(100 + i);
    }
  });

  it('with the index in use, an address never written still reads 0', () => {
    const memory = new PhysicalMemory();
    for (let i = 0; i < 20; i++) memory.write32(0x10_0000 + i * 0x1000, 0, 1);
    expect(memory.read32(0x9000, 0)).toBe(0);
    expect(memory.wordOffset(0x9000, 0)).toBe(-1);
  });

  it('a region already side by side (at the start of the slab) is not moved', () => {
    const memory = new PhysicalMemory();
    fill(memory, 0x2000, 2);
    expect(memory.region(chunkNumber(0x2000, 0), 2)).toBe(memory.wordOffset(0x2000, 0));
    expect(memory.region(chunkNumber(0x2000, 0), 2)).toBe(0);
    expectFilled(memory, 0x2000, 2);
  });

  it('moving a scattered region keeps the chunk right after it', () => {
    const memory = new PhysicalMemory();
    fill(memory, 0x2000 + CHUNK_BYTES, 1);
    fill(memory, 0x9000, 1);
    fill(memory, 0x2000, 1);
    fill(memory, 0x2000 + 2 * CHUNK_BYTES, 1);
    memory.region(chunkNumber(0x2000, 0), 2);
    expectFilled(memory, 0x2000, 3);
    expectFilled(memory, 0x9000, 1);
  });

  it('a clone keeps its chunks when the original then moves a region', () => {
    const memory = new PhysicalMemory();
    fill(memory, 0x2000 + CHUNK_BYTES, 1);
    fill(memory, 0x9000, 1);
    fill(memory, 0x2000, 1);
    const copy = memory.clone();
    memory.region(chunkNumber(0x2000, 0), 2);
    expectFilled(copy, 0x2000, 2);
  });

  it('copyFrom a snapshot with a larger slab into a fresh memory, and later moves there do not reach the snapshot', () => {
    const grown = new PhysicalMemory();
    fill(grown, 0x2000 + CHUNK_BYTES, 1);
    for (let i = 0; i < 8; i++) fill(grown, 0x10_0000 + i * 0x1000, 1); // 10 chunks: the slab grew, no index yet
    fill(grown, 0x2000, 1);
    const snapshot = grown.clone();
    const fresh = new PhysicalMemory();
    fresh.copyFrom(snapshot);
    expectFilled(fresh, 0x2000, 2);
    fresh.region(chunkNumber(0x2000, 0), 2);
    fresh.write32(0x2000, 0, 1);
    expectFilled(snapshot, 0x2000, 2);
    for (let i = 0; i < 8; i++) expectFilled(snapshot, 0x10_0000 + i * 0x1000, 1);
  });
});
