/**
 * The batched suite's shrinking of an engine fault: rounds of candidates, one batch (boot) per
 * round, the first candidate that faults the same way kept whole, and a batch that stops at the
 * first faulting candidate (so a hang costs one silence limit per round, not one per candidate).
 */
import { describe, expect, it } from 'vitest';
import { leavesIa32eMode } from '../../properties/generators/ia32e-mode.ts';
import { judgeBatch, sampleCases, shrinkInBatches, type BatchCase, type BatchCaseEngine } from '../../properties/batched-suite.ts';
import { GUEST_OPERATION_KINDS } from '../../spec/guest-operations.ts';
import { runCaseDifferential } from '../../properties/differential.ts';
import { EmulatorFault } from '../../cli/engine-fault.ts';
import { loadProfile } from '../../spec/profiles.ts';
import type { Operation } from '../../spec/operations.ts';

const profile = loadProfile('skylake');
const write = (address: number): Operation => ({ kind: 'write-memory', cpu: 0, address: `0x${address.toString(16)}`, value: '0x4' }) as Operation;
const vmxon: Operation = { kind: 'vmxon', cpu: 0, pointer: '0x1000' };

/** An engine that answers `ok` to writes and hangs on any case with a VMXON; counts its boots and the cases each ran. */
class HangOnVmxon implements BatchCaseEngine {
  readonly name = 'hang-on-vmxon';
  boots = 0;
  ran: number[] = [];
  private readonly answers = new Map<string, readonly unknown[] | EmulatorFault>();
  supports(): boolean {
    return true;
  }
  async prefetchAsync(cases: readonly BatchCase[], options: { stopAtFault?: boolean } = {}): Promise<void> {
    this.boots += 1;
    let count = 0;
    for (const c of cases) {
      count += 1;
      const faults = c.operations.some((op) => op.kind === 'vmxon');
      this.answers.set(JSON.stringify(c.operations), faults ? new EmulatorFault('hang', this.name, 'silent', { command: 'fake', faultedCase: { id: 0, logicalProcessors: 1, operations: [...c.operations] } }) : c.operations.map(() => ({ kind: 'ok', flags: 0 })));
      if (faults && options.stopAtFault === true) break;
    }
    this.ran.push(count);
  }
  answered(_lp: number, operations: readonly Operation[]): boolean {
    return this.answers.has(JSON.stringify(operations));
  }
  faultKind(_lp: number, operations: readonly Operation[]): string | undefined {
    const a = this.answers.get(JSON.stringify(operations));
    return a instanceof EmulatorFault ? a.kind : undefined;
  }
  runCase(_lp: number, operations: readonly Operation[]): readonly unknown[] {
    const a = this.answers.get(JSON.stringify(operations));
    if (a === undefined) throw new Error('not prefetched');
    if (a instanceof EmulatorFault) throw a;
    return a;
  }
}

describe('shrinkInBatches', () => {
  it('shrinks a hang to the operation that causes it, one batch per round, each batch stopping at the first hang', async () => {
    const engine = new HangOnVmxon();
    const original = [write(0x2000), write(0x3000), write(0x4000), vmxon, write(0x5000), write(0x6000), write(0x7000), write(0x8000)];
    await engine.prefetchAsync([{ logicalProcessors: 1, operations: original }]);
    const first = runCaseDifferential(engine, profile, 1, original);
    expect(first.kind).toBe('divergent');
    engine.boots = 0;
    engine.ran = [];
    const shrunk = await shrinkInBatches(original, first, engine, profile, 1);
    expect(shrunk.operations).toEqual([vmxon]);
    expect(shrunk.removed).toBe(7);
    // Every round is one batch: no candidate ever ran in a boot of its own after a hang.
    expect(engine.boots).toBe(shrunk.rounds);
    // A faulting candidate ends its batch: round 1 has 14 candidates (2 halves, 4 quarters, 8
    // singles dropped); the first (without the first half) answers, the second (with the VMXON)
    // hangs, and the batch ends there.
    expect(engine.ran[0]).toBe(2);
  });

  it('keeps the case when no smaller candidate faults the same way', async () => {
    const engine = new HangOnVmxon();
    const original = [vmxon];
    await engine.prefetchAsync([{ logicalProcessors: 1, operations: original }]);
    const first = runCaseDifferential(engine, profile, 1, original);
    const shrunk = await shrinkInBatches(original, first, engine, profile, 1);
    expect(shrunk).toEqual({ operations: [vmxon], rounds: 0, removed: 0 });
  });
});

