/** MSR images laid out like /dev/cpu/N/msr and /dev/cpu/N/cpuid, as sparse files. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCpuid80000008Eax, readMsrImage, withFile } from '../../../cli/profile-import/msr-file.ts';
import { writeCpuidImage, writeMsrImage } from './samples.ts';

const made: string[] = [];
const dir = (): string => {
  const path = mkdtempSync(join(tmpdir(), 'msr-image-'));
  made.push(path);
  return path;
};
afterAll(() => {
  for (const path of made) rmSync(path, { recursive: true, force: true });
});

describe('readMsrImage', () => {
  it('reads 3AH and 480H-493H little-endian from their slots (offset 8 * index), and leaves out what the file does not reach', () => {
    const path = join(dir(), 'msr');
    writeMsrImage(path, { 0x3a: 5n, 0x480: 0xda040000000010n, 0x48a: 0x2an });
    const dump = withFile(path, readMsrImage);
    expect(dump.format).toBe('msr-file');
    expect(dump.msrs.get(0x3a)).toBe(5n);
    expect(dump.msrs.get(0x480)).toBe(0xda040000000010n);
    expect(dump.msrs.get(0x485)).toBe(0n); // a hole of the sparse file reads as zeros
    expect(dump.msrs.get(0x48a)).toBe(0x2an);
    expect(dump.msrs.has(0x48b)).toBe(false); // beyond the end of the file
  });
});

describe('readCpuid80000008Eax', () => {
  it('reads EAX of leaf 80000008H from its slot (offset 16 * leaf), or nothing when the file is too short', () => {
    const path = join(dir(), 'cpuid');
    writeCpuidImage(path, 0x302e);
    expect(withFile(path, readCpuid80000008Eax)).toBe(0x302e);
    const empty = join(dir(), 'empty');
    writeMsrImage(empty, {});
    expect(withFile(empty, readCpuid80000008Eax)).toBeUndefined();
  });
});
