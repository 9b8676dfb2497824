/**
 * `npm run bench`: speed of the reference model and of our emulator on the same operation
 * sequences, in one run, with ratios (the machine is shared and noisy; compare ratios within a
 * run, not absolute numbers across runs). Not a test: it prints figures and always exits 0.
 *
 * 1. Model step rate: the model judging recorded observations (what the differential property
 *    does per step), over sequences from the suite's generator.
 * 2. Emulator step rate on the same sequences, decoded once into the emulator's integer records
 *    (`compile`) and executed by `runCompiled`: the emulator's own instruction path, the figure
 *    the 20x target is about (as an x86 emulator decodes an instruction once and runs the
 *    decoded form).
 * 3. Emulator step rate through Engine.step (JSON operations in, observation objects out), and
 *    what decoding the JSON operations alone costs per step.
 * 4. VMWRITE+VMREAD pairs per second through the emulator's native API (Bochs 2.7 manages about
 *    9 million per second on this kind of machine, measured inside one Bochs run).
 * 5. VM entry (bench/vm-entry.ts): (a) the full VM-entry check of a valid VMCS on its own, (b) a
 *    VMLAUNCH that enters the guest, each with the model's figure and impl/model, wall and CPU.
 * 6. (c) A VM exit (the guest's VMCALL) and the VMRESUME that re-enters the guest, round trip,
 *    emulator and, where it follows them, model (bench/vm-exit.ts), wall and CPU.
 *
 * Environment: BENCH_SEQUENCES (2000), BENCH_ROUNDS (7), BENCH_PAIRS (20,000,000).
 */
import fc from 'fast-check';
import { compile, createImplEngine, createImplMachine, encodeOperation, RECORD_WORDS, runCompiled } from '../impl/index.ts';
import { createModelState, matches, step } from '../model/index.ts';
import { operationSequence } from '../properties/generators/operations.ts';
import { FIELD } from '../spec/fields.ts';
import type { Observation } from '../spec/observations.ts';
import type { Operation } from '../spec/operations.ts';
import { loadProfile } from '../spec/profiles.ts';
import { benchVmEntry } from './vm-entry.ts';
import { benchVmExit } from './vm-exit.ts';

const SEED = 1;
const SEQUENCES = Number(process.env.BENCH_SEQUENCES ?? 2000);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 20_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const profile = loadProfile('skylake');
const config = { profile: profile.data, logicalProcessors: 2 };

