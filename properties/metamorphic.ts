/**
 * Metamorphic properties: relations between runs of the same engine that hold whatever the
 * model says, so they check an engine (and the model's assumptions) from a second direction.
 *
 * - VMWRITE then VMREAD of a field returns the written value cut to the field's width
 *   (SDM Vol. 3C, December 2023, §31.3 "VMWRITE—Write Field to Virtual-Machine Control
 *   Structure" and "VMREAD—Read Field from Virtual-Machine Control Structure", Operation).
 * - VMCLEAR then VMPTRLD, on the same or another logical processor, keeps field values
 *   (§25.11.3 "Initializing a VMCS" and the migration procedure of §25.11.1).
 * - snapshot, steps, restore, the same steps: the same observations.
 *
 * An engine that answers `unimplemented` to a step of a relation cannot be checked by it: that
 * run is counted but the relation is not compared (see the README on partial emulators).
 */
import fc from 'fast-check';
import { VMCS_FIELDS, type VmcsField } from '../spec/fields.ts';
import { canonicalHex, parseHex, toHex } from '../spec/hex.ts';
import type { Engine, EngineConfig, EngineFactory } from '../spec/engine.ts';
import type { Observation } from '../spec/observations.ts';
import type { Operation } from '../spec/operations.ts';
import type { Profile } from '../spec/profile.ts';
import { operationSequence } from './generators/operations.ts';
import { value64 } from './generators/values.ts';

/** A metamorphic relation over engines made by one factory. */
export interface MetamorphicProperty {
  name: string;
  /** Generates the operation sequences the relation is checked on. */
  arbitrary: fc.Arbitrary<Operation[]>;
  /** Runs one sequence on a fresh engine; throws {@link RelationBroken} when the relation fails. */
  check(operations: Operation[]): void;
}

const VMXON_REGION = 0x1000n;
const VMCS_REGION = 0x2000n;
const CPU1_VMXON_REGION = 0x3000n;

/** Lays out a VMXON region and a VMCS, enters VMX operation on cpu 0 and makes the VMCS current. */
export function vmxSetup(profile: Profile): Operation[] {
  const rev = toHex(BigInt(profile.revisionId));
  const ops: Operation[] = [];
  if ((parseHex(profile.data.featureControl) & 1n) === 0n) {
    ops.push({ kind: 'write-feature-control', cpu: 0, value: '0x5' });
  }
  ops.push(
    { kind: 'write-memory', cpu: 0, address: toHex(VMXON_REGION), value: rev },
    { kind: 'write-memory', cpu: 0, address: toHex(VMCS_REGION), value: rev },
    { kind: 'vmxon', cpu: 0, pointer: toHex(VMXON_REGION) },
    { kind: 'vmclear', cpu: 0, pointer: toHex(VMCS_REGION) },
    { kind: 'vmptrld', cpu: 0, pointer: toHex(VMCS_REGION) },
  );
  return ops;
}

/** True when the profile lets VMXON succeed from the initial state (after locking feature control). */
export function setupPossible(profile: Profile): boolean {
  const fc = parseHex(profile.data.featureControl);
  return (fc & 1n) === 0n || (fc & 4n) !== 0n;
}

function writable(profile: Profile): VmcsField[] {
  return VMCS_FIELDS.filter(
    (f) => profile.fieldExists(f.encoding) && (f.type !== 'exit-information' || profile.vmwriteAnyField),
  );
}

/** Mask of the bits a field of this width holds, as read by VMREAD in 64-bit mode. */
function widthMask(field: VmcsField, high: boolean): bigint {
  if (high) return 0xffff_ffffn;
  if (field.width === 16) return 0xffffn;
  if (field.width === 32) return 0xffff_ffffn;
  return (1n << 64n) - 1n;
}

/** Thrown inside a metamorphic property when the relation does not hold. */
export class RelationBroken extends Error {
  override readonly name = 'RelationBroken';
}

function run(engine: Engine, ops: readonly Operation[]): Observation[] {
  return ops.map((op) => engine.step(op));
}

