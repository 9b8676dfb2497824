/** rdmsr-style listings: index and value per line (values of a Sandy Bridge part). */
import { describe, expect, it } from 'vitest';
import { parseRdmsr } from '../../../cli/profile-import/rdmsr.ts';
import { SANDY_BRIDGE_RDMSR } from './samples.ts';


describe('parseRdmsr', () => {
  it('reads index and value in hexadecimal, with or without 0x, separated by spaces, a colon or =', () => {
    const dump = parseRdmsr(SANDY_BRIDGE_RDMSR);
    expect(dump.format).toBe('rdmsr');
    expect(dump.msrs.get(0x3a)).toBe(5n);
    expect(dump.msrs.get(0x480)).toBe(0xda040000000010n);
    expect(dump.msrs.get(0x482)).toBe(0xfff9fffe0401e172n);
    expect(dump.msrs.get(0x484)).toBe(0xffff000011ffn);
    expect(dump.msrs.get(0x48c)).toBe(0xf0106114141n);
    expect(dump.msrs.get(0x48d)).toBe(0x7f00000016n);
    expect(dump.msrs.size).toBe(18);
    expect(dump.cpuid80000008Eax).toBeUndefined();
  });

  it('names the first line it cannot read', () => {
    expect(() => parseRdmsr('0x480 0xda040000000010\nIA32_VMX_BASIC 0xda040000000010\n')).toThrow(
      /^line 2: "IA32_VMX_BASIC 0xda040000000010" is not an MSR line/,
    );
    expect(() => parseRdmsr('0x480 0x1ffffffffffffffff\n')).toThrow(/^line 1: /);
  });

  it('refuses a file without MSR lines', () => {
    expect(() => parseRdmsr('# nothing\n\n')).toThrow('the file has no MSR lines');
  });
});
