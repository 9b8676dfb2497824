/** Splitting `--emulator-cmd` into words, and comparing an announced profile with --profile. */
import { describe, expect, it } from 'vitest';
import { splitCommand } from '../../cli/command-line.ts';
import { profileDifferences } from '../../cli/process-engine.ts';
import { loadProfile } from '../../spec/profiles.ts';

describe('splitCommand', () => {
  it('splits on spaces and keeps quoted text together', () => {
    expect(splitCommand('python3 emulator.py --fast')).toEqual(['python3', 'emulator.py', '--fast']);
    expect(splitCommand(`  ./bochs  -q "my config.txt" 'a "b" c' `)).toEqual(['./bochs', '-q', 'my config.txt', 'a "b" c']);
    expect(splitCommand('run a\\ b "x\\"y" \'\'')).toEqual(['run', 'a b', 'x"y', '']);
  });

  it('refuses an empty command and an unclosed quote', () => {
    expect(() => splitCommand('   ')).toThrow('--emulator-cmd is empty');
    expect(() => splitCommand('emu "config')).toThrow('unclosed " quote');
  });
});

describe('profileDifferences', () => {
  it('lists nothing for the same facts under another name', () => {
    const skylake = loadProfile('skylake').data;
    expect(profileDifferences(skylake, { ...skylake, name: 'mine', description: 'other words', featureControl: '0x0005' })).toEqual([]);
  });

  it('lists each fact that differs, absent MSRs included', () => {
    const lines = profileDifferences(loadProfile('core2').data, loadProfile('skylake').data);
    expect(lines).toContain('IA32_VMX_PROCBASED_CTLS2: absent here, 0x25f7fff00000000 announced');
    expect(lines.some((l) => l.startsWith('IA32_VMX_BASIC: '))).toBe(true);
  });
});
