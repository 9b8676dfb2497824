/** Reading what the agent printed: the capability report and the per-case records. */
import { describe, expect, it } from 'vitest';
import { caseLines, parseCapabilities, parseRecords } from '../../cli/bochs/results.ts';

const compiled = (sent: number, randomForms: number[] = []) => ({ sent, unimplemented: new Map([[sent - 1, 'set cr3']]), randomForms: new Set(randomForms) });

describe('agent results', () => {
  it('turns each record into an observation, with its flags', () => {
    const obs = parseRecords('O0S0V0ff;I1F81c;X06;0;X<d;0;U', compiled(8));
    expect(obs).toEqual([
      { kind: 'ok', flags: 0 },
      { kind: 'vmsucceed', flags: 0 },
      { kind: 'vmsucceed', flags: 0, value: '0xff' },
      { kind: 'vmfail-invalid', flags: 1 },
      { kind: 'vmfail-valid', flags: 0x40, error: 0x1c },
      { kind: 'fault', vector: 'UD', flags: 0 },
      { kind: 'fault', vector: 'GP', flags: 0x10 | 0x40 },
      { kind: 'unimplemented', what: 'set cr3', flags: 0 },
    ]);
  });

  it('reads the register forms of VMCLEAR/VMPTRLD/VMPTRST as RDRAND/RDSEED results (ok, with the flags) where the profile has them; a #UD stays a fault', () => {
    const obs = parseRecords('I1S0X06;0;U', compiled(4, [0, 1, 2]));
    expect(obs.slice(0, 3)).toEqual([
      { kind: 'ok', flags: 1 },
      { kind: 'ok', flags: 0 },
      { kind: 'fault', vector: 'UD', flags: 0 },
    ]);
  });

  it('refuses records it does not know, bad numbers, and a count that does not match', () => {
    expect(() => parseRecords('Q0', compiled(1))).toThrow(/unknown record "Q"/);
    expect(() => parseRecords('F8zz;', compiled(1))).toThrow(/bad number/);
    expect(() => parseRecords('O0O0', compiled(1))).toThrow(/2 records for 1 operations/);
  });

  it('splits finished case lines from the one Bochs stopped in', () => {
    const lines = caseLines('@0;O0\n@1;S0\n@2;O0');
    expect([...lines.done.keys()]).toEqual([0, 1]);
    expect(lines.running).toBe(2);
  });

  it('reads the capability MSRs and the physical-address width; a missing required MSR is an error', () => {
    const report = '<<MSR 3a 5>>\n<<MSR 480 d810000000002b>>\n' +
      ['481 7f00000016', '482 f7f9fffe0401e172', '483 7fffff00036dff', '484 ffff000011ff', '485 600401e0', '486 80000021', '487 ffffffff', '488 2000', '489 3727ff', '48a 34', '48b #d']
        .map((m) => `<<MSR ${m}>>`).join('\n') + '\n<<CPUID 80000008 3028 0>>\n';
    const data = parseCapabilities(report, 'bochs-x', 'test');
    expect(data.physicalAddressWidth).toBe(0x28);
    expect(data.featureControl).toBe('0x5');
    expect(data.msrs.IA32_VMX_BASIC).toBe('0xd810000000002b');
    expect(data.msrs.IA32_VMX_PROCBASED_CTLS2).toBeUndefined();
    expect(() => parseCapabilities(report.replace('<<MSR 486 80000021>>', '<<MSR 486 #d>>'), 'b', 't')).toThrow(/486H \(IA32_VMX_CR0_FIXED0\) faulted/);
  });
  it('drops the cut-short line of a case in which Bochs reset the processor, and reads where a damaged batch ended', () => {
    const lines = caseLines('@0;O0\n@1;O0S0\n<<VMXB-AGENT 1>>\n\n<<VMXB-LOST 1>>\n@2;S0\n\n<<VMXB-DAMAGED 3>>\n');
    expect([...lines.done.keys()]).toEqual([0, 2]);
    expect([...lines.lost]).toEqual([1]);
    expect(lines.damaged).toBe(3);
    expect(caseLines('@0;O0\n').damaged).toBeUndefined();
  });
});
