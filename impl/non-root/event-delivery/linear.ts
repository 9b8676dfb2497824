/**
 * Reads and writes of 1, 2 or 4 bytes at a guest linear address for event delivery: translated
 * by impl/non-root/event-delivery/paging.ts, then done on physical memory, which impl/ keeps as
 * 32-bit words (impl/memory.ts). An access within one 32-bit word is one word read (and, for a
 * write, one read-modify-write); an unaligned access is split into bytes; an access that crosses
 * a 4-KByte page is translated byte by byte (each page has its own translation, Vol. 3A §4.1.1).
 * After a translation that is not modelled (GuestMemory.what set) reads give 0 and writes do
 * nothing; the caller answers "not implemented".
 */
import type { PhysicalMemory } from '../../memory.ts';
import type { GuestMemory } from './paging.ts';

/** The `size`-byte little-endian value at physical hi:lo (within one 4-KByte page). */
function readPhysical(memory: PhysicalMemory, lo: number, hi: number, size: number): number {
  const shift = (lo & 3) * 8;
  if ((lo & 3) + size <= 4) {
    const word = memory.read32(lo, hi);
    return size === 4 ? word : (word >>> shift) & ((1 << (size * 8)) - 1);
  }
  let value = 0;
  for (let i = 0; i < size; i++) value |= readPhysical(memory, lo + i, hi, 1) << (i * 8);
  return value;
}

/** Stores the low `size` bytes of `value` at physical hi:lo (within one 4-KByte page). */
function writePhysical(memory: PhysicalMemory, lo: number, hi: number, size: number, value: number): void {
  if (size === 4 && (lo & 3) === 0) {
    memory.write32(lo, hi, value);
    return;
  }
  if ((lo & 3) + size <= 4) {
    const shift = (lo & 3) * 8;
    const mask = (size === 4 ? -1 : (1 << (size * 8)) - 1) << shift;
    memory.write32(lo, hi, (memory.read32(lo, hi) & ~mask) | ((value << shift) & mask));
    return;
  }
  for (let i = 0; i < size; i++) writePhysical(memory, lo + i, hi, 1, value >>> (i * 8));
}

/** The `size`-byte value (1, 2 or 4) at the linear address hi:lo; `user` for a user-mode access. */
export function readLinear(g: GuestMemory, memory: PhysicalMemory, lo: number, hi: number, size: number, user: boolean): number {
  if ((lo & 0xfff) + size <= 0x1000) return g.translate(lo, hi, false, user) ? readPhysical(memory, g.lo, g.hi, size) : 0;
  let value = 0;
  for (let i = 0; i < size; i++) {
    const at = (lo + i) | 0;
    const carry = at >>> 0 < lo >>> 0 ? 1 : 0;
    value |= readLinear(g, memory, at, (hi + carry) | 0, 1, user) << (i * 8);
  }
  return value;
}

/** Stores the low `size` bytes (1, 2 or 4) of `value` at the linear address hi:lo. */
export function writeLinear(g: GuestMemory, memory: PhysicalMemory, lo: number, hi: number, size: number, value: number, user: boolean): void {
  if ((lo & 0xfff) + size <= 0x1000) {
    if (g.translate(lo, hi, true, user)) writePhysical(memory, g.lo, g.hi, size, value);
    return;
  }
  for (let i = 0; i < size; i++) {
    const at = (lo + i) | 0;
    const carry = at >>> 0 < lo >>> 0 ? 1 : 0;
    writeLinear(g, memory, at, (hi + carry) | 0, 1, value >>> (i * 8), user);
  }
}
