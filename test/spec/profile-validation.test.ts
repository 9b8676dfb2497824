import { describe, expect, it } from 'vitest';
import { checkProfile, validateProfile } from '../../spec/profile.ts';
import type { ProfileData, VmxCapabilityMsrs } from '../../spec/profile-data.ts';
import { createProfile } from '../../spec/profile.ts';
import { describeBitRanges } from '../../spec/profile-rules/values.ts';
import { PROFILE_DATA } from '../../spec/profiles.ts';

type Named = 'core2' | 'skylake' | 'maximal';

/** A named profile's data with some MSRs replaced (`undefined` removes an MSR). */
function patched(name: Named, msrs: Partial<Record<keyof VmxCapabilityMsrs, string | undefined>>): ProfileData {
  const data = structuredClone(PROFILE_DATA[name]) as ProfileData;
  for (const [key, value] of Object.entries(msrs)) {
    const k = key as keyof VmxCapabilityMsrs;
    if (value === undefined) delete data.msrs[k];
    else data.msrs[k] = value;
  }
  return data;
}

/** The single warning `checkProfile` reports, with no problem; fails the test otherwise. */
function onlyWarning(data: ProfileData): string {
  const { problems, warnings } = checkProfile(data);
  expect(problems).toEqual([]);
  expect(warnings).toHaveLength(1);
  return warnings[0] as string;
}

/** The single problem `validateProfile` reports; fails the test when there are none or several. */
function onlyProblem(data: ProfileData): string {
  const problems = validateProfile(data);
  expect(problems).toHaveLength(1);
  return problems[0] as string;
}

