/**
 * The records of the case-format-5 operations (impl/system-program.ts): malformed operands are
 * refused with a message naming the operation and the operand; compiled programs replay them as
 * Engine.step does; the descriptor-table registers outside a guest (kept in a hidden memory chunk,
 * impl/non-root/hidden-state.ts) are captured by snapshots and unreachable by any address.
 */
import { describe, expect, it } from 'vitest';
import { compile, runCompiled } from '../../impl/index.ts';
import { PhysicalMemory } from '../../impl/memory.ts';
import type { Operation } from '../../spec/operations.ts';
import { ok, Rig } from './fixtures.ts';

const bad = (op: unknown): Operation => op as Operation;

describe('encoding format-5 operations', () => {
  const rig = new Rig();
  const refuses = (op: unknown, message: RegExp) => expect(() => rig.step(bad(op))).toThrow(message);

  it('refuses bad RDRAND/RDSEED operands', () => {
    refuses({ kind: 'rdrand', cpu: 0, gpr: 16, size: 32 }, /rdrand: gpr must be an integer 0\.\.15/);
    refuses({ kind: 'rdseed', cpu: 0, gpr: 0, size: 8 }, /rdseed: size must be 16, 32 or 64/);
  });

  it('refuses bad INVPCID operands', () => {
    refuses({ kind: 'invpcid', cpu: 0, type: '0x0', descriptor: ['0x0'] }, /invpcid: descriptor must be/);
    refuses({ kind: 'invpcid', cpu: 0, type: '0x0', descriptor: ['0x0', '0x0'], typeGpr: -1 }, /invpcid: typeGpr must be/);
    refuses({ kind: 'invpcid', cpu: 0, type: 'zero', descriptor: ['0x0', '0x0'] }, /invpcid type/);
  });

  it('refuses descriptor-table operations the contract does not allow', () => {
    refuses({ kind: 'descriptor-table', cpu: 0, instruction: 'smsw' }, /instruction must be one of sgdt, sidt/);
    refuses({ kind: 'descriptor-table', cpu: 0, instruction: 'sldt', form: 'stack' }, /form must be "memory" or "register"/);
    refuses({ kind: 'descriptor-table', cpu: 0, instruction: 'sgdt', form: 'register' }, /sgdt has a memory operand only/);
    refuses({ kind: 'descriptor-table', cpu: 0, instruction: 'sldt', gpr: 1 }, /gpr belongs to the register form only/);
    refuses({ kind: 'descriptor-table', cpu: 0, instruction: 'lgdt', limit: '0x0' }, /lgdt and lidt need limit and base/);
    refuses({ kind: 'descriptor-table', cpu: 0, instruction: 'sgdt', base: '0x0' }, /lgdt and lidt need limit and base/);
    refuses({ kind: 'descriptor-table', cpu: 0, instruction: 'ltr' }, /lldt and ltr need a selector/);
    refuses({ kind: 'descriptor-table', cpu: 0, instruction: 'lidt', limit: '0x10000', base: '0x0' }, /lidt limit must be at most 0xffff/);
    refuses({ kind: 'descriptor-table', cpu: 0, instruction: 'lldt', selector: '0x100000000' }, /lldt selector must be at most 0xffff/);
    refuses({ kind: 'descriptor-table', cpu: 0, instruction: 'str', form: 'register', gpr: 99 }, /gpr must be an integer 0\.\.15/);
  });

  it('refuses a WBINVD variant other than wbinvd and wbnoinvd', () => {
    refuses({ kind: 'wbinvd', cpu: 0, variant: 'wbinvdx' }, /wbinvd: variant must be/);
    expect(rig.step({ kind: 'wbinvd', cpu: 0, variant: 'wbinvd' })).toEqual(ok());
  });
});

describe('compiled programs of format-5 operations', () => {
  it('give the statuses Engine.step gives', () => {
    const ops: Operation[] = [
      { kind: 'rdrand', cpu: 0, gpr: 1, size: 32 },
      { kind: 'invpcid', cpu: 0, type: '0x5', descriptor: ['0x0', '0x0'] },
      { kind: 'descriptor-table', cpu: 1, instruction: 'lidt', limit: '0x10', base: '0x2000' },
      { kind: 'descriptor-table', cpu: 1, instruction: 'sidt' },
      { kind: 'getsec', cpu: 0, eax: '0x0' },
      { kind: 'xrstors', cpu: 0, mask: '0x0' },
      { kind: 'wbinvd', cpu: 0, variant: 'wbnoinvd' },
    ];
    const rig = new Rig();
    const kinds = rig.run(ops).map((seen) => seen.kind);
    const statuses = Array.from(runCompiled(new Rig().engine.machine, compile(ops)));
    expect(kinds).toEqual(['ok', 'fault', 'ok', 'ok', 'fault', 'fault', 'ok']);
    expect(statuses.map((status) => (status === 0 ? 'ok' : 'fault'))).toEqual(kinds);
  });
});

describe('the descriptor-table registers outside a guest', () => {
  it('are captured by snapshots and restored', () => {
    const rig = new Rig();
    rig.step({ kind: 'descriptor-table', cpu: 0, instruction: 'lgdt', limit: '0x7', base: '0x1111' });
    const snapshot = rig.engine.snapshot();
    rig.step({ kind: 'descriptor-table', cpu: 0, instruction: 'lgdt', limit: '0x7', base: '0x2222' });
    rig.engine.restore(snapshot);
    expect(rig.step({ kind: 'descriptor-table', cpu: 0, instruction: 'sgdt' })).toEqual({ kind: 'ok', value: '0x1111', flags: 0 });
  });

  it('live in a hidden chunk that no physical address reaches', () => {
    const memory = new PhysicalMemory();
    expect(memory.hiddenOffset(0)).toBe(-1);
    const at = memory.hiddenChunk(0);
    memory.words[at] = 0x1234;
    expect(memory.hiddenOffset(0)).toBe(at);
    // Address 0 and the highest address do not read it.
    expect([memory.read32(0, 0), memory.read32(0xffff_fffc | 0, -1)]).toEqual([0, 0]);
  });

  it('are per processor, also beyond the 16 processors one hidden chunk holds', () => {
    const rig = new Rig(undefined, 34);
    rig.step({ kind: 'descriptor-table', cpu: 33, instruction: 'lidt', limit: '0x7', base: '0x3333' });
    rig.step({ kind: 'descriptor-table', cpu: 1, instruction: 'lidt', limit: '0x7', base: '0x1111' });
    expect(rig.run([33, 1, 32].map((cpu) => ({ kind: 'descriptor-table', cpu, instruction: 'sidt' }) as Operation)).map((seen) => (seen as { value?: string }).value)).toEqual([
      '0x3333',
      '0x1111',
      '0x0',
    ]);
  });
});
