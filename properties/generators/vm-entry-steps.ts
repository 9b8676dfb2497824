/**
 * A VM-entry step group: VMCLEAR and VMXOFF, lay out a VMXON region and the VMCS region, VMXON,
 * VMCLEAR, VMPTRLD, VMWRITE a valid VMCS for the profile (vmcs-builder.ts) with perturbations
 * near one or two catalogue checks (vmcs-perturb.ts), VMLAUNCH, then VMREAD the VM-instruction
 * error, the exit reason and the exit qualification. Sometimes the group goes on: VMRESUME after
 * the launch, or VMCLEAR, VMPTRLD and VMLAUNCH again (a VMCS made launched, then cleared, then
 * launched again).
 *
 * Targets: most groups perturb one check (three times in four to its failing side, otherwise just
 * on its passing side), some perturb two checks of different groups at once, some write the valid
 * VMCS as built. Up to three more changes, each one the model judged to keep its check passing
 * (a count made nonzero with a valid address, an allowed control set), vary the valid part so
 * that checks which apply only under some setting are reached on their passing side too. The
 * basic checks are not targets: they depend on processor state, not on VMCS fields, and the
 * other step generators reach them.
 */
import fc from 'fast-check';
import { ENTRY_CHECKS, type EntryCheck } from '../../spec/entry-checks/index.ts';
import { FIELD, type FieldName } from '../../spec/fields.ts';
import { toHex } from '../../spec/hex.ts';
import type { Operation, SettableState } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { entryDeliveredVectors, EnvironmentWriter, gateVariantsArbitrary } from './guest-environment.ts';
import { VMXON_REGIONS } from './values.ts';
import { buildMemory, buildOptionsArbitrary, buildVmcs, supportedOptions, type BuildOptions, type VmcsValues } from './vmcs-builder.ts';
import { BUILT_VMCS_POINTER, perturbationsOf, type Perturbation, type PreEntryStep } from './vmcs-perturb.ts';

/**
 * Weight of the VM-entry group in the default step mix (operations.ts; ordinary steps weigh 140).
 * At 4, about one case in six ends at a VMLAUNCH that gets past the control and host checks; the
 * emulator in impl/ answers `unimplemented` there until it implements the guest-state phase, which
 * makes a default run INCOMPLETE (exit 4, more than 5% of cases). Until then the weight is 0: the
 * group is in the mix but never drawn, and the random stream of the other steps is unchanged.
 * Raise it to 4 together with the emulator's guest-state phase.
 */
export const VM_ENTRY_STEP_WEIGHT = 4;

/** The checks a perturbation may target: every catalogue check outside the basic group. */
export const TARGET_CHECKS: readonly EntryCheck[] = ENTRY_CHECKS.filter((check) => check.group !== 'basic');

/** Which side of a check's boundary a perturbation lands on. */
export type Side = 'fail' | 'pass';

/** One perturbation chosen for a group: the check, the side, the changes and steps before the entry. */
export interface ChosenPerturbation extends Perturbation {
  check: string;
  side: Side;
}

const builtCache = new WeakMap<Profile, Map<string, VmcsValues>>();

/** {@link buildVmcs}, memoized per profile and options (the values are never changed). */
export function builtVmcs(profile: Profile, options: BuildOptions): VmcsValues {
  let perProfile = builtCache.get(profile);
  if (perProfile === undefined) {
    perProfile = new Map();
    builtCache.set(profile, perProfile);
  }
  const key = JSON.stringify(options);
  let found = perProfile.get(key);
  if (found === undefined) {
    found = buildVmcs(profile, options);
    perProfile.set(key, found);
  }
  return found;
}

/** How many checks after a target without perturbations (a feature the profile lacks) are tried in its place. */
const NEXT_TRIED = 3;

/**
 * A perturbation of `check` over the VMCS built with `options`; when the check has none on that
 * VMCS, one of the next check in catalogue order that has one (up to {@link NEXT_TRIED}), or none.
 */
function perturbation(profile: Profile, options: BuildOptions, check: EntryCheck, side: Side, pick: number): ChosenPerturbation | undefined {
  const at = TARGET_CHECKS.indexOf(check);
  for (let i = 0; i < NEXT_TRIED; i += 1) {
    const found = perturbationOf(profile, options, TARGET_CHECKS[(at + i) % TARGET_CHECKS.length] as EntryCheck, side, pick);
    if (found !== undefined) return found;
  }
  return undefined;
}

