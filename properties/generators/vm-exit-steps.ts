/**
 * A VM-exit step group: enter a guest and make it exit, many times. Like the VM-entry group
 * (vm-entry-steps.ts) it starts over in VMX operation and VMWRITEs a valid VMCS for the profile
 * (vmcs-builder.ts), here without perturbations but with an exit configuration (exit-setup.ts:
 * exiting controls, CR masks and shadows, CR3 targets, exception bitmap, I/O and MSR bitmaps in
 * memory, sometimes VMCS shadowing with the VMREAD/VMWRITE bitmaps and a shadow VMCS behind the
 * link pointer), then VMLAUNCHes and runs rounds of guest operations. After each operation that exits
 * (as exit-prediction.ts expects) the host VMREADs every exit-information field and some guest
 * state, then most often VMRESUMEs, sometimes first tries VMLAUNCH (VMfailValid(4): the VMCS is
 * launched), moves the guest RIP on or injects an event, sometimes stops (the case goes on in VMX
 * root operation).
 *
 * The guest runs in 64-bit mode when the profile allows it (otherwise 32-bit protected mode).
 */
import fc from 'fast-check';
import { FIELD, type FieldName } from '../../spec/fields.ts';
import { toHex } from '../../spec/hex.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { exceptionExits, predictExit } from './exit-prediction.ts';
import { bitmapWrites, exitSetupArbitrary, exitSetupFields, shadowVmcsLayout, xssWrite, type ExitSetup } from './exit-setup.ts';
import { EnvironmentWriter, gateVariantsArbitrary, memoryOperations, type GateVariant } from './guest-environment.ts';
import { guestOperation, guestVmxInstruction } from './guest-operations.ts';
import { VMXON_REGIONS } from './values.ts';
import { BUILD_ADDRESSES, supportedOptions, type BuildOptions, type VmcsValues } from './vmcs-builder.ts';
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

/**
 * What the host does after reading the exit information: VMRESUME; first VMLAUNCH (which fails
 * with error 4, the VMCS being launched) then VMRESUME; move the guest RIP past the instruction
 * as an exit handler does, then VMRESUME; inject an event with the VM-entry
 * interruption-information field (§27.6 "Event Injection"), then VMRESUME; or stop.
 */
export type Continuation = 'resume' | 'launch-then-resume' | 'advance-rip' | 'inject' | 'stop';

/**
 * Events the host injects (VM-entry interruption information, VMCS field 4016H: vector 7:0, type
 * 10:8, deliver error code 11, valid 31): #GP with error code 0, #UD, and a software interrupt
 * INT 0x80 of instruction length 2.
 */
export const INJECTED_EVENTS: readonly { information: bigint; errorCode?: bigint; instructionLength?: bigint }[] = [
  { information: 0x8000_0b0dn, errorCode: 0n },
  { information: 0x8000_0306n },
  { information: 0x8000_0480n, instructionLength: 2n },
];

/** One round: a guest operation, and what follows it if it exits. */
interface Round {
  op: Operation;
  guestReads: FieldName[];
  then: Continuation;
  /** Which of {@link INJECTED_EVENTS} an `inject` continuation injects (modulo their number). */
  event?: number;
}

function write(cpu: number, field: FieldName, value: bigint): Operation {
  return { kind: 'vmwrite', cpu, encoding: toHex(BigInt(FIELD[field])), value: toHex(value) };
}

