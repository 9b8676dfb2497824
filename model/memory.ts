/**
 * Physical memory shared by all logical processors, as 32-bit words. Memory starts zeroed
 * (spec/engine.ts). The model reads memory only where the SDM has an instruction read it: the
 * first 32 bits of a VMXON or VMCS region (revision identifier and shadow-VMCS indicator, §31.3
 * VMXON and VMPTRLD) and bytes of the VMREAD and VMWRITE bitmaps (§31.3 VMREAD and VMWRITE).
 * Little-endian, as on every Intel 64 processor.
 */
import type { ModelState } from './state.ts';

/** The 32-bit word at 4-byte-aligned `address`. */
export function readWord(state: ModelState, address: bigint): number {
  return state.memory.get(address & ~3n) ?? 0;
}

/** The byte at `address`. */
export function readByte(state: ModelState, address: bigint): number {
  const word = readWord(state, address);
  const shift = Number(address & 3n) * 8;
  return (word >>> shift) & 0xff;
}

/** `state` with the 32-bit word at 4-byte-aligned `address` set to `value`. */
export function writeWord(state: ModelState, address: bigint, value: number): ModelState {
  const memory = new Map(state.memory);
  if (value === 0) memory.delete(address);
  else memory.set(address, value);
  return { ...state, memory };
}