/** True when the engine said it does not implement one of the steps (the relation is not compared). */
function anyUnimplemented(observations: readonly Observation[]): boolean {
  return observations.some((o) => o?.kind === 'unimplemented');
}

function expectSucceeded(observations: readonly Observation[], ops: readonly Operation[]): void {
  observations.forEach((obs, i) => {
    if (obs.kind !== 'vmsucceed' && obs.kind !== 'ok') {
      throw new RelationBroken(`set-up step ${ops[i]?.kind} did not succeed: ${JSON.stringify(obs)}`);
    }
  });
}

function readValue(obs: Observation | undefined, what: string): bigint {
  if (obs?.kind !== 'vmsucceed' || obs.value === undefined) {
    throw new RelationBroken(`${what} did not return a value: ${JSON.stringify(obs)}`);
  }
  return parseHex(obs.value);
}

/** VMWRITE then VMREAD returns the value cut to the field's width (full or high-half access). */
export function roundTripProperty(factory: EngineFactory, config: EngineConfig, profile: Profile): MetamorphicProperty {
  const fields = writable(profile);
  const arb = fc
    .tuple(fc.constantFrom(...fields), value64(), fc.boolean())
    .map(([field, value, high]): Operation[] => {
      const encoding = toHex(BigInt(field.encoding + (high && field.width === 64 ? 1 : 0)));
      return [...vmxSetup(profile), { kind: 'vmwrite', cpu: 0, encoding, value }, { kind: 'vmread', cpu: 0, encoding }];
    });
  const check = (ops: Operation[]): void => {
    const engine = factory(config);
    const obs = run(engine, ops);
    if (anyUnimplemented(obs)) return;
    expectSucceeded(obs.slice(0, -1), ops);
    const write = ops[ops.length - 2] as Extract<Operation, { kind: 'vmwrite' }>;
    const encoding = Number(parseHex(write.encoding));
    const field = VMCS_FIELDS.find((f) => f.encoding === (encoding & ~1) || f.encoding === encoding);
    const high = (encoding & 1) === 1;
    const expected = parseHex(write.value) & widthMask(field as VmcsField, high);
    const got = readValue(obs[obs.length - 1], 'VMREAD');
    if (got !== expected) {
      throw new RelationBroken(`VMREAD ${write.encoding} returned ${toHex(got)} after VMWRITE of ${canonicalHex(write.value)}; expected ${toHex(expected)}`);
    }
  };
  return { name: 'vmwrite-vmread-round-trip', arbitrary: arb, check };
}

/** VMCLEAR then VMPTRLD (same processor, or the other one) keeps every field value. */
export function clearKeepsValuesProperty(factory: EngineFactory, config: EngineConfig, profile: Profile): MetamorphicProperty {
  const fields = writable(profile);
  const rev = toHex(BigInt(profile.revisionId));
  const arb = fc
    .tuple(fc.uniqueArray(fc.constantFrom(...fields), { minLength: 1, maxLength: 6 }), fc.array(value64(), { minLength: 6, maxLength: 6 }), fc.boolean())
    .map(([chosen, values, migrate]) => {
      const cpu = migrate && config.logicalProcessors > 1 ? 1 : 0;
      const writes: Operation[] = chosen.map((f, i) => ({ kind: 'vmwrite', cpu: 0, encoding: toHex(BigInt(f.encoding)), value: values[i] ?? '0x0' }));
      const reads = (on: number): Operation[] => chosen.map((f) => ({ kind: 'vmread', cpu: on, encoding: toHex(BigInt(f.encoding)) }));
      const move: Operation[] = [{ kind: 'vmclear', cpu: 0, pointer: toHex(VMCS_REGION) }];
      if (cpu === 1) {
        move.push({ kind: 'write-memory', cpu: 1, address: toHex(CPU1_VMXON_REGION), value: rev });
        if ((parseHex(profile.data.featureControl) & 1n) === 0n) move.push({ kind: 'write-feature-control', cpu: 1, value: '0x5' });
        move.push({ kind: 'vmxon', cpu: 1, pointer: toHex(CPU1_VMXON_REGION) });
      }
      move.push({ kind: 'vmptrld', cpu, pointer: toHex(VMCS_REGION) });
      return { setup: [...vmxSetup(profile), ...writes], before: reads(0), move, after: reads(cpu) };
    });
  const check = (ops: Operation[]): void => {
    const engine = factory(config);
    const obs = run(engine, ops);
    if (anyUnimplemented(obs)) return;
    const reads = ops.map((op, i) => ({ op, obs: obs[i] })).filter((x) => x.op.kind === 'vmread');
    const half = reads.length / 2;
    expectSucceeded(obs.filter((_, i) => ops[i]?.kind !== 'vmread'), ops.filter((op) => op.kind !== 'vmread'));
    for (let i = 0; i < half; i++) {
      const before = readValue(reads[i]?.obs, 'VMREAD before VMCLEAR');
      const after = readValue(reads[i + half]?.obs, 'VMREAD after VMPTRLD');
      if (before !== after) {
        const op = reads[i]?.op as Extract<Operation, { kind: 'vmread' }>;
        throw new RelationBroken(`field ${op.encoding} read ${toHex(before)} before VMCLEAR and ${toHex(after)} after VMPTRLD on cpu${reads[i + half]?.op.cpu}`);
      }
    }
  };
  const sequences = arb.map((c) => [...c.setup, ...c.before, ...c.move, ...c.after]);
  return { name: 'vmclear-vmptrld-keeps-values', arbitrary: sequences, check };
}

