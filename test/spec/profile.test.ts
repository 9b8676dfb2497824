import { describe, expect, it } from 'vitest';
import { FIELD } from '../../spec/fields.ts';
import { createProfile, ProfileError } from '../../spec/profile.ts';
import type { ProfileData } from '../../spec/profile-data.ts';
import { loadProfile, PROFILE_DATA } from '../../spec/profiles.ts';

const skylakeData = (): ProfileData => structuredClone(PROFILE_DATA.skylake) as ProfileData;

describe('createProfile', () => {
  it('derives the IA32_VMX_BASIC facts (revision 4, 1024-byte regions, TRUE controls on skylake)', () => {
    const skylake = loadProfile('skylake');
    expect(skylake.name).toBe('skylake');
    expect(skylake.revisionId).toBe(4);
    expect(skylake.regionSize).toBe(1024);
    expect(skylake.trueControls).toBe(true);
    expect(skylake.dualMonitor).toBe(true);
    expect(skylake.pointerWidth).toBe(46);
    expect(skylake.vmwriteAnyField).toBe(true);
    expect(skylake.cr0Fixed0).toBe(0x80000021n);
    expect(skylake.cr4Fixed0).toBe(0x2000n);
    expect(skylake.cr0Fixed1).toBe(0xffffffffn);
    expect(skylake.cr4Fixed1).toBe(0x3767ffn);
    // cr4Supported is optional; by default the CR4 bits IA32_VMX_CR4_FIXED1 allows.
    expect(skylake.cr4Supported).toBe(0x3767ffn);
    expect(loadProfile('maximal').cr4Supported).toBe(0x1ff7fffn);
    expect(skylake.eptVpidCap).toBe(0xf0106734141n);
  });

  it('reads the non-TRUE MSRs when IA32_VMX_BASIC[55] = 0 (core2)', () => {
    const core2 = loadProfile('core2');
    expect(core2.trueControls).toBe(false);
    expect(core2.vmwriteAnyField).toBe(false);
    expect(core2.eptVpidCap).toBe(0n);
    expect(core2.controls.primary).toEqual({ mustBeOne: 0x0401e172n, mayBeOne: 0x77b9fffen });
    expect(core2.controls.secondary).toEqual({ mustBeOne: 0n, mayBeOne: 0n });
  });

  it('reads the TRUE MSRs when IA32_VMX_BASIC[55] = 1, so default1 controls may be 0', () => {
    const skylake = loadProfile('skylake');
    expect(skylake.controls.primary.mustBeOne).toBe(0x04006172n);
    expect(skylake.controls.exit.mustBeOne).toBe(0x36dfbn);
    expect(skylake.controls.vmfunc).toEqual({ mustBeOne: 0n, mayBeOne: 1n });
  });

  it('answers supportsControl from the allowed-1 settings', () => {
    const core2 = loadProfile('core2');
    const skylake = loadProfile('skylake');
    expect(core2.supportsControl('primary', 31)).toBe(false);
    expect(skylake.supportsControl('primary', 31)).toBe(true);
    expect(skylake.supportsControl('secondary', 5)).toBe(true);
    expect(skylake.supportsControl('secondary', 64)).toBe(false);
    expect(skylake.supportsControl('tertiary', 0)).toBe(false);
    expect(loadProfile('maximal').supportsControl('tertiary', 7)).toBe(true);
  });

  it('uses a 32-bit pointer width when IA32_VMX_BASIC[48] = 1 (never on a valid Intel 64 profile)', () => {
    // Bit 48 is rejected by validation, so the rule is visible only through the derivation.
    expect(loadProfile('maximal').pointerWidth).toBe(52);
  });

  it('throws a ProfileError listing every problem', () => {
    const data = skylakeData();
    data.msrs.IA32_VMX_BASIC = '0xda000000000004'; // a region size of 0
    data.msrs.IA32_VMX_CR4_FIXED0 = '0x0'; // CR4.VMXE not fixed to 1
    try {
      createProfile(data);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProfileError);
      expect((error as ProfileError).problems).toHaveLength(2);
      expect((error as Error).message).toContain('"skylake" has 2 problem(s)');
      expect((error as Error).message).toContain('bits 44:32');
      expect((error as Error).message).toContain('CR4.VMXE');
    }
  });

  it('keeps warnings on the profile and accepts it', () => {
    const data = skylakeData();
    data.msrs.IA32_VMX_BASIC = '0x3da040080000004'; // bits 31, 56 and 57 set
    const profile = createProfile(data);
    expect(profile.warnings).toHaveLength(2);
    expect(profile.warnings[0]).toMatch(/bit 31 is 1/);
    expect(profile.warnings[1]).toMatch(/bit 57/);
    expect(profile.revisionId).toBe(4);
    expect(createProfile(skylakeData()).warnings).toEqual([]);
  });
});