/** An engine that answers `ok` to writes and `unimplemented` to a VM entry, as the Bochs agent does for one it cannot follow. */
class NoGuests extends HangOnVmxon {
  override async prefetchAsync(): Promise<void> {}
  override runCase(_lp: number, operations: readonly Operation[]): readonly unknown[] {
    const at = operations.findIndex((op) => op.kind === 'vmlaunch');
    const answered = at < 0 ? operations : operations.slice(0, at + 1);
    return answered.map((op) => (op.kind === 'vmlaunch' ? { kind: 'unimplemented', what: 'vmlaunch that may get past the checks at 0x1000', flags: 0 } : { kind: 'ok', flags: 0 }));
  }
}

describe('the no-guests mix', () => {
  it('leaves out the steps that leave IA-32e mode, enter virtual-8086 mode or replace CR3', () => {
    const set = (what: string, value: number) => ({ kind: 'set', cpu: 0, what, value }) as Operation;
    const cr0 = (value: string) => ({ kind: 'mov-cr0', cpu: 0, value }) as Operation;
    expect(leavesIa32eMode([set('efer.lma', 0)])).toBe(true);
    expect(leavesIa32eMode([set('efer.lme', 0)])).toBe(true);
    expect(leavesIa32eMode([set('rflags.vm', 1)])).toBe(true);
    expect(leavesIa32eMode([set('cr3', 0x1000)])).toBe(true);
    expect(leavesIa32eMode([set('cs.l', 0), cr0('0x31')])).toBe(true);
    expect(leavesIa32eMode([cr0('0x31')])).toBe(false); // in 64-bit mode: #GP, which the agent runs
    expect(leavesIa32eMode([set('cs.l', 0), set('cs.l', 1), cr0('0x31')])).toBe(false);
    expect(leavesIa32eMode([set('cs.l', 0), cr0('0x80000031')])).toBe(false);
    expect(leavesIa32eMode([set('efer.lma', 1), set('rflags.vm', 0), set('cpl', 3)])).toBe(false);
  });

  it('draws no guest operation, and the default mix draws the same cases as before the option existed', () => {
    const options = { seed: 5, runs: 150, maxSteps: 40, logicalProcessors: 1 };
    const guestKinds = new Set<string>(GUEST_OPERATION_KINDS);
    const noGuests = sampleCases(profile, { ...options, mix: 'no-guests' });
    expect(noGuests.flat().filter((op) => guestKinds.has(op.kind))).toEqual([]);
    // Nor a step the agent cannot follow in IA-32e mode, where the default mix has them.
    expect(noGuests.filter((ops) => leavesIa32eMode(ops))).toEqual([]);
    expect(noGuests.some((ops) => ops.some((op) => op.kind === 'set' && op.what === 'cs.l' && op.value === 0))).toBe(true);
    const all = sampleCases(profile, options);
    expect(all.flat().some((op) => guestKinds.has(op.kind))).toBe(true);
    expect(all.filter((ops) => leavesIa32eMode(ops)).length).toBeGreaterThan(10);
    expect(sampleCases(profile, { ...options, mix: 'all' })).toEqual(all);
  });

  it('counts a VM entry the engine cannot follow as unsupported there, listed with its reason, and as unimplemented otherwise', async () => {
    const ops = [write(0x2000), { kind: 'vmlaunch', cpu: 0 } as Operation];
    const left = await judgeBatch({ engine: new NoGuests(), profile, logicalProcessors: 1, guestsLeftOut: true }, [ops], 0);
    expect(left.stats.endings.unsupported).toBe(1);
    expect(left.stats.endings['engine-unimplemented']).toBe(0);
    expect(left.stoppedAt).toEqual({ 'vmlaunch: vmlaunch that may get past the checks at … [left out: --mix no-guests]': 1 });
    const other = await judgeBatch({ engine: new NoGuests(), profile, logicalProcessors: 1, leftOut: (op, what) => (op.kind === 'vmlaunch' && /0x1000/.test(what) ? 'a reason' : undefined) }, [ops], 0);
    expect(other.stats.endings.unsupported).toBe(1);
    expect(other.stoppedAt).toEqual({ 'vmlaunch: vmlaunch that may get past the checks at … [left out: a reason]': 1 });
    const kept = await judgeBatch({ engine: new NoGuests(), profile, logicalProcessors: 1 }, [ops], 0);
    expect(kept.stats.endings['engine-unimplemented']).toBe(1);
    expect(kept.stoppedAt).toEqual({ 'vmlaunch: vmlaunch that may get past the checks at …': 1 });
  });
});
