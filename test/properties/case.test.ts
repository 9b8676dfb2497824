/** Case files: what parseCase accepts, what it rejects and how it says so, and round trips. */
import { describe, expect, it } from 'vitest';
import { CASE_FORMAT, CaseFileError, parseCase, serializeCase, type ConformanceCase } from '../../properties/case.ts';

const sample: ConformanceCase = {
  format: CASE_FORMAT,
  profile: 'skylake',
  logicalProcessors: 2,
  operations: [
    { kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x4' },
    { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
    { kind: 'vmwrite', cpu: 1, encoding: '0x4002', value: '0xffffffffffffffff' },
    { kind: 'set', cpu: 1, what: 'cpl', value: 3 },
    { kind: 'invept', cpu: 0, type: '0x1', descriptor: ['0x0', '0x0'] },
  ],
  origin: { engine: 'impl', seed: 7, note: 'sample' },
};

describe('case files', () => {
  it('survive serialize then parse unchanged', () => {
    expect(parseCase(serializeCase(sample))).toEqual(sample);
  });

  it('are written one operation per line', () => {
    const text = serializeCase(sample);
    expect(text.split('\n').filter((line) => line.includes('"kind"'))).toHaveLength(sample.operations.length);
  });

  it('name every problem with its path', () => {
    const bad = { ...sample, logicalProcessors: 0, operations: [{ kind: 'vmread', cpu: 0, encoding: 'zz' }] };
    try {
      parseCase(JSON.stringify(bad), 'bad.json');
      throw new Error('expected a CaseFileError');
    } catch (error) {
      expect(error).toBeInstanceOf(CaseFileError);
      expect((error as Error).message).toContain('bad.json');
      expect((error as Error).message).toContain('logicalProcessors');
      expect((error as Error).message).toContain('operations.0.encoding');
    }
  });

  it('reject values out of range for set and write-memory', () => {
    const cplTooBig = { ...sample, operations: [{ kind: 'set', cpu: 0, what: 'rflags.vm', value: 2 }] };
    expect(() => parseCase(JSON.stringify(cplTooBig))).toThrow(/0 or 1/);
    const wide = { ...sample, operations: [{ kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x100000000' }] };
    expect(() => parseCase(JSON.stringify(wide))).toThrow(/32-bit/);
  });

  it('reject unknown top-level members, so typos are not silently ignored', () => {
    expect(() => parseCase(JSON.stringify({ ...sample, operation: [] }))).toThrow(CaseFileError);
  });
});
