/**
 * What the model says about one step: the outcomes the SDM allows (each with the state that
 * follows it), or that the SDM leaves the step undefined, or that the step is beyond the model
 * today. Outcomes are data; nothing architectural is ever thrown.
 */
import { isHex, parseHex, toHex } from '../spec/hex.ts';
import type { Hex } from '../spec/hex.ts';
import { ARITHMETIC_FLAGS } from '../spec/observations.ts';
import type {
  FaultObservation,
  InactiveObservation,
  InjectedEvent,
  Observation,
  OkObservation,
  VmEntryFailureObservation,
  VmEntryObservation,
  VmExitObservation,
  VmFailInvalidObservation,
  VmFailValidObservation,
} from '../spec/observations.ts';
import type { Rule } from './rule.ts';
import type { ModelState } from './state.ts';

/** A value the SDM leaves entirely open (for example a VMCS field never written). */
export interface AnyValue {
  kind: 'any';
}

/** A value of which only some bits are known: bits under `mask` must equal those of `bits`. */
export interface PartlyKnownValue {
  kind: 'partly-known';
  bits: Hex;
  mask: Hex;
}

/** What the model expects as the `value` of a VMsucceed: exact, partly known, or open. */
export type ExpectedValue = Hex | AnyValue | PartlyKnownValue;

/** The single {@link AnyValue}. */
export const ANY_VALUE: AnyValue = { kind: 'any' };

/** VMsucceed as the model expects it: like the observation, but the value may be open. */
export interface ExpectedVmSucceed {
  kind: 'vmsucceed';
  flags: number;
  value?: ExpectedValue;
}

/** One outcome the SDM allows: an observation, except that a VMsucceed value may be open. */
export type Expected =
  | FaultObservation
  | VmExitObservation
  | VmEntryObservation
  | VmEntryFailureObservation
  | ExpectedVmSucceed
  | VmFailInvalidObservation
  | VmFailValidObservation
  | OkObservation
  | InactiveObservation;

/** One allowed outcome of a step, the rule that produced it, and the state that follows it. */
export interface Branch {
  expected: Expected;
  rule: Rule;
  /** State after the step along this branch; call only when `matches(expected, actual)`. */
  next(actual: Observation): ModelState;
}

/** The model's answer for one step. */
export type Verdict =
  /** The engine's observation must match one of the branches. */
  | { kind: 'defined'; branches: readonly Branch[] }
  /** The SDM says the outcome is undefined or unpredictable: nothing is compared, the case ends. */
  | { kind: 'undefined'; rule: Rule }
  /** Beyond the model today: nothing is compared, the case ends, the run summary counts it. */
  | { kind: 'not-modelled'; rule: Rule };

/** A defined verdict with the given branches. */
export function defined(...branches: Branch[]): Verdict {
  return { kind: 'defined', branches };
}

/** The SDM leaves this step undefined. */
export function undefinedBy(rule: Rule): Verdict {
  return { kind: 'undefined', rule };
}

/** The step is beyond the model today. */
export function notModelled(rule: Rule): Verdict {
  return { kind: 'not-modelled', rule };
}

/** True when `actual` is an outcome `expected` allows: kind, vector/reason/error, value, flags. */
export function matches(expected: Expected, actual: Observation): boolean {
  if (expected.kind !== actual.kind) return false;
  if (expected.flags !== actual.flags) return false;
  switch (expected.kind) {
    case 'fault':
      return actual.kind === 'fault' && actual.vector === expected.vector && errorCodeMatches(expected.errorCode, actual.errorCode);
    case 'vmexit':
      return actual.kind === 'vmexit' && actual.reason === expected.reason;
    case 'vmentry':
      return actual.kind === 'vmentry' && injectedMatches(expected.injected, actual.injected);
    case 'vmentry-failure':
      return (
        actual.kind === 'vmentry-failure' &&
        actual.exitReason === expected.exitReason &&
        isHex(actual.qualification) &&
        parseHex(actual.qualification) === parseHex(expected.qualification)
      );
    case 'vmfail-valid':
      return actual.kind === 'vmfail-valid' && actual.error === expected.error;
    case 'vmsucceed':
      return actual.kind === 'vmsucceed' && valueMatches(expected.value, actual.value);
    case 'vmfail-invalid':
      return true;
    case 'inactive':
      return actual.kind === 'inactive' && actual.activity === expected.activity;
    case 'ok':
      // A value the engine reports (MOV from CR, MOV from DR, RDMSR) must be the one the model
      // knows; where either side has none, nothing is compared.
      if (actual.kind !== 'ok' || actual.value === undefined) return actual.kind === 'ok';
      return isHex(actual.value) && (expected.value === undefined || parseHex(actual.value) === parseHex(expected.value));
  }
}

