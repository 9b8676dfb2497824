/**
 * ProcessEngine on its own: the handshake, whole cases, an early end after `unimplemented`, and
 * the protocol errors that are neither crashes nor garbage.
 */
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessEngine } from '../../cli/process-engine.ts';
import { EmulatorFault } from '../../cli/engine-fault.ts';
import type { Operation } from '../../spec/operations.ts';

const fixture = (name: string): string => `python3 ${resolve(import.meta.dirname, '../fixtures/processes', name)}`;
const options = { handshakeTimeoutMs: 30_000, stepTimeoutMs: 30_000, onLog: () => {} };
const opened: ProcessEngine[] = [];
const open = (name: string): ProcessEngine => {
  const engine = ProcessEngine.open(fixture(name), options);
  opened.push(engine);
  return engine;
};
afterEach(() => {
  for (const engine of opened.splice(0)) engine.close();
});

const ops: Operation[] = [
  { kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x4' },
  { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
  { kind: 'write-memory', cpu: 0, address: '0x2000', value: '0x4' },
];

describe('ProcessEngine', () => {
  it('takes name, profile and operation kinds from the hello', () => {
    const engine = open('unimplemented.py');
    expect(engine.name).toBe('partial');
    expect(engine.announced.revisionId).toBe(4);
    expect(engine.supports('vmxon')).toBe(true);
    expect(engine.supports('vmlaunch')).toBe(false);
  });

  it('accepts a case ended early right after an unimplemented observation', () => {
    const engine = open('unimplemented.py');
    const answers = engine.runCase(2, ops);
    expect(answers).toEqual([
      { kind: 'ok', flags: 0 },
      { kind: 'unimplemented', what: 'VMXON', flags: 0 },
    ]);
    expect(engine.fault).toBeUndefined();
    expect(engine.runCase(1, ops.slice(0, 1))).toHaveLength(1);
  });

  it('calls an early end without unimplemented a protocol error, and fails every later case with it', () => {
    const engine = open('early-end.py');
    expect(() => engine.runCase(2, ops)).toThrow(/emulator hasty .* broke the protocol in case 0 \(3 operations\): it ended the case after 1 of 3 observations/);
    expect(engine.fault).toBeInstanceOf(EmulatorFault);
    expect(engine.fault?.faultedCase?.operations).toEqual(ops);
    expect(() => engine.runCase(2, ops)).toThrow(engine.fault as EmulatorFault);
  });

  it('calls an answer for another case a protocol error', () => {
    const engine = open('wrong-case.py');
    expect(() => engine.runCase(2, ops)).toThrow(/broke the protocol in case 0 .*it answered for case 99 while case 0 was running/);
  });

  it('refuses an inconsistent announced profile at the handshake, listing the problem', () => {
    expect(() => open('bad-profile.py')).toThrow(/announced an inconsistent profile during the handshake: .*IA32_VMX_CR4_FIXED0/s);
  });
});