/** The host's steps between reading the exit information and VMRESUME (with `env`, the injected vector's gate first). */
function continuation(cpu: number, round: Round, env?: EnvironmentWriter): Operation[] {
  switch (round.then) {
    case 'launch-then-resume':
      return [{ kind: 'vmlaunch', cpu }];
    case 'advance-rip': {
      // The guest RIP the built VMCS starts at, plus the instruction length a handler would add.
      return [write(cpu, 'GUEST_RIP', BUILD_ADDRESSES.guestRip + 0x10n)];
    }
    case 'inject': {
      const event = INJECTED_EVENTS[(round.event ?? 0) % INJECTED_EVENTS.length] as (typeof INJECTED_EVENTS)[number];
      const ops = [...memoryOperations(cpu, env?.gates([Number(event.information & 0xffn)]) ?? []), write(cpu, 'VM_ENTRY_INTERRUPTION_INFORMATION', event.information)];
      if (event.errorCode !== undefined) ops.push(write(cpu, 'VM_ENTRY_EXCEPTION_ERROR_CODE', event.errorCode));
      if (event.instructionLength !== undefined) ops.push(write(cpu, 'VM_ENTRY_INSTRUCTION_LENGTH', event.instructionLength));
      return ops;
    }
    default:
      return [];
  }
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

/**
 * The operations of the rounds: each guest operation, and after those expected to exit the host's
 * reads and continuation. With `env`, an injected event's gate is laid out before its VMRESUME.
 */
export function roundOperations(cpu: number, setup: ExitSetup, rounds: readonly Round[], env?: EnvironmentWriter): Operation[] {
  const ops: Operation[] = [];
  for (const round of rounds) {
    ops.push(round.op);
    if (predictExit(setup, round.op) === false) continue;
    ops.push(...reads(cpu, EXIT_INFORMATION_READS), ...reads(cpu, round.guestReads));
    if (round.then === 'stop') break;
    ops.push(...continuation(cpu, round, env), { kind: 'vmresume', cpu });
  }
  return ops;
}

/** #DB, #UD and #GP: the vectors of the exceptions guest instructions raise (SDM Vol. 3C §26.1.1, §26.3). */
const DEBUG = 1;
const INVALID_OPCODE = 6;
const GENERAL_PROTECTION = 13;

/**
 * The vectors a guest operation may deliver in the guest under `setup` (a generator's estimate,
 * like exit-prediction.ts): an `exception` operation's vector unless the exception bitmap makes
 * it exit; #UD and #GP (and #DB for MOV DR) of an operation that is not sure to exit, unless the
 * bitmap makes them exit.
 */
export function guestFaultVectors(setup: ExitSetup, op: Operation): number[] {
  if (op.kind === 'exception') return exceptionExits(setup, op.vector, op.errorCode === undefined ? 0 : Number(op.errorCode)) ? [] : [op.vector];
  if (predictExit(setup, op) === true) return [];
  const vectors = op.kind === 'mov-dr' ? [DEBUG, INVALID_OPCODE, GENERAL_PROTECTION] : [INVALID_OPCODE, GENERAL_PROTECTION];
  return vectors.filter((vector) => !exceptionExits(setup, vector));
}

/** The vectors the guest operations of `rounds` may deliver (those run until a `stop` after an exit). */
export function roundFaultVectors(setup: ExitSetup, rounds: readonly Round[]): number[] {
  const vectors = new Set<number>();
  for (const round of rounds) {
    for (const vector of guestFaultVectors(setup, round.op)) vectors.add(vector);
    if (predictExit(setup, round.op) !== false && round.then === 'stop') break;
  }
  return [...vectors];
}

function roundArbitrary(setup: ExitSetup, cpu: number): fc.Arbitrary<Round> {
  return fc.record({
    op: fc.oneof({ arbitrary: guestOperation(setup, cpu), weight: 6 }, { arbitrary: guestVmxInstruction(cpu), weight: 1 }),
    guestReads: fc.subarray([...GUEST_STATE_READS], { maxLength: 3 }),
    then: fc.oneof(
      { arbitrary: fc.constant<Continuation>('resume'), weight: 6 },
      { arbitrary: fc.constant<Continuation>('launch-then-resume'), weight: 1 },
      { arbitrary: fc.constant<Continuation>('advance-rip'), weight: 2 },
      { arbitrary: fc.constant<Continuation>('inject'), weight: 1 },
      { arbitrary: fc.constant<Continuation>('stop'), weight: 1 },
    ),
    event: fc.nat({ max: INJECTED_EVENTS.length - 1 }),
  });
}

/** The setup and rounds of one group, before they become operations (exported for the generator's tests). */
export function exitGroupPlan(profile: Profile, cpu: number): fc.Arbitrary<{ options: BuildOptions; setup: ExitSetup; rounds: Round[]; gates: GateVariant[] }> {
  const options = exitGroupOptions(profile);
  return fc.constantFrom(...options).chain((opts) =>
    exitSetupArbitrary(profile, builtVmcs(profile, opts)).chain((setup) =>
      fc.tuple(fc.array(roundArbitrary(setup, cpu), { minLength: 1, maxLength: 8 }), gateVariantsArbitrary()).map(([rounds, gates]) => ({ options: opts, setup, rounds, gates })),
    ),
  );
}

/** The VM-exit step group for `profile` on `cpu`; empty when the profile cannot build a VMCS with a 64-bit host. */
export function vmExitSteps(profile: Profile, cpu: number): fc.Arbitrary<Operation[]> {
  if (exitGroupOptions(profile).length === 0) return fc.constant([]);
  const rev = toHex(BigInt(profile.revisionId));
  const vmxon = toHex(VMXON_REGIONS[cpu] ?? (VMXON_REGIONS[0] as bigint));
  const pointer = toHex(BUILT_VMCS_POINTER);
  return exitGroupPlan(profile, cpu).map(({ options, setup, rounds, gates }) => {
    // The guest environment (guest-environment.ts), laid out when a delivery may happen: before the VMLAUNCH for the guest's own faults, before a VMRESUME for an injected event.
    const env = new EnvironmentWriter(options, gates);
    const prologue = memoryOperations(cpu, env.gates(roundFaultVectors(setup, rounds)));
    return [
      { kind: 'vmclear', cpu, pointer },
      { kind: 'vmxoff', cpu },
      { kind: 'write-memory', cpu, address: vmxon, value: rev },
      { kind: 'write-memory', cpu, address: pointer, value: rev },
      { kind: 'vmxon', cpu, pointer: vmxon },
      { kind: 'vmclear', cpu, pointer },
      { kind: 'vmptrld', cpu, pointer },
      ...vmwritesWithSetup(profile, cpu, builtVmcs(profile, options), setup),
      ...bitmapWrites(cpu, setup),
      ...shadowVmcsLayout(cpu, setup, profile.revisionId),
      ...xssWrite(cpu, setup),
      ...prologue,
      { kind: 'vmlaunch', cpu },
      ...roundOperations(cpu, setup, rounds, env),
    ];
  });
}
