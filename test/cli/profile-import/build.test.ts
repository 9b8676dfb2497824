/**
 * From dump values to profile data: which optional MSRs exist follows from the others (SDM Vol.
 * 3D, December 2023, Appendix A: TRUE MSRs iff IA32_VMX_BASIC[55], IA32_VMX_PROCBASED_CTLS2 iff
 * primary control 31 may be 1, IA32_VMX_EPT_VPID_CAP iff EPT or VPID may be 1, IA32_VMX_VMFUNC
 * iff secondary control 13 may be 1, ...); missing ones are inferred and dropped ones noted.
 */
import { describe, expect, it } from 'vitest';
import { parseAida64 } from '../../../cli/profile-import/aida64.ts';
import { buildProfile, DEFAULT_PHYSICAL_ADDRESS_WIDTH } from '../../../cli/profile-import/build.ts';
import type { MsrDump } from '../../../cli/profile-import/dump.ts';
import { parseRdmsr } from '../../../cli/profile-import/rdmsr.ts';
import { checkProfile } from '../../../spec/profile.ts';
import { ALDER_LAKE_AIDA64, CONROE_AIDA64, SANDY_BRIDGE_RDMSR } from './samples.ts';

const options = { name: 'part', description: 'a part', source: 'a dump' };

function withMsrs(dump: MsrDump, changes: Record<number, bigint | undefined>): MsrDump {
  const msrs = new Map(dump.msrs);
  for (const [index, value] of Object.entries(changes)) {
    if (value === undefined) msrs.delete(Number(index));
    else msrs.set(Number(index), value);
  }
  return { ...dump, msrs };
}

