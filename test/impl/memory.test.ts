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
