/**
 * The isolated engine under load: a plug-in that only passes calls through to our emulator must
 * give, call for call, exactly what our emulator gives in this thread. Before replies carried a
 * sequence number, a late wake-up (Atomics.wait returning 'ok' for the previous reply's notify)
 * made every later reply answer the previous request on a loaded machine.
 */
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForAnswer } from '../../cli/isolated-engine.ts';
import { loadEngine } from '../../cli/load-engine.ts';
import { createImplEngine } from '../../impl/index.ts';
import { operationSequence } from '../../properties/generators/operations.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { fixture } from './helpers.ts';

const profile = loadProfile('skylake');
const config = { profile: profile.data, logicalProcessors: 2 };

describe('waiting for an answer', () => {
  it('is not fooled by a wake-up that carries no answer (a late notify for an earlier request)', () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(flag, 0, 41);
    // A thread that notifies without answering after 50 ms, then answers request 42 after 400 ms.
    const helper = new Worker(
      `const { workerData } = require('node:worker_threads');
       const flag = new Int32Array(workerData);
       const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
       sleep(50); Atomics.notify(flag, 0);
       sleep(350); Atomics.store(flag, 0, 42); Atomics.notify(flag, 0);`,
      { eval: true, workerData: flag.buffer },
    );
    expect(waitForAnswer(flag, 42, 60_000)).toBe('answered');
    // A single Atomics.wait would have returned 'ok' at the first notify, with no answer there yet.
    expect(Atomics.load(flag, 0)).toBe(42);
    void helper.terminate();
  });

  it('reports a crash and a timeout as themselves', () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    expect(waitForAnswer(flag, 1, 30)).toBe('timed-out');
    Atomics.store(flag, 0, -1);
    expect(waitForAnswer(flag, 1, 60_000)).toBe('crashed');
  });
});

describe('isolated plug-in engine', () => {
  const busy: Worker[] = [];
  beforeAll(() => {
    // Load the machine: two threads spinning, so the worker and this thread are descheduled often.
    for (let i = 0; i < 2; i++) busy.push(new Worker('for (;;);', { eval: true }));
  });
  afterAll(async () => {
    await Promise.all(busy.map((w) => w.terminate()));
  });

  it('answers every call with the answer to that call, under load (1,000 sequences)', async () => {
    const plugin = await loadEngine(fixture('pass-through-engine.ts'), { stepTimeoutMs: 60_000 });
    try {
      const sequences = fc.sample(operationSequence(profile, { logicalProcessors: 2, maxSteps: 30 }), { seed: 7, numRuns: 1_000 });
      let steps = 0;
      for (const ops of sequences) {
        const theirs = plugin.factory(config);
        const ours = createImplEngine(config);
        for (const op of ops) {
          const expected = ours.step(op);
          const got = theirs.step(op);
          if (JSON.stringify(got) !== JSON.stringify(expected)) {
            expect.fail(`step ${steps} (${op.kind}): plug-in answered ${JSON.stringify(got)}, our emulator ${JSON.stringify(expected)}`);
          }
          steps += 1;
        }
      }
      expect(steps).toBeGreaterThan(10_000);
      expect(plugin.lastFault()).toBeUndefined();
    } finally {
      plugin.dispose();
    }
  });

  it('refuses to use an engine whose worker was replaced after a fault', async () => {
    const plugin = await loadEngine(fixture('exit-in-step-engine.ts'));
    try {
      const first = plugin.factory({ profile: profile.data, logicalProcessors: 1 });
      expect(() => first.step({ kind: 'vmxon', cpu: 0, pointer: '0x1000' })).toThrow(/crashed/);
      expect(() => first.step({ kind: 'vmxoff', cpu: 0 })).toThrow(/already stopped after an earlier fault/);
      const second = plugin.factory({ profile: profile.data, logicalProcessors: 1 });
      expect(second.step({ kind: 'vmxoff', cpu: 0 })).toMatchObject({ kind: 'fault', vector: 'UD' });
    } finally {
      plugin.dispose();
    }
  });
});