/** Snapshot, run steps, restore, run the same steps again: identical observations. */
export function snapshotRestoreProperty(factory: EngineFactory, config: EngineConfig, profile: Profile): MetamorphicProperty {
  const seq = operationSequence(profile, { logicalProcessors: config.logicalProcessors, maxSteps: 24 });
  return { name: 'snapshot-restore-replays', arbitrary: seq, check: (ops) => checkSnapshotRestore(factory(config), ops) };
}

/** Where the snapshot-restore property takes its snapshot in a sequence: halfway. */
export function snapshotPoint(operations: readonly Operation[]): number {
  return Math.floor(operations.length / 2);
}

/**
 * The snapshot-restore relation on one sequence: run `cut` operations, snapshot, run the rest,
 * restore, run the rest again; throws {@link RelationBroken} if the two runs differ.
 */
export function checkSnapshotRestore(engine: Engine, ops: readonly Operation[], cut = snapshotPoint(ops)): void {
  run(engine, ops.slice(0, cut));
  const snap = engine.snapshot();
  const first = run(engine, ops.slice(cut));
  engine.restore(snap);
  const second = run(engine, ops.slice(cut));
  const at = first.findIndex((o, i) => JSON.stringify(o) !== JSON.stringify(second[i]));
  if (at >= 0) {
    throw new RelationBroken(
      `after restore (snapshot taken after ${cut} operations), step ${cut + at} (${ops[cut + at]?.kind}) observed ${JSON.stringify(second[at])} instead of ${JSON.stringify(first[at])}`,
    );
  }
}

/**
 * Checks one metamorphic relation, by name, on a saved case (for `replay`); returns the broken
 * relation's message, or undefined when it holds. Errors other than {@link RelationBroken}
 * (an engine that throws or crashes) propagate.
 */
export function recheckRelation(
  name: string,
  factory: EngineFactory,
  config: EngineConfig,
  profile: Profile,
  ops: Operation[],
  snapshotAt?: number,
): string | undefined {
  const check: (ops: Operation[]) => void =
    name === 'snapshot-restore-replays'
      ? (o) => checkSnapshotRestore(factory(config), o, snapshotAt ?? snapshotPoint(o))
      : name === 'vmwrite-vmread-round-trip'
        ? roundTripProperty(factory, config, profile).check
        : name === 'vmclear-vmptrld-keeps-values'
          ? clearKeepsValuesProperty(factory, config, profile).check
          : () => {
              throw new Error(`unknown metamorphic property ${name}`);
            };
  try {
    check(ops);
    return undefined;
  } catch (error) {
    if (error instanceof RelationBroken) return error.message;
    throw error;
  }
}
