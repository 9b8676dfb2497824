/** The case compiler: the bytes the agent reads (bochs/agent/interp.asm) and what it refuses. */
import { describe, expect, it } from 'vitest';
import { BatchCompiler, pagesTouched } from '../../cli/bochs/bytecode.ts';
import { resolveProfile } from '../../cli/load-profile.ts';
import type { Operation } from '../../spec/operations.ts';

const { profile } = resolveProfile('skylake');
const compile = (ops: Operation[]) => {
  const c = new BatchCompiler(profile, true);
  c.add(1, ops);
  return { bytes: c.finish(), compiled: c.cases[0]! };
};

describe('BatchCompiler', () => {
  it('writes the header, the case, its pages to zero, and each operation with its operands', () => {
    const { bytes, compiled } = compile([
      { kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x4' },
      { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
      { kind: 'vmread', cpu: 0, encoding: '0x4400' },
    ]);
    expect(bytes.subarray(0, 8).toString('latin1', 0, 4)).toBe('VMXB');
    expect(bytes.readUInt32LE(4)).toBe(2);
    expect(bytes.readUInt32LE(8)).toBe(0); // resume: the agent's
    let at = 12;
    expect(bytes[at]).toBe(0x01); // case begin: id, the offset after the case, the sum of its bytes
    expect(bytes.readUInt32LE(at + 1)).toBe(0);
    expect(bytes.readUInt32LE(at + 5)).toBe(bytes.length - 1);
    expect(bytes.readUInt32LE(at + 9)).toBe([...bytes.subarray(at + 13, bytes.length - 1)].reduce((a, b) => a + b, 0));
    at += 13;
    expect(bytes[at]).toBe(0x03); // zero page 0x1000
    expect(bytes.readUInt32LE(at + 1)).toBe(0x1000);
    at += 5;
    expect([bytes[at], bytes.readUInt32LE(at + 1), bytes.readUInt32LE(at + 5)]).toEqual([0x04, 0x1000, 4]);
    at += 9;
    expect(bytes[at]).toBe(0x10); // VMXON m64, pointer in the scratch operand
    expect(bytes.readBigUInt64LE(at + 1)).toBe(0x1000n);
    at += 9;
    expect(bytes[at]).toBe(0x10 + 9); // VMREAD register form, encoding in RCX
    expect(bytes.readBigUInt64LE(at + 1)).toBe(0x4400n);
    at += 9;
    expect([bytes[at], bytes[at + 1], bytes.length]).toEqual([0x02, 0x00, at + 2]);
    expect(compiled.sent).toBe(3);
  });

  it('answers unimplemented for what the agent cannot do for real, and stops the case there', () => {
    const { compiled } = compile([
      { kind: 'set', cpu: 0, what: 'cpl', value: 3 },
      { kind: 'set', cpu: 0, what: 'cr3', value: 0x1000 },
      { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
    ]);
    expect(compiled.sent).toBe(2);
    expect(compiled.unimplemented.get(1)).toMatch(/set cr3/);
  });

  it('refuses stores into the agent and beyond the guest RAM', () => {
    expect(compile([{ kind: 'write-memory', cpu: 0, address: '0x200000', value: '0x1' }]).compiled.unimplemented.get(0)).toMatch(/outside the guest RAM/);
    expect(compile([{ kind: 'write-memory', cpu: 0, address: '0x10000000', value: '0x1' }]).compiled.unimplemented.get(0)).toMatch(/outside the guest RAM/);
  });

  it('does not execute a VMLAUNCH the model lets past the basic checks when it may enter, but does one that must fail', () => {
    const fails = compile([{ kind: 'vmlaunch', cpu: 0 }]);
    expect(fails.compiled.unimplemented.size).toBe(0); // #UD outside VMX operation
    const vmcs: Operation[] = [
      { kind: 'write-memory', cpu: 0, address: '0x1000', value: `0x${profile.revisionId.toString(16)}` },
      { kind: 'write-memory', cpu: 0, address: '0x2000', value: `0x${profile.revisionId.toString(16)}` },
      { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
      { kind: 'vmptrld', cpu: 0, pointer: '0x2000' },
      { kind: 'vmlaunch', cpu: 0 },
    ];
    const c = compile(vmcs).compiled;
    expect(c.sent).toBe(5);
    expect(c.unimplemented.get(4)).toMatch(/may get past the checks/);
  });

  it('answers unimplemented for VMCALL with a current VMCS (Bochs panics there) unless told to execute it', () => {
    const rev = `0x${profile.revisionId.toString(16)}`;
    const ops: Operation[] = [
      { kind: 'write-memory', cpu: 0, address: '0x1000', value: rev },
      { kind: 'write-memory', cpu: 0, address: '0x2000', value: rev },
      { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
      { kind: 'vmptrld', cpu: 0, pointer: '0x2000' },
      { kind: 'vmcall', cpu: 0 },
    ];
    expect(compile(ops).compiled.unimplemented.get(4)).toMatch(/VMCALL/);
    const c = new BatchCompiler(profile, true, { executeKnownCrashes: true });
    c.add(1, ops);
    expect(c.cases[0]!.unimplemented.size).toBe(0);
  });

  it('adds a case compiled for another batch with its id and end offset moved, the same bytes otherwise', () => {
    const ops: Operation[] = [
      { kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x4' },
      { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
    ];
    const first = new BatchCompiler(profile, true);
    first.add(1, ops);
    const piece = first.piece(0);
    const second = new BatchCompiler(profile, true);
    second.add(1, [{ kind: 'vmxoff', cpu: 0 }]);
    const at = second.size;
    expect(second.append(piece)).toBe(1);
    const bytes = second.finish();
    expect(bytes.readUInt32LE(at + 1)).toBe(1);
    expect(bytes.readUInt32LE(at + 5)).toBe(bytes.length - 1);
    expect(bytes.subarray(at + 9, bytes.length - 1)).toEqual(piece.bytes.subarray(9));
    expect(second.cases[1]).toBe(piece.compiled);
    expect(() => second.piece(5)).toThrow(/no case 5/);
  });

  it('zeroes the pages a case stores into or points at, never the agent', () => {
    expect(
      pagesTouched([
        { kind: 'write-memory', cpu: 0, address: '0x2ffc', value: '0x1' },
        { kind: 'vmclear', cpu: 0, pointer: '0x5008' },
        { kind: 'vmptrld', cpu: 0, pointer: '0x300000' },
        { kind: 'vmxon', cpu: 0, pointer: '0xffffffffff000' },
      ]),
    ).toEqual([0x2000, 0x5000]);
  });
});