describe('buildProfile', () => {
  it('makes a Core 2 profile from an AIDA64 dump: MAXPHYADDR from CPUID, IA32_FEATURE_CONTROL assumed', () => {
    const { data, notes } = buildProfile(parseAida64(CONROE_AIDA64), options);
    expect(data.physicalAddressWidth).toBe(36);
    expect(data.msrs.IA32_VMX_BASIC).toBe('0x1a040000000007');
    expect(data.msrs.IA32_VMX_MISC).toBe('0x403c0');
    expect(Object.keys(data.msrs)).toHaveLength(11);
    expect(data.featureControl).toBe('0x5');
    expect(data.inferred).toEqual(['featureControl']);
    expect(notes[0]).toBe('the dump gives MSRs 17H, 480H, 481H, 482H, 483H, 484H, 485H, 486H, 487H, 488H, 489H, 48AH');
    expect(notes[1]).toMatch(/IA32_FEATURE_CONTROL \(3AH\) is missing from the dump; assumed 0x5/);
    // Accepted, with the warning about reserved IA32_VMX_MISC bit 9 that Core 2 parts set.
    const { problems, warnings } = checkProfile(data);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/IA32_VMX_MISC \(485H\): bit 9 set/)]);
  });

  it('makes an Alder Lake profile from a recent AIDA64 report, inferring the MSRs past 490H it does not list', () => {
    const { data } = buildProfile(parseAida64(ALDER_LAKE_AIDA64), options);
    expect(data.physicalAddressWidth).toBe(46);
    expect(data.msrs.IA32_VMX_BASIC).toBe('0x3da050000000013');
    expect(data.inferred).toEqual(['IA32_VMX_VMFUNC', 'IA32_VMX_PROCBASED_CTLS3', 'IA32_VMX_EXIT_CTLS2', 'featureControl']);
    const { problems, warnings } = checkProfile(data);
    expect(problems).toEqual([]);
    expect(warnings.join('\n')).toMatch(/IA32_VMX_BASIC \(480H\): bit 57/);
  });

  it('makes a Sandy Bridge profile from an rdmsr listing, defaulting MAXPHYADDR with a note', () => {
    const { data, notes } = buildProfile(parseRdmsr(SANDY_BRIDGE_RDMSR), options);
    expect(data.physicalAddressWidth).toBe(DEFAULT_PHYSICAL_ADDRESS_WIDTH);
    expect(data.featureControl).toBe('0x5');
    expect(data.msrs.IA32_VMX_TRUE_ENTRY_CTLS).toBe('0xffff000011fb');
    expect(data.msrs.IA32_VMX_VMFUNC).toBeUndefined(); // secondary control 13 may not be 1
    expect(data.inferred).toEqual(['physicalAddressWidth']);
    expect(notes.join('\n')).toMatch(/no CPUID.80000008H; MAXPHYADDR assumed 36 \(give the real one with --physical-address-width/);
    expect(checkProfile(data).problems).toEqual([]);
  });

  it('takes --physical-address-width over the dump, and says so when they differ', () => {
    const built = buildProfile(parseAida64(CONROE_AIDA64), { ...options, physicalAddressWidth: 39 });
    expect(built.data.physicalAddressWidth).toBe(39);
    expect(built.notes.join('\n')).toMatch(/--physical-address-width 39 used instead of the dump's CPUID.80000008H:EAX\[7:0\] = 36/);
    expect(buildProfile(parseRdmsr(SANDY_BRIDGE_RDMSR), { ...options, physicalAddressWidth: 36 }).data.inferred).toBeUndefined();
  });

  it('infers missing TRUE MSRs as copies of their partners, and drops MSRs that do not exist', () => {
    const dump = withMsrs(parseRdmsr(SANDY_BRIDGE_RDMSR), { 0x490: undefined, 0x491: 0x1n });
    const { data, notes } = buildProfile(dump, { ...options, physicalAddressWidth: 36 });
    expect(data.msrs.IA32_VMX_TRUE_ENTRY_CTLS).toBe(data.msrs.IA32_VMX_ENTRY_CTLS);
    expect(data.inferred).toEqual(['IA32_VMX_TRUE_ENTRY_CTLS']);
    expect(notes.join('\n')).toMatch(/IA32_VMX_TRUE_ENTRY_CTLS \(490H\) is missing from the dump but exists \(IA32_VMX_BASIC\[55\] = 1\); inferred 0xffff000011ff/);
    expect(data.msrs.IA32_VMX_VMFUNC).toBeUndefined();
    expect(notes.join('\n')).toMatch(/IA32_VMX_VMFUNC \(491H\) is in the dump but does not exist \("enable VM functions" may be 1 is false\); dropped/);
    expect(checkProfile(data).problems).toEqual([]);
  });

  it('infers the other optional MSRs conservatively when they exist but the dump lacks them', () => {
    // Allow VM functions (secondary 13), tertiary controls (primary 17) and secondary exit controls
    // (exit 31); drop IA32_VMX_PROCBASED_CTLS2's partner MSRs from the dump.
    const dump = withMsrs(parseRdmsr(SANDY_BRIDGE_RDMSR), {
      0x48b: 0x20ff00000000n,
      0x48c: undefined,
      0x48e: 0xfffbfffe04006172n,
      0x482: 0xfffbfffe0401e172n,
      0x483: 0x807fffff00036dffn,
      0x48f: 0x807fffff00036dfbn,
    });
    const { data } = buildProfile(dump, { ...options, physicalAddressWidth: 36 });
    expect(data.msrs.IA32_VMX_EPT_VPID_CAP).toBe('0x0');
    expect(data.msrs.IA32_VMX_VMFUNC).toBe('0x1');
    expect(data.msrs.IA32_VMX_PROCBASED_CTLS3).toBe('0x0');
    expect(data.msrs.IA32_VMX_EXIT_CTLS2).toBe('0x0');
    expect(data.inferred).toEqual(['IA32_VMX_EPT_VPID_CAP', 'IA32_VMX_VMFUNC', 'IA32_VMX_PROCBASED_CTLS3', 'IA32_VMX_EXIT_CTLS2']);
    expect(checkProfile(data).problems).toEqual([]);
    // Without the secondary-controls MSR although primary control 31 may be 1: no secondary control.
    const noSecondary = buildProfile(withMsrs(parseRdmsr(SANDY_BRIDGE_RDMSR), { 0x48b: undefined, 0x48c: undefined }), options);
    expect(noSecondary.data.msrs.IA32_VMX_PROCBASED_CTLS2).toBe('0x0');
    expect(noSecondary.data.msrs.IA32_VMX_EPT_VPID_CAP).toBeUndefined();
    expect(noSecondary.notes.join('\n')).toMatch(/IA32_VMX_PROCBASED_CTLS2 \(48BH\) is missing from the dump but exists .* inferred 0x0: no secondary control may be 1/);
  });

  it('refuses a dump without an MSR every VMX processor has', () => {
    const dump = withMsrs(parseRdmsr(SANDY_BRIDGE_RDMSR), { 0x480: undefined, 0x48a: undefined });
    expect(() => buildProfile(dump, options)).toThrow('the dump lacks IA32_VMX_BASIC (480H), IA32_VMX_VMCS_ENUM (48AH), which every VMX processor has');
  });

  it('lists the MSRs in address order and records the remarks of the dump', () => {
    const dump = { ...parseRdmsr(SANDY_BRIDGE_RDMSR), remarks: ['a remark'] };
    const { data, notes } = buildProfile(dump, options);
    expect(Object.keys(data.msrs)[0]).toBe('IA32_VMX_BASIC');
    expect(Object.keys(data.msrs).at(-1)).toBe('IA32_VMX_TRUE_ENTRY_CTLS');
    expect(notes[1]).toBe('a remark');
    expect(data.notes).toContain('a remark');
  });
});
