/**
 * MSR images laid out like Linux's `/dev/cpu/N/msr`: the 8 bytes at file offset = MSR index hold
 * the MSR's value, little-endian. `profile capture` reads the device itself; `profile import`
 * reads a file saved the same way (a sparse file is enough). An MSR the processor lacks cannot be
 * read from the device (the read fails), and a file may end before it; both leave it out.
 *
 * `/dev/cpu/N/cpuid` is laid out alike: 16 bytes at offset = leaf (bits 31:0) and sub-leaf (bits
 * 63:32) give EAX, EBX, ECX, EDX.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { PROFILE_MSR_INDEXES, type MsrDump } from './dump.ts';

/** Reads up to `length` bytes at `position`; `undefined` when the read fails or comes up short. */
function readAt(fd: number, position: number, length: number): Buffer | undefined {
  const buffer = Buffer.alloc(length);
  try {
    return readSync(fd, buffer, 0, length, position) === length ? buffer : undefined;
  } catch {
    return undefined;
  }
}

/** The profile's MSRs (3AH, 480H-493H) from an open MSR image; unreadable ones are left out. */
export function readMsrImage(fd: number): MsrDump {
  const dump: MsrDump = { format: 'msr-file', msrs: new Map(), remarks: [] };
  for (const index of PROFILE_MSR_INDEXES) {
    const bytes = readAt(fd, index, 8);
    if (bytes !== undefined) dump.msrs.set(index, bytes.readBigUInt64LE(0));
  }
  return dump;
}

/** CPUID.80000008H:EAX from an open CPUID image, or `undefined` when it cannot be read. */
export function readCpuid80000008Eax(fd: number): number | undefined {
  return readAt(fd, 0x8000_0008, 16)?.readUInt32LE(0);
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