/** A fault's error code: the same number; none expected (#UD, #GP(0) of the VMX instructions) accepts none or 0. */
function errorCodeMatches(expected: Hex | undefined, actual: Hex | undefined): boolean {
  if (actual !== undefined && !isHex(actual)) return false;
  if (expected === undefined) return actual === undefined || parseHex(actual) === 0n;
  return actual !== undefined && parseHex(actual) === parseHex(expected);
}

function valueMatches(expected: ExpectedValue | undefined, actual: Hex | undefined): boolean {
  if (expected === undefined) return actual === undefined;
  if (actual === undefined || !isHex(actual)) return false;
  const value = parseHex(actual);
  if (typeof expected === 'string') return value === parseHex(expected);
  if (expected.kind === 'any') return true;
  const mask = parseHex(expected.mask);
  return (value & mask) === (parseHex(expected.bits) & mask);
}

/** The event injected by a VM entry (or none) against the one the engine reported (or none). */
function injectedMatches(expected: InjectedEvent | undefined, actual: InjectedEvent | undefined): boolean {
  if (expected === undefined || actual === undefined) return expected === actual;
  if (expected.vector !== actual.vector || expected.type !== actual.type) return false;
  if (expected.errorCode === undefined || actual.errorCode === undefined) return expected.errorCode === actual.errorCode;
  return isHex(actual.errorCode) && parseHex(actual.errorCode) === parseHex(expected.errorCode);
}

/** One line for people, for example `VMfailValid(10), ZF=1` or `VMsucceed, value 0x0, flags clear`. */
export function describeExpected(expected: Expected): string {
  return `${describeOutcome(expected)}, ${describeFlags(expected.flags)}`;
}

function describeOutcome(expected: Expected): string {
  switch (expected.kind) {
    case 'fault':
      return expected.vector === 'GP' ? '#GP(0)' : '#UD';
    case 'vmexit':
      return `VM exit (basic exit reason ${expected.reason})`;
    case 'vmentry':
      return expected.injected === undefined
        ? 'VM entry (the guest runs)'
        : `VM entry injecting vector ${expected.injected.vector}, type ${expected.injected.type}${expected.injected.errorCode === undefined ? '' : `, error code ${toHex(parseHex(expected.injected.errorCode))}`}`;
    case 'vmentry-failure':
      return `VM-entry failure, exit reason 0x${expected.exitReason.toString(16)}, qualification ${toHex(parseHex(expected.qualification))}`;
    case 'vmfail-valid':
      return `VMfailValid(${expected.error})`;
    case 'vmfail-invalid':
      return 'VMfailInvalid';
    case 'ok':
      return expected.value === undefined ? 'ok' : `ok, value ${toHex(parseHex(expected.value))}`;
    case 'vmsucceed':
      return expected.value === undefined ? 'VMsucceed' : `VMsucceed, value ${describeValue(expected.value)}`;
    case 'inactive':
      return `inactive (${expected.activity} activity state)`;
  }
}

function describeValue(value: ExpectedValue): string {
  if (typeof value === 'string') return toHex(parseHex(value));
  if (value.kind === 'any') return 'any';
  return `${toHex(parseHex(value.bits))} in the bits of mask ${toHex(parseHex(value.mask))} (others any)`;
}

function describeFlags(flags: number): string {
  const set = Object.entries(ARITHMETIC_FLAGS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => `${name}=1`);
  return set.length === 0 ? 'flags clear' : set.join(' ');
}
