/**
 * Small dumps written for the tests from the MSR values real parts report (the values of
 * test/fixtures/real-profiles/core2-conroe-x6800.json and sandy-bridge-i5-2320.json, which name
 * their sources), in the layouts of the formats `profile import` reads.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { CPUID_SLOT_BYTES, MSR_SLOT_BYTES } from '../../../cli/profile-import/msr-file.ts';

/** A Core 2 (Conroe) dump as AIDA64 lays it out: two logical processors, then the MSRs. */
export const CONROE_AIDA64 = `------[ Versions ]------

Program Version : AIDA64 v6.00
CPU Type        : DualCore Intel Core 2 Extreme X6800

------[ Logical CPU #0 ]------

CPUID 00000000: 0000000A-756E6547-6C65746E-49656E69
CPUID 80000008: 00003024-00000000-00000000-00000000

------[ Logical CPU #1 ]------

CPUID 80000008: 00003028-00000000-00000000-00000000

------[ MSR Registers ]------

MSR 00000017: 001C-0000-B9F4-C822 [PlatID = 7]
MSR 00000480: 001A-0400-0000-0007
MSR 00000481: 0000-001F-0000-0016
MSR 00000482: 77B9-FFFE-0401-E172
MSR 00000483: 0003-EFFF-0003-6DFF
MSR 00000484: 0000-1FFF-0000-11FF
MSR 00000485: 0000-0000-0004-03C0
MSR 00000486: 0000-0000-8000-0021
MSR 00000487: 0000-0000-FFFF-FFFF
MSR 00000488: 0000-0000-0000-2000
MSR 00000489: 0000-0000-0000-27FF
MSR 0000048A: 0000-0000-0000-002C
`;

/**
 * Lines of an AIDA64 v6 report of an Alder Lake i9-12900K (InstLatx64
 * GenuineIntel0090672_AlderLake_01_LC_BC_CPUID.txt), cut down: per-logical-processor sections,
 * bracketed remarks, MSRs AIDA64 could not read, and report text of other shapes.
 */
export const ALDER_LAKE_AIDA64 = `------[ CPUID Registers / Logical CPU #0 ]------

allcpu: Package 0 / Core 0 / Thread 0: Valid

CPUID 00000000: 00000020-756E6547-6C65746E-49656E69 [GenuineIntel]
CPUID 00000004: FC004121-02C0003F-0000003F-00000000 [SL 00] [L1D: 48 KB]
CPUID 80000006: 00000000-00000000-05007040-00000000 [L2: 1280 KB] / L3: 0 KB]
CPUID 80000008: 0000302E-00000000-00000000-00000000

------[ MSR Registers / Logical CPU #0 ]------

MSR 00000017: 0004-0000-0000-0000 [PlatID = 1]
MSR 00000049: < FAILED >
MSR 00000480: 03DA-0500-0000-0013
MSR 00000481: 0000-00FF-0000-0016
MSR 00000482: FFFB-FFFE-0401-E172
MSR 00000483: F77F-FFFF-0003-6DFF
MSR 00000484: 0076-FFFF-0000-11FF
MSR 00000485: 0000-0000-7004-C1E7
MSR 00000486: 0000-0000-8000-0021
MSR 00000487: 0000-0000-FFFF-FFFF
MSR 00000488: 0000-0000-0000-2000
MSR 00000489: 0000-0000-01FF-6FFF
MSR 0000048A: 0000-0000-0000-002E
MSR 0000048B: 0F5D-7FFF-0000-0000
MSR 0000048C: 0001-0F01-06F3-4141
MSR 0000048D: 0000-00FF-0000-0016
MSR 0000048E: FFFB-FFFE-0400-6172
MSR 0000048F: F77F-FFFF-0003-6DFB
MSR 00000490: 0076-FFFF-0000-11FB
MSR 00000602: < FAILED >

------[ MSR Registers / Logical CPU #23 ]------

MSR 00000480: 03DA-0500-0000-0013

C 1C / P1 00 / P2 00: 00003333  [CPU0]
  0000  FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF
`;

/** A Sandy Bridge (i5-2320) listing in the spellings people paste. */
export const SANDY_BRIDGE_RDMSR = `# rdmsr -0 on cpu 0
0x3a 0x5
0x480 0xda040000000010
0x481 0x7f00000016
482: fff9fffe0401e172
483: 7fffff00036dff
0x484 = 0xffff000011ff
485 100401e5
486 80000021
487 ffffffff
488 2000
489 627ff
48a 2a
48b ff00000000

48c 00000f0106114141
48dh 7f00000016
48e fff9fffe04006172
48f 7fffff00036dfb
490 ffff000011fb
`;

/** Writes a sparse image file: each MSR's 8 bytes, little-endian, in its slot at offset 8 * index. */
export function writeMsrImage(path: string, msrs: Record<number, bigint>): void {
  const fd = openSync(path, 'w');
  try {
    for (const [index, value] of Object.entries(msrs)) {
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64LE(value);
      writeSync(fd, bytes, 0, 8, Number(index) * MSR_SLOT_BYTES);
    }
  } finally {
    closeSync(fd);
  }
}

/** Writes a sparse CPUID image file with EAX of leaf 80000008H in its slot at offset 16 * leaf. */
export function writeCpuidImage(path: string, eax: number): void {
  const fd = openSync(path, 'w');
  try {
    const bytes = Buffer.alloc(16);
    bytes.writeUInt32LE(eax, 0);
    writeSync(fd, bytes, 0, 16, 0x8000_0008 * CPUID_SLOT_BYTES);
  } finally {
    closeSync(fd);
  }
}

