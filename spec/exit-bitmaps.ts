/**
 * Where the bit for an I/O port, an MSR or a VMCS field lies in the bitmaps the VM-execution
 * controls point to, and which accesses the bitmaps cannot let through.
 *
 * Sources (SDM Vol. 3C, December 2023):
 * - §25.6.4 "I/O-Bitmap Addresses": bitmap A holds one bit per port 0000H-7FFFH, bitmap B one
 *   per port 8000H-FFFFH, 4 KBytes each, each at its own physical address.
 * - §26.1.3 "Instructions That Cause VM Exits Conditionally" (IN, INS, OUT, OUTS): with "use I/O
 *   bitmaps" 1 an I/O instruction exits if a bit is 1 for any port it accesses, and always when
 *   the access wraps around the 16-bit port space (FFFFH to 0000H); "unconditional I/O exiting"
 *   is then ignored.
 * - §25.6.9 "MSR-Bitmap Address": four contiguous 1-KByte bitmaps: reads of MSRs
 *   00000000H-00001FFFH at offset 0, reads of C0000000H-C0001FFFH at 1024, writes of the low range
 *   at 2048, writes of the high range at 3072. §26.1.3 (RDMSR, WRMSR): with "use MSR bitmaps" 1
 *   an access exits if ECX is in neither range or the bit for ECX is 1.
 * - §25.6.15 "VMCS Shadowing Bitmap Addresses" and §26.3 / the VMREAD and VMWRITE pages
 *   (§31.3): the VMREAD and VMWRITE bitmaps, 4 KBytes each, one bit per value of bits 14:0 of the
 *   field encoding; an encoding with any of bits 63:15 set always exits.
 * Read in the 2016 text (§24.6.4, §24.6.9, §25.1.3, §24.6.15 there).
 */
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';

/** Where the I/O bitmaps are defined. */
export const IO_BITMAP_CITATION: Citation = sdm('25.6.4', 'I/O-Bitmap Addresses');
/** Where the MSR bitmaps are defined. */
export const MSR_BITMAP_CITATION: Citation = sdm('25.6.9', 'MSR-Bitmap Address');
/** Where the VMREAD and VMWRITE bitmaps are defined. */
export const VMCS_SHADOWING_BITMAP_CITATION: Citation = sdm('25.6.15', 'VMCS Shadowing Bitmap Addresses');

/** Size of each I/O bitmap, and of each VMREAD/VMWRITE bitmap, in bytes. */
export const BITMAP_PAGE_BYTES = 4096;

/** The first port of I/O bitmap B (ports below it are in bitmap A). */
export const IO_BITMAP_B_FIRST_PORT = 0x8000;

/** Which I/O bitmap, the byte offset in it and the bit in that byte of `port` (0..FFFFH). */
export interface BitmapPosition<Which extends string> {
  bitmap: Which;
  byteOffset: number;
  bit: number;
}

/** The position of `port`'s bit: bitmap A for 0000H-7FFFH, B for 8000H-FFFFH. */
export function ioBitmapPosition(port: number): BitmapPosition<'A' | 'B'> {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new Error(`I/O port ${port} is not in 0..0xFFFF`);
  const inB = port >= IO_BITMAP_B_FIRST_PORT;
  const index = inB ? port - IO_BITMAP_B_FIRST_PORT : port;
  return { bitmap: inB ? 'B' : 'A', byteOffset: index >> 3, bit: index & 7 };
}

/**
 * The ports an access of `size` bytes at `port` touches, and whether it wraps around FFFFH to
 * 0000H (such an access always exits when "use I/O bitmaps" is 1).
 */
export function ioAccessPorts(port: number, size: 1 | 2 | 4): { ports: number[]; wraps: boolean } {
  const ports: number[] = [];
  for (let i = 0; i < size; i++) ports.push((port + i) & 0xffff);
  return { ports, wraps: port + size - 1 > 0xffff };
}

/** MSR ranges the MSR bitmaps cover; an MSR outside both always exits. */
export const MSR_BITMAP_RANGE = {
  LOW: { first: 0x0000_0000, last: 0x0000_1fff },
  HIGH: { first: 0xc000_0000, last: 0xc000_1fff },
} as const;

/** Byte offsets of the four 1-KByte MSR bitmaps within the 4-KByte MSR-bitmap page. */
export const MSR_BITMAP_OFFSET = {
  READ_LOW: 0,
  READ_HIGH: 1024,
  WRITE_LOW: 2048,
  WRITE_HIGH: 3072,
} as const;

/**
 * The byte offset (from the MSR-bitmap address) and bit of the bit for a read or write of MSR
 * `msr`, or `undefined` when `msr` is in neither range (the access exits whatever the bitmaps say).
 */
export function msrBitmapPosition(msr: number, access: 'read' | 'write'): { byteOffset: number; bit: number } | undefined {
  let base: number;
  let index: number;
  if (msr >= MSR_BITMAP_RANGE.LOW.first && msr <= MSR_BITMAP_RANGE.LOW.last) {
    base = access === 'read' ? MSR_BITMAP_OFFSET.READ_LOW : MSR_BITMAP_OFFSET.WRITE_LOW;
    index = msr - MSR_BITMAP_RANGE.LOW.first;
  } else if (msr >= MSR_BITMAP_RANGE.HIGH.first && msr <= MSR_BITMAP_RANGE.HIGH.last) {
    base = access === 'read' ? MSR_BITMAP_OFFSET.READ_HIGH : MSR_BITMAP_OFFSET.WRITE_HIGH;
    index = msr - MSR_BITMAP_RANGE.HIGH.first;
  } else {
    return undefined;
  }
  return { byteOffset: base + (index >> 3), bit: index & 7 };
}

/** Bits of a VMCS-field encoding the VMREAD/VMWRITE bitmaps index (14:0). */
export const VMCS_SHADOWING_BITMAP_INDEX_MASK = 0x7fffn;

/**
 * The byte offset and bit for field encoding `encoding` in the VMREAD or VMWRITE bitmap, or
 * `undefined` when any bit 63:15 of the encoding is set (the instruction then exits).
 */
export function vmcsShadowingBitmapPosition(encoding: bigint): { byteOffset: number; bit: number } | undefined {
  if (encoding < 0n || encoding > VMCS_SHADOWING_BITMAP_INDEX_MASK) return undefined;
  const index = Number(encoding);
  return { byteOffset: index >> 3, bit: index & 7 };
}