/** Seconds since `start` (a process.hrtime.bigint() reading). */
function elapsed(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// --- the workload: generated sequences, cut where the model stops comparing
const sequences: Operation[][] = fc.sample(operationSequence(profile, { logicalProcessors: 2, maxSteps: 40 }), { seed: SEED, numRuns: SEQUENCES });
let disagreements = 0;
const recorded: { ops: Operation[]; observations: Observation[] }[] = sequences.map((ops) => {
  const engine = createImplEngine(config);
  let state = createModelState(profile, 2);
  const kept: Operation[] = [];
  const observations: Observation[] = [];
  for (const op of ops) {
    const verdict = step(state, op);
    const obs = engine.step(op);
    // Where the model stops comparing, or the emulator says it does not implement the step (as the
    // suite's differential property treats it), the sequence is cut.
    if (verdict.kind !== 'defined' || obs.kind === 'unimplemented') break;
    const branch = verdict.branches.find((b) => matches(b.expected, obs));
    if (branch === undefined) {
      disagreements += 1; // `npm run suite` reports these; here the sequence is just cut
      break;
    }
    kept.push(op);
    observations.push(obs);
    state = branch.next(obs);
  }
  return { ops: kept, observations };
});
const totalSteps = recorded.reduce((n, r) => n + r.ops.length, 0);

// The figures are step rates: each sequence is timed on its own, from its first step to its
// last, on a model state or machine made just before it (untimed), as the suite makes one per
// case. Timing per sequence costs one clock read per sequence, in every measurement alike.
/** The clock the passes read. */
const clock = (): bigint => process.hrtime.bigint();

/** One pass of the model over the recorded sequences; returns seconds. */
function modelPass(): number {
  let total = 0;
  for (const { ops, observations } of recorded) {
    let state = createModelState(profile, 2);
    const start = clock();
    ops.forEach((op, i) => {
      const verdict = step(state, op);
      const obs = observations[i] as Observation;
      if (verdict.kind === 'defined') {
        const branch = verdict.branches.find((b) => matches(b.expected, obs));
        if (branch) state = branch.next(obs);
      }
    });
    total += elapsed(start);
  }
  return total;
}

/** One pass of the emulator through Engine.step, a fresh engine per sequence; returns seconds. */
function enginePass(): number {
  let total = 0;
  for (const { ops } of recorded) {
    const engine = createImplEngine(config);
    const start = clock();
    for (const op of ops) engine.step(op);
    total += elapsed(start);
  }
  return total;
}

/** Decoding alone: every JSON operation into an integer record, nothing executed; returns seconds. */
function decodePass(): number {
  const record = new Int32Array(RECORD_WORDS);
  let total = 0;
  for (const { ops } of recorded) {
    const start = clock();
    for (const op of ops) encodeOperation(op, record, 0);
    total += elapsed(start);
  }
  return total;
}

const programs = recorded.map((r) => compile(r.ops));
/** One pass of the emulator over the compiled sequences, a fresh machine per sequence; returns seconds. */
function compiledPass(): number {
  let total = 0;
  for (const program of programs) {
    const machine = createImplMachine(config);
    const start = clock();
    runCompiled(machine, program);
    total += elapsed(start);
  }
  return total;
}

// Rounds interleave the measurements, so that a slow stretch of the shared machine hits all of
// them; each figure is the best round, each ratio the median of the per-round ratios.
const seconds = { model: [] as number[], engine: [] as number[], decode: [] as number[], compiled: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  seconds.model.push(modelPass());
  seconds.engine.push(enginePass());
  seconds.decode.push(decodePass());
  seconds.compiled.push(compiledPass());
}
const bestRate = (xs: readonly number[]): number => totalSteps / Math.min(...xs);
const ratio = (xs: readonly number[]): number => median(xs.map((x, i) => (seconds.model[i] as number) / x));

// --- VMWRITE+VMREAD pairs through the native API
const machine = createImplMachine(config);
const rev = profile.revisionId;
machine.writeMemory(0, 0x1000, 0, rev);
machine.writeMemory(0, 0x2000, 0, rev);
const setup = [machine.vmxon(0, 0x1000, 0), machine.vmclear(0, 0x2000, 0), machine.vmptrld(0, 0x2000, 0)];
if (setup.some((s) => s !== 0)) throw new Error(`set-up failed: ${setup.join(', ')}`);
const fields = [FIELD.GUEST_RIP, FIELD.GUEST_CS_LIMIT, FIELD.GUEST_ES_SELECTOR, FIELD.VMCS_LINK_POINTER, FIELD.EXCEPTION_BITMAP, FIELD.GUEST_RSP, FIELD.TSC_OFFSET, FIELD.CR0_GUEST_HOST_MASK];
function pairPass(): number {
  const start = process.hrtime.bigint();
  let check = 0;
  for (let i = 0; i < PAIRS; i++) {
    const encoding = fields[i & 7] as number;
    check |= machine.vmwrite(0, encoding, 0, i, 0);
    check |= machine.vmread(0, encoding, 0);
  }
  if (check !== 0) throw new Error('a VMWRITE or VMREAD failed in the pair loop');
  return elapsed(start);
}
const pairRate = PAIRS / Math.min(pairPass(), pairPass(), pairPass());

if (disagreements > 0) console.log(`warning: the emulator and the model disagree on ${disagreements} sequences (cut there); run the suite`);
const decodeNs = (Math.min(...seconds.decode) / totalSteps) * 1e9;
console.log(`vmx-conformance bench (seed ${SEED}, profile skylake, ${SEQUENCES} sequences, ${fmt(totalSteps)} compared steps; best of ${ROUNDS} interleaved rounds, ratios are medians of the per-round ratios)`);
console.log(`  model, judging recorded observations   ${fmt(bestRate(seconds.model)).padStart(12)} steps/s`);
console.log(`  emulator, compiled records             ${fmt(bestRate(seconds.compiled)).padStart(12)} steps/s   ${ratio(seconds.compiled).toFixed(1)}x the model (target 20x)`);
console.log(`  emulator, Engine.step (JSON)           ${fmt(bestRate(seconds.engine)).padStart(12)} steps/s   ${ratio(seconds.engine).toFixed(1)}x the model`);
console.log(`    of which decoding JSON operations    ${decodeNs.toFixed(0).padStart(12)} ns/step`);
console.log(`  emulator, VMWRITE+VMREAD pairs         ${fmt(pairRate).padStart(12)} pairs/s   (target 10,000,000; Bochs 2.7 about 9,000,000)`);
const ns = (n: number): string => (Number.isNaN(n) ? 'n/a' : n.toFixed(0)).padStart(7);
/** One figure of bench/vm-entry.ts or bench/vm-exit.ts: wall and CPU medians, the model's, and impl/model. */
function entryLine(what: string, wall: number, cpu: number, modelWall: number, modelCpu: number, target: string): void {
  console.log(`  ${what.padEnd(40)} ${ns(wall)} ns wall ${ns(cpu)} ns CPU (medians; target ${target})`);
  if (Number.isNaN(modelCpu)) console.log('    the model does not follow the processor through these steps: no ratio');
  else console.log(`    the model on the same steps          ${ns(modelWall)} ns wall ${ns(modelCpu)} ns CPU   impl/model ${(cpu / modelCpu).toFixed(4)} (CPU), emulator ${(modelCpu / cpu).toFixed(0)}x faster`);
}
const entry = benchVmEntry(profile);
entryLine('(a) full VM-entry check, valid VMCS', entry.checkNs, entry.checkCpuNs, entry.modelNs, entry.modelCpuNs, '<= 1,000');
entryLine('(b) VMLAUNCH entering the guest', entry.implNs, entry.implCpuNs, entry.modelNs, entry.modelCpuNs, '< 1,000');
const exitRound = benchVmExit(profile);
entryLine('(c) VM exit + VMRESUME round trip', exitRound.implNs, exitRound.implCpuNs, exitRound.modelNs, exitRound.modelCpuNs, '<= 1,000');
