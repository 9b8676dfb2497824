/**
 * Engine.snapshot() and Engine.restore() (spec/engine.ts): the whole machine, processors and
 * memory (where impl/ keeps VMCS data), comes back.
 */
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../spec/operations.ts';
import { FIELD } from '../../spec/fields.ts';
import { hex, MAXIMAL, Rig, SUCCEED, value, VMCS_A, VMCS_B } from './fixtures.ts';

/** Operations that touch every part of the machine state. */
function workload(rig: Rig): Operation[] {
  const rev = hex(rig.profile.revisionId);
  return [
    { kind: 'vmwrite', cpu: 0, encoding: hex(FIELD.GUEST_RIP), value: '0xabc' },
    { kind: 'write-memory', cpu: 1, address: hex(VMCS_B), value: rev },
    { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_B) },
    { kind: 'vmwrite', cpu: 0, encoding: hex(FIELD.GUEST_RIP), value: '0xdef' },
    { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_A) },
    { kind: 'set', cpu: 1, what: 'cpl', value: 3 },
    { kind: 'vmread', cpu: 0, encoding: '0x1' },
    { kind: 'vmptrst', cpu: 0 },
    { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) },
    { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) },
    { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) },
    { kind: 'vmxoff', cpu: 0 },
  ];
}

describe('snapshot and restore', () => {
  it('restore brings back processors and memory: the same steps observe the same outcomes', () => {
    const rig = new Rig().enterWithVmcs(0);
    const snapshot = rig.engine.snapshot();
    const first = rig.run(workload(rig));
    rig.engine.restore(snapshot);
    const second = rig.run(workload(rig));
    expect(second).toEqual(first);
    expect(first.at(-1)).toEqual(SUCCEED);
  });

  it('a snapshot can be restored more than once, and later changes do not leak into it', () => {
    const rig = new Rig().enterWithVmcs(0);
    rig.vmwrite(FIELD.GUEST_RIP, 1);
    const snapshot = rig.engine.snapshot();
    rig.vmwrite(FIELD.GUEST_RIP, 2);
    rig.engine.restore(snapshot);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x1'));
    rig.vmwrite(FIELD.GUEST_RIP, 3);
    rig.step({ kind: 'write-memory', cpu: 0, address: hex(VMCS_A), value: '0x0' });
    rig.engine.restore(snapshot);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x1'));
    rig.vmclear(VMCS_A);
    expect(rig.vmptrld(VMCS_A)).toEqual(SUCCEED);
  });

  it('restores a machine whose memory grew after the snapshot, and one whose memory grew before it', () => {
    const rig = new Rig(MAXIMAL).enter();
    const empty = rig.engine.snapshot();
    const regions = Array.from({ length: 12 }, (_, i) => 0x20_0000 + i * 0x1000);
    for (const region of regions) {
      rig.layOut(region);
      rig.vmptrld(region);
      rig.vmwrite(FIELD.GUEST_RIP, region);
    }
    const full = rig.engine.snapshot();
    rig.engine.restore(empty);
    expect(rig.vmptrst()).toEqual(value('0xffffffffffffffff'));
    rig.engine.restore(full);
    for (const region of regions) {
      expect(rig.vmptrld(region)).toEqual(SUCCEED);
      expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value(hex(region)));
    }
    rig.layOut(0x40_0000);
    expect(rig.vmptrld(0x40_0000)).toEqual(SUCCEED);
  });

  it('captures memory spread over many pages (more than a linear scan covers)', () => {
    const rig = new Rig();
    const addresses = Array.from({ length: 40 }, (_, i) => 0x10_0000 + i * 0x400);
    for (const [i, address] of addresses.entries()) {
      rig.step({ kind: 'write-memory', cpu: 0, address: hex(address), value: hex(i + 1) });
    }
    const snapshot = rig.engine.snapshot();
    for (const address of addresses) rig.step({ kind: 'write-memory', cpu: 0, address: hex(address), value: '0x0' });
    rig.engine.restore(snapshot);
    for (const [i, address] of addresses.entries()) expect(rig.engine.machine.readMemory(address, 0)).toBe(i + 1);
    expect(rig.engine.machine.readMemory(0x20_0000, 0)).toBe(0);
  });

  it('a VMCS can be cleared and loaded again many times, keeping its data', () => {
    const rig = new Rig().enter();
    for (let round = 0; round < 30; round++) {
      const region = 0x10_0000 + (round % 3) * 0x1000;
      rig.layOut(region);
      expect(rig.vmptrld(region)).toEqual(SUCCEED);
      rig.vmwrite(FIELD.GUEST_RIP, round);
      expect(rig.vmclear(region)).toEqual(SUCCEED);
    }
    rig.vmptrld(0x10_0000 + (29 % 3) * 0x1000);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value(hex(29)));
    rig.vmptrld(0x10_0000 + (28 % 3) * 0x1000);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value(hex(28)));
  });

  it('refuses a snapshot from another engine, and values that are not snapshots', () => {
    const a = new Rig();
    const b = new Rig();
    expect(() => a.engine.restore(b.engine.snapshot())).toThrow(/another machine/);
    expect(() => a.engine.restore(null)).toThrow(/not a snapshot/);
    expect(() => a.engine.restore({})).toThrow(/not a snapshot/);
    expect(() => a.engine.restore(42)).toThrow(/not a snapshot/);
  });
});
