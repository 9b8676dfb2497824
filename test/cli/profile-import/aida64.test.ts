/** AIDA64 CPUID dumps: MSR and CPUID lines among report text (values of a Core 2 Conroe part). */
import { describe, expect, it } from 'vitest';
import { looksLikeAida64, parseAida64 } from '../../../cli/profile-import/aida64.ts';
import { DumpError } from '../../../cli/profile-import/dump.ts';
import { ALDER_LAKE_AIDA64, CONROE_AIDA64 } from './samples.ts';


describe('parseAida64', () => {
  it('reads MSR lines as four 16-bit groups, high first, and skips report text', () => {
    const dump = parseAida64(CONROE_AIDA64);
    expect(dump.format).toBe('aida64');
    expect(dump.msrs.get(0x480)).toBe(0x1a040000000007n);
    expect(dump.msrs.get(0x482)).toBe(0x77b9fffe0401e172n);
    expect(dump.msrs.get(0x48a)).toBe(0x2cn);
    expect(dump.msrs.get(0x17)).toBe(0x001c0000b9f4c822n);
    expect(dump.msrs.size).toBe(12);
  });

  it("takes CPUID.80000008H:EAX from the first logical processor's leaf", () => {
    expect(parseAida64(CONROE_AIDA64).cpuid80000008Eax).toBe(0x3024);
  });

  it('keeps the first value of a repeated MSR and remarks when a repeat differs', () => {
    const dump = parseAida64('MSR 00000480: 001A-0400-0000-0007\nMSR 00000480: 001A-0400-0000-0007\nMSR 00000480: 001A-0400-0000-0008\n');
    expect(dump.msrs.get(0x480)).toBe(0x1a040000000007n);
    expect(dump.remarks).toEqual([expect.stringMatching(/MSR 480H appears again on line 3 with another value \(0x1a040000000008\)/)]);
  });

  it('reads a recent report: per-processor sections, remarks with brackets, MSRs that failed to read', () => {
    const dump = parseAida64(ALDER_LAKE_AIDA64);
    expect(dump.msrs.get(0x480)).toBe(0x3da050000000013n);
    expect(dump.msrs.get(0x490)).toBe(0x76ffff000011fbn);
    expect(dump.msrs.has(0x49)).toBe(false);
    expect(dump.msrs.has(0x602)).toBe(false);
    expect(dump.cpuid80000008Eax).toBe(0x302e);
    expect(dump.remarks).toEqual([]);
  });

  it('names the line of a malformed MSR or CPUID line', () => {
    expect(() => parseAida64('text\nMSR 00000480: 001A-0400-0000\n')).toThrow(DumpError);
    expect(() => parseAida64('text\nMSR 00000480: 001A-0400-0000\n')).toThrow(/^line 2: "MSR 00000480: 001A-0400-0000" is not an AIDA64 CPUID or MSR line/);
    expect(() => parseAida64('CPUID 80000008: 00003024-0000\n')).toThrow(/^line 1: /);
  });

  it('is recognised by its CPUID or MSR lines', () => {
    expect(looksLikeAida64(CONROE_AIDA64)).toBe(true);
    expect(looksLikeAida64('0x480 0x1a040000000007\n')).toBe(false);
  });
});