function perturbationOf(profile: Profile, options: BuildOptions, check: EntryCheck, side: Side, pick: number): ChosenPerturbation | undefined {
  const all = perturbationsOf(profile, options, builtVmcs(profile, options), check.id);
  const passing = all.passing;
  const list = side === 'pass' && passing.length > 0 ? passing : all.failing;
  if (list.length === 0) return undefined;
  // Exact failing perturbations (failing no other modelled rule) come first: pick among them
  // three times in four (among the first few when there are none), otherwise among all.
  const first = list === all.failing && all.exact > 0 ? all.exact : Math.min(list.length, 4);
  const index = pick % 4 !== 0 ? Math.floor(pick / 4) % first : Math.floor(pick / 4) % list.length;
  return { ...(list[index] as Perturbation), check: check.id, side: list === passing ? 'pass' : 'fail' };
}

/** A perturbation the model's rule judged to pass, or none (the check is not modelled, or has none). */
function passingOnly(profile: Profile, options: BuildOptions, check: EntryCheck, pick: number): ChosenPerturbation | undefined {
  const all = perturbationsOf(profile, options, builtVmcs(profile, options), check.id).passing;
  if (all.length === 0) return undefined;
  return { ...(all[pick % all.length] as Perturbation), check: check.id, side: 'pass' };
}

/** One target of a round: a check, a side, and a number choosing among its perturbations. */
type Target = [EntryCheck, Side, number];

const target = (side: fc.Arbitrary<Side>): fc.Arbitrary<Target> => fc.tuple(fc.constantFrom(...TARGET_CHECKS), side, fc.nat());

/** A failing round: one or two targets (two from different groups: faults in two groups at once), or MOV-SS blocking. */
function failingRoundArbitrary(): fc.Arbitrary<Target[] | 'mov-ss'> {
  const one = target(fc.constant<Side>('fail'));
  return fc.oneof(
    { arbitrary: one.map((t): Target[] => [t]), weight: 16 },
    { arbitrary: fc.tuple(one, one).filter(([a, b]) => a[0].group !== b[0].group).map((t): Target[] => t), weight: 4 },
    { arbitrary: fc.constant<'mov-ss'>('mov-ss'), weight: 1 },
  );
}

/**
 * The basic check a round can fail without touching the VMCS: events blocked by MOV SS at the
 * VMLAUNCH (VMfailValid(26)); the blocking ends with that instruction.
 */
const MOV_SS_ROUND: ChosenPerturbation = { check: 'basic.no-mov-ss-blocking', side: 'fail', changes: [], before: [{ kind: 'set', what: 'mov-ss-blocking', value: 1 }] };

/** The last round: none (the VMCS as built), a failing target, or a target on its passing side. */
function lastRoundArbitrary(): fc.Arbitrary<Target[]> {
  return fc.oneof(
    { arbitrary: fc.constant<Target[]>([]), weight: 1 },
    { arbitrary: target(fc.constant<Side>('fail')).map((t) => [t]), weight: 2 },
    { arbitrary: target(fc.constant<Side>('pass')).map((t) => [t]), weight: 2 },
  );
}

/** The VMWRITEs of `values` with `chosen` applied (a perturbed field is written with its new value). */
export function vmwrites(cpu: number, values: VmcsValues, chosen: readonly Perturbation[]): Operation[] {
  const changed = new Map<string, bigint>();
  for (const p of chosen) for (const c of p.changes) changed.set(c.field, c.value);
  return [...values.entries()].map(([field, value]): Operation => ({
    kind: 'vmwrite',
    cpu,
    encoding: toHex(BigInt(FIELD[field])),
    value: toHex(changed.get(field) ?? value),
  }));
}

function exitInformationReads(cpu: number): Operation[] {
  return (['VM_INSTRUCTION_ERROR', 'EXIT_REASON', 'EXIT_QUALIFICATION'] as const).map((field): Operation => ({ kind: 'vmread', cpu, encoding: toHex(BigInt(FIELD[field])) }));
}

/** The state a `set` step is put back to after its round: the initial state of a sequence (64-bit mode, CPL 0). */
const RESTORED: Readonly<Record<SettableState, number | undefined>> = {
  'efer.lma': 1, 'cs.l': 1, cpl: 0, 'rflags.vm': 0, 'mov-ss-blocking': undefined, 'efer.lme': 1, cr3: undefined,
};

function preEntryOperation(cpu: number, step: PreEntryStep): Operation {
  return step.kind === 'write-memory'
    ? { kind: 'write-memory', cpu, address: toHex(step.address), value: toHex(step.value) }
    : { kind: 'set', cpu, what: step.what, value: step.value };
}

/**
 * One round: VMWRITE the perturbations' changes, make their steps before the entry, VMLAUNCH, read
 * the exit information; then (`restore`) VMWRITE the fields back to `base` and put processor
 * state back, so that the next round starts from the valid VMCS again.
 */