describe('validateProfile: shape', () => {
  it('accepts the built-in profiles without problems or warnings', () => {
    for (const name of ['core2', 'skylake', 'maximal'] as const) {
      expect(checkProfile(PROFILE_DATA[name] as ProfileData)).toEqual({ problems: [], warnings: [] });
    }
  });

  it('accepts source, inferred, notes and cr4Supported, and checks their shape', () => {
    const data = { ...patched('skylake', {}), source: 'a dump', inferred: ['IA32_VMX_VMFUNC', 'featureControl'], notes: 'n', cr4Supported: '0x3727ff' };
    expect(checkProfile(data)).toEqual({ problems: [], warnings: [] });
    const bad = { ...patched('skylake', {}), source: 1, inferred: ['IA32_VMX_FOO'], notes: [], cr4Supported: 'x' } as unknown as ProfileData;
    const problems = validateProfile(bad);
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/source is 1; write it as a string/);
    expect(problems.join('\n')).toMatch(/inferred lists "IA32_VMX_FOO"/);
    expect(problems.join('\n')).toMatch(/notes is \[\]/);
    expect(problems.join('\n')).toMatch(/cr4Supported is "x"/);
    const notAList = { ...patched('skylake', {}), inferred: 'IA32_VMX_VMFUNC' } as unknown as ProfileData;
    expect(onlyProblem(notAList)).toMatch(/inferred is "IA32_VMX_VMFUNC"; write it as a list/);
  });

  it('accepts cpuid feature flags, and names a flag it does not know or a value that is not a boolean', () => {
    expect(checkProfile({ ...patched('skylake', {}), cpuid: { rdrand: false, xsaves: true } })).toEqual({ problems: [], warnings: [] });
    const bad = { ...patched('skylake', {}), cpuid: { rdrand: 'yes', avx: true } } as unknown as ProfileData;
    const problems = validateProfile(bad).join('\n');
    expect(problems).toMatch(/cpuid\.rdrand is "yes"; write true or false/);
    expect(problems).toMatch(/cpuid\.avx is not a feature flag/);
    expect(validateProfile({ ...patched('skylake', {}), cpuid: [] } as unknown as ProfileData).join('\n')).toMatch(/cpuid is \[\]; write it as an object/);
  });

  it('rejects malformed hex, naming the MSR', () => {
    expect(onlyProblem(patched('skylake', { IA32_VMX_MISC: '7004c1e7' }))).toMatch(/IA32_VMX_MISC \(485H\).*hexadecimal/);
    expect(onlyProblem(patched('skylake', { IA32_VMX_VMFUNC: '0x' }))).toMatch(/IA32_VMX_VMFUNC \(491H\)/);
  });

  it('rejects a missing required MSR', () => {
    expect(onlyProblem(patched('skylake', { IA32_VMX_CR0_FIXED1: undefined }))).toMatch(/IA32_VMX_CR0_FIXED1 \(487H\) is missing/);
  });

  it('rejects unknown MSRs and unknown properties', () => {
    const data = patched('core2', {});
    (data.msrs as unknown as Record<string, string>).IA32_VMX_FOO = '0x0';
    expect(onlyProblem(data)).toMatch(/msrs\.IA32_VMX_FOO is not a VMX capability MSR/);
    const extra = { ...patched('core2', {}), physicalAdressWidth: 36 } as ProfileData;
    expect(onlyProblem(extra)).toMatch(/physicalAdressWidth is not a profile property/);
  });

  it('rejects a bad name, description, physical-address width, feature control or msrs object', () => {
    const data = patched('core2', {}) as unknown as Record<string, unknown>;
    data.name = '';
    data.description = 3;
    data.physicalAddressWidth = 31;
    data.featureControl = 5;
    data.msrs = [];
    const problems = validateProfile(data as unknown as ProfileData);
    expect(problems.some((p) => p.startsWith('name:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('description:'))).toBe(true);
    expect(problems.some((p) => p.includes('physicalAddressWidth is 31'))).toBe(true);
    expect(problems.some((p) => p.includes('featureControl (IA32_FEATURE_CONTROL, 3AH)'))).toBe(true);
    expect(problems.some((p) => p.startsWith('msrs:'))).toBe(true);
    expect(problems.some((p) => p.includes('IA32_VMX_BASIC (480H) is missing'))).toBe(true);
  });

  it('accepts physical-address widths 32 and 52 and rejects 53', () => {
    for (const [width, ok] of [[32, true], [52, true], [53, false], [40.5, false]] as const) {
      const data = patched('core2', {});
      data.physicalAddressWidth = width;
      expect(validateProfile(data).length === 0).toBe(ok);
    }
  });
});

describe('validateProfile: IA32_VMX_BASIC (Appendix A.1)', () => {
  it('warns about bit 31 set (always 0 per A.1, but the revision identifier is bits 30:0)', () => {
    expect(onlyWarning(patched('skylake', { IA32_VMX_BASIC: '0xda040080000004' }))).toMatch(/IA32_VMX_BASIC \(480H\): bit 31 is 1.*bits 30:0 only/);
  });

  it('rejects a region size of 0 or above 4096', () => {
    expect(onlyProblem(patched('skylake', { IA32_VMX_BASIC: '0xda000000000004' }))).toMatch(/IA32_VMX_BASIC.*bits 44:32.*is 0|are 0/);
    expect(onlyProblem(patched('skylake', { IA32_VMX_BASIC: '0xda100100000004' }))).toMatch(/bits 44:32 .* are 4097/);
  });

  it('warns about reserved bits 47:45 and 63:57, naming what later parts and documents use 57, 58 and 60 for', () => {
    expect(onlyWarning(patched('skylake', { IA32_VMX_BASIC: '0xda240000000004' }))).toMatch(/IA32_VMX_BASIC \(480H\): bit 45 is 1, reserved/);
    // Alder Lake's value: bits 56 (defined in December 2023) and 57.
    expect(onlyWarning(patched('skylake', { IA32_VMX_BASIC: '0x3da040000000004' }))).toMatch(/bit 57 \(12th-generation and later parts set it.*\) is 1/);
    expect(onlyWarning(patched('skylake', { IA32_VMX_BASIC: '0x6da040000000004' }))).toMatch(/bit 57 .*, bit 58 \(VMX nested-exception support.*\) are 1/);
    expect(onlyWarning(patched('skylake', { IA32_VMX_BASIC: '0x10da040000000004' }))).toMatch(/bit 60 \(.*TDX/);
    expect(onlyWarning(patched('skylake', { IA32_VMX_BASIC: '0x80da040000000004' }))).toMatch(/bit 63 is 1/);
    expect(checkProfile(patched('skylake', { IA32_VMX_BASIC: '0x1da040000000004' })).warnings).toEqual([]);
  });

  it('warns about bit 48 (32-bit addresses), which is 0 on Intel 64 processors', () => {
    expect(onlyWarning(patched('skylake', { IA32_VMX_BASIC: '0xdb040000000004' }))).toMatch(/IA32_VMX_BASIC.*bit 48.*limited to 32 bits/);
  });

  it('warns about a memory type other than UC (0) or WB (6)', () => {
    // Bits 53:50 = 4 (write-through).
    expect(onlyWarning(patched('skylake', { IA32_VMX_BASIC: '0xd2040000000004' }))).toMatch(/bits 53:50 .* are 4, a value the SDM does not use/);
    expect(validateProfile(patched('skylake', { IA32_VMX_BASIC: '0xc2040000000004' }))).toEqual([]);
  });

  it('requires the TRUE MSRs exactly when bit 55 is 1', () => {
    const withoutTrue = patched('skylake', { IA32_VMX_TRUE_EXIT_CTLS: undefined });
    expect(onlyProblem(withoutTrue)).toMatch(/IA32_VMX_TRUE_EXIT_CTLS \(48FH\) is missing but .*bit 55 is 1/);
    const extraTrue = patched('core2', { IA32_VMX_TRUE_PINBASED_CTLS: '0x3f00000016' });
    expect(onlyProblem(extraTrue)).toMatch(/IA32_VMX_TRUE_PINBASED_CTLS \(48DH\) is given but .*bit 55 is 0/);
  });
});

describe('validateProfile: allowed settings of the controls (Appendix A.3-A.5)', () => {
  it('rejects a control that must be 1 but may not be 1', () => {
    // Pin control 0 must be 1 (bit 0) but bit 32 is clear.
    const problem = onlyProblem(patched('core2', { IA32_VMX_PINBASED_CTLS: '0x3e00000017' }));
    expect(problem).toMatch(/IA32_VMX_PINBASED_CTLS \(481H\): controls 0 must be 1/);
  });

  it('rejects a non-TRUE MSR that does not report a default1 control as must-be-1', () => {
    const problem = onlyProblem(patched('core2', { IA32_VMX_ENTRY_CTLS: '0x3fff000011fb' }));
    expect(problem).toMatch(/IA32_VMX_ENTRY_CTLS \(484H\): default1 controls 2 are not reported as must-be-1/);
  });

  it('rejects must-be-1 secondary controls (bits 31:0 of IA32_VMX_PROCBASED_CTLS2 are always 0)', () => {
    expect(onlyProblem(patched('skylake', { IA32_VMX_PROCBASED_CTLS2: '0x25f7fff00000002' }))).toMatch(
      /IA32_VMX_PROCBASED_CTLS2 \(48BH\): allowed-0 half \(bits 31:0\) has bit 1 set.*clear it/,
    );
  });

  it('rejects a TRUE MSR whose allowed-1 half differs from the non-TRUE MSR', () => {
    const problem = onlyProblem(patched('skylake', { IA32_VMX_TRUE_PINBASED_CTLS: '0x7f00000016' }));
    expect(problem).toMatch(/IA32_VMX_TRUE_PINBASED_CTLS \(48DH\): allowed-1 half .* IA32_VMX_PINBASED_CTLS \(481H\)/);
  });

  it('rejects a TRUE MSR that requires more than the non-TRUE MSR', () => {
    const problem = onlyProblem(patched('skylake', { IA32_VMX_TRUE_PINBASED_CTLS: '0xff00000017' }));
    expect(problem).toMatch(/IA32_VMX_TRUE_PINBASED_CTLS \(48DH\): allowed-0 half requires controls 0/);
  });

  it('rejects a TRUE MSR that relaxes a control outside the default1 class', () => {
    const data = patched('skylake', { IA32_VMX_PINBASED_CTLS: '0xff00000017' });
    expect(onlyProblem(data)).toMatch(/IA32_VMX_TRUE_PINBASED_CTLS \(48DH\): allows controls 0 to be 0 .* not in the default1/);
  });

  it('accepts, with a warning, an allowed-1 bit for a control this project does not know', () => {
    // Secondary control 29 is not in spec/controls.ts; Ice Lake client parts allow it.
    const warning = onlyWarning(patched('skylake', { IA32_VMX_PROCBASED_CTLS2: '0x225f7fff00000000' }));
    expect(warning).toMatch(/Secondary processor-based VM-execution controls: .* control bit 29 to be 1.*not know yet.*not modelled/);
    const twoBits = onlyWarning(patched('maximal', { IA32_VMX_EXIT_CTLS2: '0x3' }));
    expect(twoBits).toMatch(/Secondary VM-exit controls: .* control bits 0, 1 to be 1/);
    // VM-entry controls 23 and 24 (12th generation and later), one of them must be 1.
    const entry = onlyWarning(patched('core2', { IA32_VMX_ENTRY_CTLS: '0x1803fff008011ff' }));
    expect(entry).toMatch(/VM-entry controls: .* control bits 23, 24 to be 1 \(bit 23 must be 1\)/);
  });

  it('requires IA32_VMX_PROCBASED_CTLS2 exactly when "activate secondary controls" may be 1', () => {
    expect(onlyProblem(patched('core2', { IA32_VMX_PROCBASED_CTLS2: '0x0' }))).toMatch(
      /IA32_VMX_PROCBASED_CTLS2 \(48BH\) is given, but it exists only when "activate secondary controls"/,
    );
    const problems = validateProfile(patched('skylake', { IA32_VMX_PROCBASED_CTLS2: undefined }));
    expect(problems.some((p) => /IA32_VMX_PROCBASED_CTLS2 \(48BH\) is missing, but it exists/.test(p))).toBe(true);
  });

  it('requires IA32_VMX_PROCBASED_CTLS3 exactly when "activate tertiary controls" may be 1', () => {
    expect(onlyProblem(patched('skylake', { IA32_VMX_PROCBASED_CTLS3: '0x0' }))).toMatch(/IA32_VMX_PROCBASED_CTLS3 \(492H\) is given/);
    const problems = validateProfile(patched('maximal', { IA32_VMX_PROCBASED_CTLS3: undefined }));
    expect(problems.some((p) => /IA32_VMX_PROCBASED_CTLS3 \(492H\) is missing/.test(p))).toBe(true);
  });

  it('requires IA32_VMX_EXIT_CTLS2 exactly when the "activate secondary controls" exit control may be 1', () => {
    expect(onlyProblem(patched('skylake', { IA32_VMX_EXIT_CTLS2: '0x0' }))).toMatch(/IA32_VMX_EXIT_CTLS2 \(493H\) is given/);
    expect(onlyProblem(patched('maximal', { IA32_VMX_EXIT_CTLS2: undefined }))).toMatch(/IA32_VMX_EXIT_CTLS2 \(493H\) is missing/);
  });

  it('requires IA32_VMX_EPT_VPID_CAP exactly when "enable EPT" or "enable VPID" may be 1', () => {
    expect(onlyProblem(patched('skylake', { IA32_VMX_EPT_VPID_CAP: undefined }))).toMatch(/IA32_VMX_EPT_VPID_CAP \(48CH\) is missing/);
    // Skylake's secondary controls without EPT (bit 1), VPID (bit 5), VM functions (13) and the
    // fields that need them: keep IA32_VMX_EPT_VPID_CAP to provoke the rule.
    const noEptVpid = patched('skylake', { IA32_VMX_PROCBASED_CTLS2: '0x25fdfdd00000000', IA32_VMX_VMFUNC: undefined });
    expect(validateProfile(noEptVpid)).toEqual([expect.stringMatching(/IA32_VMX_EPT_VPID_CAP \(48CH\) is given/)]);
  });

  it('requires IA32_VMX_VMFUNC exactly when "enable VM functions" may be 1', () => {
    expect(onlyProblem(patched('skylake', { IA32_VMX_VMFUNC: undefined }))).toMatch(/IA32_VMX_VMFUNC \(491H\) is missing/);
    expect(onlyProblem(patched('core2', { IA32_VMX_VMFUNC: '0x1' }))).toMatch(/IA32_VMX_VMFUNC \(491H\) is given/);
  });
});

describe('validateProfile: IA32_VMX_MISC (Appendix A.6)', () => {
  it('warns about reserved bits 13:9 and 31, naming the Core 2 parts that set bit 9', () => {
    expect(onlyWarning(patched('skylake', { IA32_VMX_MISC: '0x7004c3e7' }))).toMatch(/IA32_VMX_MISC \(485H\): bit 9 set, reserved.*Core 2 era/);
    expect(onlyWarning(patched('skylake', { IA32_VMX_MISC: '0xf004c1e7' }))).toMatch(/bit 31 set, reserved/);
    expect(onlyWarning(patched('skylake', { IA32_VMX_MISC: '0xf004c1e7' }))).not.toMatch(/Core 2/);
  });

  it('requires bit 5 when "unrestricted guest" may be 1', () => {
    expect(onlyProblem(patched('skylake', { IA32_VMX_MISC: '0x7004c1c7' }))).toMatch(/IA32_VMX_MISC \(485H\): bit 5 .* "unrestricted guest"/);
  });

  it('warns about more CR3-target values than the four fields Appendix B lists, and rejects more than 256', () => {
    expect(onlyWarning(patched('skylake', { IA32_VMX_MISC: '0x7005c1e7' }))).toMatch(/report 5 CR3-target values; this project knows the 4/);
    expect(onlyWarning(patched('skylake', { IA32_VMX_MISC: '0x7100c1e7' }))).toMatch(/report 256 CR3-target values/);
    expect(onlyProblem(patched('skylake', { IA32_VMX_MISC: '0x7101c1e7' }))).toMatch(/report 257 CR3-target values, but the SDM allows 0 to 256/);
    expect(checkProfile(patched('skylake', { IA32_VMX_MISC: '0x7101c1e7' })).warnings).toEqual([]);
  });
});

describe('validateProfile: fixed bits of CR0 and CR4 (Appendix A.7, A.8)', () => {
  it('rejects FIXED0 bits that FIXED1 forbids', () => {
    const problems = validateProfile(patched('skylake', { IA32_VMX_CR0_FIXED1: '0x7fffffff' }));
    expect(problems.some((p) => /IA32_VMX_CR0_FIXED0 \(486H\) fixes CR0 bit 31 to 1 but IA32_VMX_CR0_FIXED1 \(487H\)/.test(p))).toBe(true);
  });

  it('requires CR4.VMXE (bit 13) in IA32_VMX_CR4_FIXED0', () => {
    expect(onlyProblem(patched('skylake', { IA32_VMX_CR4_FIXED0: '0x0' }))).toMatch(/IA32_VMX_CR4_FIXED0 \(488H\): bit 13 \(CR4.VMXE\)/);
  });

  it('rejects fixed bits that the initial CR0 or CR4 (with VMXE) would violate', () => {
    // CR0.CD (bit 30) fixed to 1, but the initial CR0 is 0x80000031.
    const cr0 = onlyProblem(patched('skylake', { IA32_VMX_CR0_FIXED0: '0xc0000021' }));
    expect(cr0).toMatch(/IA32_VMX_CR0_FIXED0 \(486H\) requires CR0 bit 30 .*initial CR0.*VMXON could never succeed/);
    // CR4.PAE (bit 5) fixed to 0, but the initial CR4 sets it.
    const cr4 = onlyProblem(patched('skylake', { IA32_VMX_CR4_FIXED1: '0x3767df' }));
    expect(cr4).toMatch(/IA32_VMX_CR4_FIXED1 \(489H\) forbids CR4 bit 5, but the initial CR4 with VMXE set/);
  });
});

describe('validateProfile: IA32_VMX_VMCS_ENUM (Appendix A.9)', () => {
  it('accepts, with a warning, a highest index below that of a field the profile has (real parts under-report)', () => {
    const warning = onlyWarning(patched('skylake', { IA32_VMX_VMCS_ENUM: '0x2e' }));
    expect(warning).toMatch(/IA32_VMX_VMCS_ENUM \(48AH\): bits 9:1 report 23 .* "TSC multiplier" \(index 25\).*would read 0x32/);
    expect(onlyWarning(patched('maximal', { IA32_VMX_VMCS_ENUM: '0x4a' }))).toMatch(/report 37/);
    expect(checkProfile(patched('skylake', { IA32_VMX_VMCS_ENUM: '0x32' })).warnings).toEqual([]);
  });

  it('does not derive field existence from it', () => {
    // Sandy Bridge and later report 0x2a (index 21) with the VMX-preemption timer value (482EH, index 23).
    const low = patched('skylake', { IA32_VMX_VMCS_ENUM: '0x2a' });
    expect(createProfile(low).fieldExists(0x482e)).toBe(true);
    expect(createProfile(low).fieldExists(0x2032)).toBe(true);
  });

  it('warns about reserved bits 0 and 63:10', () => {
    expect(onlyWarning(patched('skylake', { IA32_VMX_VMCS_ENUM: '0x33' }))).toMatch(/IA32_VMX_VMCS_ENUM \(48AH\): bit 0 set, reserved/);
    expect(onlyWarning(patched('skylake', { IA32_VMX_VMCS_ENUM: '0x432' }))).toMatch(/bit 10 set/);
  });
});

describe('validateProfile: IA32_VMX_EPT_VPID_CAP (Appendix A.10)', () => {
  it('warns about INVEPT types without INVEPT and INVVPID types without INVVPID', () => {
    expect(onlyWarning(patched('skylake', { IA32_VMX_EPT_VPID_CAP: '0xf0106634141' }))).toMatch(/INVEPT types \(bits 25, 26\) .* bit 20/);
    expect(onlyWarning(patched('skylake', { IA32_VMX_EPT_VPID_CAP: '0xf0006734141' }))).toMatch(/INVVPID types \(bits 40, 41, 42, 43\) .* bit 32/);
  });
});

describe('describeBitRanges', () => {
  it('spells runs of three or more bits as ranges', () => {
    expect(describeBitRanges(1n << 9n)).toBe('bit 9');
    expect(describeBitRanges(0b110n)).toBe('bits 1, 2');
    expect(describeBitRanges(0xffffff00n | 1n)).toBe('bits 0, 8-31');
    expect(describeBitRanges(0xffffffffffffffffn)).toBe('bits 0-63');
  });
});
