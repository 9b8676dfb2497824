/**
 * MSRs read the way Linux's `/dev/cpu/N/msr` gives them: an 8-byte read at offset = MSR index
 * returns that MSR's value, little-endian. `profile capture` reads the device itself.
 *
 * A regular file cannot be laid out exactly so: the 8 bytes of MSR 480H would be bytes 480H-487H,
 * which are also the start of MSRs 481H-487H. So a file (an image saved from the device, or the
 * sparse file `--msr-file` takes in tests) gives each MSR its own 8-byte slot: the value of MSR X
 * is at offset 8 * X. The device is told apart from a file by being a character device.
 *
 * An MSR the processor lacks cannot be read from the device (the read fails), and a file may end
 * before a slot; both leave that MSR out.
 *
 * `/dev/cpu/N/cpuid` likewise: a 16-byte read at offset = leaf (bits 31:0) and sub-leaf (bits
 * 63:32) returns EAX, EBX, ECX, EDX; a file gives leaf L (sub-leaf 0) the slot at offset 16 * L.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { PROFILE_MSR_INDEXES, type MsrDump } from './dump.ts';

/** Bytes per MSR in an image file: the value of MSR X is at offset 8 * X. */
export const MSR_SLOT_BYTES = 8;
/** Bytes per CPUID leaf in an image file: leaf L (sub-leaf 0) is at offset 16 * L. */
export const CPUID_SLOT_BYTES = 16;

/** Reads up to `length` bytes at `position`; `undefined` when the read fails or comes up short. */
function readAt(fd: number, position: number, length: number): Buffer | undefined {
  const buffer = Buffer.alloc(length);
  try {
    return readSync(fd, buffer, 0, length, position) === length ? buffer : undefined;
  } catch {
    return undefined;
  }
}

/** True when `fd` is a device (offset = index) rather than a file (one slot per index). */
function isDevice(fd: number): boolean {
  return fstatSync(fd).isCharacterDevice();
}

/** The profile's MSRs (3AH, 480H-493H) from an open MSR device or image; unreadable ones are left out. */
export function readMsrImage(fd: number): MsrDump {
  const dump: MsrDump = { format: 'msr-file', msrs: new Map(), remarks: [] };
  const slot = isDevice(fd) ? 1 : MSR_SLOT_BYTES;
  for (const index of PROFILE_MSR_INDEXES) {
    const bytes = readAt(fd, index * slot, 8);
    if (bytes !== undefined) dump.msrs.set(index, bytes.readBigUInt64LE(0));
  }
  return dump;
}

/** CPUID.80000008H:EAX from an open CPUID device or image, or `undefined` when it cannot be read. */
export function readCpuid80000008Eax(fd: number): number | undefined {
  const leaf = 0x8000_0008;
  return readAt(fd, isDevice(fd) ? leaf : leaf * CPUID_SLOT_BYTES, 16)?.readUInt32LE(0);
}

/** Opens `path` read-only, runs `use`, and closes it. */
export function withFile<T>(path: string, use: (fd: number) => T): T {
  const fd = openSync(path, 'r');
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}