describe('Profile.fieldExists', () => {
  it('has no VPID field on core2 and has one on skylake', () => {
    expect(loadProfile('core2').fieldExists(FIELD.VPID)).toBe(false);
    expect(loadProfile('skylake').fieldExists(FIELD.VPID)).toBe(true);
  });

  it('has the VMCS link pointer, in full and high halves, everywhere', () => {
    for (const name of ['core2', 'skylake', 'maximal']) {
      expect(loadProfile(name).fieldExists(0x2800)).toBe(true);
      expect(loadProfile(name).fieldExists(0x2801)).toBe(true);
    }
  });

  it('knows no field 0x4401 (high access to a 32-bit field) nor encodings with bit 12 set', () => {
    const maximal = loadProfile('maximal');
    expect(maximal.fieldExists(0x4401)).toBe(false);
    expect(maximal.fieldExists(0x1000 | FIELD.GUEST_RIP)).toBe(false);
    expect(maximal.fieldExists(0xffff_ffff)).toBe(false);
  });

  it('gates fields on their controls: shadowing bitmaps on skylake, tertiary controls only on maximal', () => {
    expect(loadProfile('core2').fieldExists(FIELD.VMREAD_BITMAP_ADDRESS)).toBe(false);
    expect(loadProfile('skylake').fieldExists(FIELD.VMREAD_BITMAP_ADDRESS)).toBe(true);
    expect(loadProfile('skylake').fieldExists(FIELD.EPTP_LIST_ADDRESS)).toBe(true);
    expect(loadProfile('skylake').fieldExists(FIELD.TERTIARY_PROCESSOR_BASED_CONTROLS)).toBe(false);
    expect(loadProfile('maximal').fieldExists(FIELD.TERTIARY_PROCESSOR_BASED_CONTROLS)).toBe(true);
    expect(loadProfile('maximal').fieldExists(FIELD.SECONDARY_VM_EXIT_CONTROLS)).toBe(true);
    expect(loadProfile('core2').fieldExists(FIELD.GUEST_IA32_PAT)).toBe(false);
    expect(loadProfile('core2').fieldExists(FIELD.GUEST_IA32_PERF_GLOBAL_CTRL)).toBe(true);
  });
});

describe('CPUID feature flags of a profile', () => {
  it('default to whether the VMX control governing the instruction may be 1, and the data overrides them', () => {
    const skylake = loadProfile('skylake');
    const allowed1 = BigInt(skylake.data.msrs.IA32_VMX_PROCBASED_CTLS2 ?? '0x0') >> 32n;
    const bit = (n: number): boolean => ((allowed1 >> BigInt(n)) & 1n) === 1n;
    expect(skylake.cpuid).toEqual({ rdrand: bit(11), rdseed: bit(16), invpcid: bit(12), xsaves: bit(20) });
    expect(loadProfile('core2').cpuid).toEqual({ rdrand: false, rdseed: false, invpcid: false, xsaves: false });
    expect(createProfile({ ...skylake.data, cpuid: { rdrand: false } }).cpuid.rdrand).toBe(false);
  });
});