function round(cpu: number, base: ReadonlyMap<FieldName, bigint>, chosen: readonly Perturbation[], restore: boolean, inGuest: readonly Operation[] = []): Operation[] {
  const changes = chosen.flatMap((p) => p.changes);
  const before = chosen.flatMap((p) => p.before ?? []);
  const write = (field: FieldName, value: bigint): Operation => ({ kind: 'vmwrite', cpu, encoding: toHex(BigInt(FIELD[field])), value: toHex(value) });
  const ops: Operation[] = [...changes.map((c) => write(c.field, c.value)), ...before.map((step) => preEntryOperation(cpu, step)), { kind: 'vmlaunch', cpu }, ...inGuest, ...exitInformationReads(cpu)];
  if (!restore) return ops;
  for (const field of new Set(changes.map((c) => c.field))) ops.push(write(field, base.get(field) as bigint));
  for (const step of before) {
    const back = step.kind === 'set' ? RESTORED[step.what] : undefined;
    if (back !== undefined) ops.push({ kind: 'set', cpu, what: (step as { what: SettableState }).what, value: back });
  }
  return ops;
}

/**
 * What follows the last VMLAUNCH: nothing; VMRESUME; VMCLEAR + VMPTRLD + VMLAUNCH again; VMXOFF,
 * VMXON, VMPTRLD and VMRESUME (a VMCS left active by VMXOFF, SDM Vol. 3C, December 2023, §31.4
 * "VM Instruction Error Numbers", error 6), with or without every field written again first
 * (VMXOFF may corrupt an active VMCS, §25.11.1 "Software Use of Virtual-Machine Control
 * Structures": written again, its fields are known and only the launch state is not, so the
 * VMRESUME's launch-state failure can be told from the entry); or a VMLAUNCH as the guest's first
 * instruction, with #UD in the exception bitmap (a VMLAUNCH in a real-address-mode guest is #UD
 * before it is a VM exit: §31.3 "VMLAUNCH/VMRESUME—Launch/Resume Virtual Machine", Operation).
 */
type Sequel = 'none' | 'resume' | 'relaunch' | 'vmxoff-resume' | 'vmxoff-rewrite-resume' | 'guest-launch';

/** The processor state a group starts from: 64-bit mode (IA32_EFER.LMA = 1, CS.L = 1), not virtual-8086 mode, CPL 0. */
const NORMAL_MODE: readonly [SettableState, number][] = [['efer.lma', 1], ['cs.l', 1], ['rflags.vm', 0], ['cpl', 0]];

/** Bit 6 (#UD) of the exception bitmap. */
const UD_VECTOR = 6n;

/**
 * Fewest and most failing rounds before the last one (each ends in a failed VM entry, so the VMCS
 * stays clear). A round costs a few VMWRITEs and one VMLAUNCH, the group's set-up about 150
 * VMWRITEs: more rounds per group reach more checks for the time.
 */
const LEAST_FAILING_ROUNDS = 2;
const MOST_FAILING_ROUNDS = 10;

/**
 * The guest environment (guest-environment.ts) before the last VMLAUNCH of a group, when that
 * entry is meant to succeed (every perturbation of the round on its passing side) and delivers
 * an event; otherwise nothing, so that groups whose entries fail stay as short as before.
 */
function entryEnvironment(env: EnvironmentWriter, base: ReadonlyMap<FieldName, bigint>, chosen: readonly ChosenPerturbation[]): PreEntryStep[] {
  if (chosen.some((p) => p.side === 'fail')) return [];
  const values = new Map(base);
  for (const p of chosen) for (const c of p.changes) values.set(c.field, c.value);
  return env.gates(entryDeliveredVectors(values)).map((w): PreEntryStep => ({ kind: 'write-memory', ...w }));
}

