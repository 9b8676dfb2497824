/**
 * A VM-exit step group: enter a guest and make it exit, many times. Like the VM-entry group
 * (vm-entry-steps.ts) it starts over in VMX operation and VMWRITEs a valid VMCS for the profile
 * (vmcs-builder.ts), here without perturbations but with an exit configuration (exit-setup.ts:
 * exiting controls, CR masks and shadows, CR3 targets, exception bitmap, I/O and MSR bitmaps in
 * memory), then VMLAUNCHes and runs rounds of guest operations. After each operation that exits
 * (as exit-prediction.ts expects) the host VMREADs every exit-information field and some guest
 * state, then most often VMRESUMEs, sometimes first tries VMLAUNCH (VMfailValid(4): the VMCS is
 * launched), sometimes stops (the case goes on in VMX root operation).
 *
 * The guest runs in 64-bit mode when the profile allows it (otherwise 32-bit protected mode).
 */
import fc from 'fast-check';
import { FIELD, type FieldName } from '../../spec/fields.ts';
import { toHex } from '../../spec/hex.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { predictExit } from './exit-prediction.ts';
import { bitmapWrites, exitSetupArbitrary, exitSetupFields, type ExitSetup } from './exit-setup.ts';
import { guestOperation, guestVmxInstruction } from './guest-operations.ts';
import { VMXON_REGIONS } from './values.ts';
import { supportedOptions, type BuildOptions, type VmcsValues } from './vmcs-builder.ts';
import { builtVmcs } from './vm-entry-steps.ts';
import { BUILT_VMCS_POINTER } from './vmcs-perturb.ts';

/**
 * Weight of the VM-exit group in the default step mix (operations.ts; ordinary steps weigh 140,
 * the VM-entry group 4). Until the model and the emulator implement guest operations, a case
 * ends (not modelled / unimplemented) at the first guest operation of a group.
 */
export const VM_EXIT_STEP_WEIGHT = 4;

/** The exit-information fields the host reads after every VM exit (SDM Vol. 3C §25.9). */
export const EXIT_INFORMATION_READS: readonly FieldName[] = [
  'EXIT_REASON',
  'EXIT_QUALIFICATION',
  'VM_EXIT_INSTRUCTION_LENGTH',
  'VM_EXIT_INSTRUCTION_INFORMATION',
  'VM_EXIT_INTERRUPTION_INFORMATION',
  'VM_EXIT_INTERRUPTION_ERROR_CODE',
  'GUEST_LINEAR_ADDRESS',
];

/** Guest-state fields the host reads after some VM exits (a random subset each time). */
export const GUEST_STATE_READS: readonly FieldName[] = ['GUEST_RIP', 'GUEST_RSP', 'GUEST_RFLAGS', 'GUEST_CR0', 'GUEST_CR3', 'GUEST_CR4'];

/** What the host does after reading the exit information. */
export type Continuation = 'resume' | 'launch-then-resume' | 'stop';

/** One round: a guest operation, and what follows it if it exits. */
interface Round {
  op: Operation;
  guestReads: FieldName[];
  then: Continuation;
}

/** The options the group builds with: 64-bit guests when the profile has them. */
export function exitGroupOptions(profile: Profile): BuildOptions[] {
  const all = supportedOptions(profile).filter((o) => o.guest !== 'real');
  const long = all.filter((o) => o.guest === '64-bit');
  return long.length > 0 ? long : all;
}

function reads(cpu: number, fields: readonly FieldName[]): Operation[] {
  return fields.map((field): Operation => ({ kind: 'vmread', cpu, encoding: toHex(BigInt(FIELD[field])) }));
}

/** The VMWRITEs of the built values with the exit configuration applied, fields the profile lacks left out. */
function vmwritesWithSetup(profile: Profile, cpu: number, values: VmcsValues, setup: ExitSetup): Operation[] {
  const merged = new Map(values);
  for (const [field, value] of exitSetupFields(setup, profile)) merged.set(field, value);
  return [...merged.entries()]
    .filter(([field]) => profile.fieldExists(FIELD[field]))
    .map(([field, value]): Operation => ({ kind: 'vmwrite', cpu, encoding: toHex(BigInt(FIELD[field])), value: toHex(value) }));
}

/** The operations of the rounds: each guest operation, and after those expected to exit the host's reads and continuation. */
export function roundOperations(cpu: number, setup: ExitSetup, rounds: readonly Round[]): Operation[] {
  const ops: Operation[] = [];
  for (const round of rounds) {
    ops.push(round.op);
    if (predictExit(setup, round.op) === false) continue;
    ops.push(...reads(cpu, EXIT_INFORMATION_READS), ...reads(cpu, round.guestReads));
    if (round.then === 'stop') break;
    if (round.then === 'launch-then-resume') ops.push({ kind: 'vmlaunch', cpu });
    ops.push({ kind: 'vmresume', cpu });
  }
  return ops;
}

function roundArbitrary(setup: ExitSetup, cpu: number): fc.Arbitrary<Round> {
  return fc.record({
    op: fc.oneof({ arbitrary: guestOperation(setup, cpu), weight: 6 }, { arbitrary: guestVmxInstruction(cpu), weight: 1 }),
    guestReads: fc.subarray([...GUEST_STATE_READS], { maxLength: 3 }),
    then: fc.oneof(
      { arbitrary: fc.constant<Continuation>('resume'), weight: 8 },
      { arbitrary: fc.constant<Continuation>('launch-then-resume'), weight: 1 },
      { arbitrary: fc.constant<Continuation>('stop'), weight: 1 },
    ),
  });
}

/** The setup and rounds of one group, before they become operations (exported for the generator's tests). */
export function exitGroupPlan(profile: Profile, cpu: number): fc.Arbitrary<{ options: BuildOptions; setup: ExitSetup; rounds: Round[] }> {
  const options = exitGroupOptions(profile);
  return fc.constantFrom(...options).chain((opts) =>
    exitSetupArbitrary(profile, builtVmcs(profile, opts)).chain((setup) =>
      fc.array(roundArbitrary(setup, cpu), { minLength: 1, maxLength: 8 }).map((rounds) => ({ options: opts, setup, rounds })),
    ),
  );
}

/** The VM-exit step group for `profile` on `cpu`; empty when the profile cannot build a VMCS with a 64-bit host. */
export function vmExitSteps(profile: Profile, cpu: number): fc.Arbitrary<Operation[]> {
  if (exitGroupOptions(profile).length === 0) return fc.constant([]);
  const rev = toHex(BigInt(profile.revisionId));
  const vmxon = toHex(VMXON_REGIONS[cpu] ?? (VMXON_REGIONS[0] as bigint));
  const pointer = toHex(BUILT_VMCS_POINTER);
  return exitGroupPlan(profile, cpu).map(({ options, setup, rounds }) => [
    { kind: 'vmclear', cpu, pointer },
    { kind: 'vmxoff', cpu },
    { kind: 'write-memory', cpu, address: vmxon, value: rev },
    { kind: 'write-memory', cpu, address: pointer, value: rev },
    { kind: 'vmxon', cpu, pointer: vmxon },
    { kind: 'vmclear', cpu, pointer },
    { kind: 'vmptrld', cpu, pointer },
    ...vmwritesWithSetup(profile, cpu, builtVmcs(profile, options), setup),
    ...bitmapWrites(cpu, setup),
    { kind: 'vmlaunch', cpu },
    ...roundOperations(cpu, setup, rounds),
  ]);
}