/** The VM-entry step group for `profile` on processor `cpu`; empty when the profile cannot have a 64-bit host. */
export function vmEntrySteps(profile: Profile, cpu: number): fc.Arbitrary<Operation[]> {
  if (supportedOptions(profile).length === 0) return fc.constant([]);
  const rev = toHex(BigInt(profile.revisionId));
  const vmxon = VMXON_REGIONS[cpu] ?? (VMXON_REGIONS[0] as bigint);
  const sequel = fc.oneof(
    { arbitrary: fc.constant<Sequel>('none'), weight: 4 },
    { arbitrary: fc.constant<Sequel>('resume'), weight: 1 },
    { arbitrary: fc.constant<Sequel>('relaunch'), weight: 1 },
    { arbitrary: fc.constant<Sequel>('vmxoff-resume'), weight: 1 },
    { arbitrary: fc.constant<Sequel>('vmxoff-rewrite-resume'), weight: 1 },
    { arbitrary: fc.constant<Sequel>('guest-launch'), weight: 1 },
  );
  const extras = fc.array(fc.tuple(fc.constantFrom(...TARGET_CHECKS), fc.nat()), { minLength: 2, maxLength: 8 });
  const failingRounds = fc.array(failingRoundArbitrary(), { minLength: LEAST_FAILING_ROUNDS, maxLength: MOST_FAILING_ROUNDS });
  const vmcs = BUILT_VMCS_POINTER;
  return fc.tuple(buildOptionsArbitrary(profile), failingRounds, lastRoundArbitrary(), extras, sequel, gateVariantsArbitrary()).map(([options, failing, last, more, after, gates]) => {
    const choose = (targets: readonly Target[]): ChosenPerturbation[] => targets.flatMap(([check, side, pick]) => perturbation(profile, options, check, side, pick) ?? []);
    const rounds = [...failing.map((targets) => (targets === 'mov-ss' ? [MOV_SS_ROUND] : choose(targets))).filter((chosen) => chosen.length > 0), choose(last)];
    // Extras vary the valid part of every round: passing perturbations on fields no round changes.
    const touched = new Set(rounds.flat().flatMap((p) => p.changes.map((c) => c.field)));
    const base: ChosenPerturbation[] = [];
    for (const [check, pick] of more) {
      const extra = passingOnly(profile, options, check, pick);
      // Memory an extra lays out stays for every round; processor state would not.
      if (extra === undefined || (extra.before ?? []).some((step) => step.kind !== 'write-memory') || extra.changes.some((c) => touched.has(c.field))) continue;
      for (const c of extra.changes) touched.add(c.field);
      base.push(extra);
    }
    const values = builtVmcs(profile, options);
    const baseValues = new Map(values);
    for (const p of base) for (const c of p.changes) baseValues.set(c.field, c.value);
    const pointer = toHex(vmcs);
    const env = new EnvironmentWriter(options, gates);
    // Start over in VMX operation without storing into a region in use (a store into the VMXON
    // region or an active VMCS is undefined): clear the VMCS, leave VMX operation, lay out both
    // regions, enter again. Each step is defined whatever state the sequence is in.
    const ops: Operation[] = [
      // The mode VM entry needs (64-bit mode at CPL 0, SDM §27.1 "Basic VM-Entry Checks"), whatever earlier steps left.
      ...NORMAL_MODE.map(([what, value]): Operation => ({ kind: 'set', cpu, what, value })),
      { kind: 'vmclear', cpu, pointer },
      { kind: 'vmxoff', cpu },
      { kind: 'write-memory', cpu, address: toHex(vmxon), value: rev },
      { kind: 'write-memory', cpu, address: pointer, value: rev },
      { kind: 'vmxon', cpu, pointer: toHex(vmxon) },
      { kind: 'vmclear', cpu, pointer },
      { kind: 'vmptrld', cpu, pointer },
      ...vmwrites(cpu, values, base),
      ...base.flatMap((p) => (p.before ?? []).map((step) => preEntryOperation(cpu, step))),
      // An event the valid part injects (an extra on its passing side) is delivered by any round whose entry succeeds.
      ...env.gates(entryDeliveredVectors(baseValues)).map((w) => preEntryOperation(cpu, { kind: 'write-memory', ...w })),
    ];
    if (after === 'guest-launch') ops.push({ kind: 'vmwrite', cpu, encoding: toHex(BigInt(FIELD.EXCEPTION_BITMAP)), value: toHex(1n << UD_VECTOR) });
    // The memory the built VMCS needs (vmcs-builder.ts buildMemory), stored again in every round, before the round's own stores.
    const memory: Perturbation = { changes: [], before: buildMemory(profile, options).map((w): PreEntryStep => ({ kind: 'write-memory', ...w })) };
    for (const [i, chosen] of rounds.entries()) {
      const lastRound = i === rounds.length - 1;
      const environment: Perturbation = { changes: [], before: lastRound ? entryEnvironment(env, baseValues, chosen) : [] };
      ops.push(...round(cpu, baseValues, [memory, ...chosen, environment], !lastRound, lastRound && after === 'guest-launch' ? [{ kind: 'vmlaunch', cpu }] : []));
    }
    if (after === 'resume') ops.push({ kind: 'vmresume', cpu }, ...exitInformationReads(cpu));
    if (after === 'vmxoff-resume' || after === 'vmxoff-rewrite-resume') {
      ops.push({ kind: 'vmxoff', cpu }, { kind: 'vmxon', cpu, pointer: toHex(vmxon) }, { kind: 'vmptrld', cpu, pointer });
      if (after === 'vmxoff-rewrite-resume') ops.push(...vmwrites(cpu, values, base));
      ops.push({ kind: 'vmresume', cpu }, ...exitInformationReads(cpu));
    }
    if (after === 'relaunch') ops.push({ kind: 'vmclear', cpu, pointer }, { kind: 'vmptrld', cpu, pointer }, { kind: 'vmlaunch', cpu }, ...exitInformationReads(cpu));
    return ops;
  });
}
