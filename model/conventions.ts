/**
 * How VMX instructions report success and failure, per SDM Vol. 3C (December 2023) §31.2
 * "Conventions", and the other outcomes a step can have (a fault delivered instead of the
 * instruction, or a processor-state operation that completed).
 *
 * - VMsucceed: CF, PF, AF, ZF, SF and OF all cleared.
 * - VMfailInvalid: CF set, the other five cleared; no error number is stored (there is no VMCS).
 * - VMfailValid(n): ZF set, the other five cleared; n is written to the VM-instruction error
 *   field of the current VMCS, where a later VMREAD of that field finds it.
 * - VMfail(n): VMfailValid(n) when the current-VMCS pointer is valid, else VMfailInvalid.
 *
 * A fault (#UD, #GP(0)) is delivered before the instruction completes and leaves RFLAGS alone, so
 * the expected flags are the processor's flags before the step.
 */
import { EXCEPTIONS_WITH_ERROR_CODE, vectorOf } from '../spec/exceptions.ts';
import type { ExceptionMnemonic } from '../spec/exceptions.ts';
import { FIELD } from '../spec/fields.ts';
import { parseHex } from '../spec/hex.ts';
import { ARITHMETIC_FLAGS } from '../spec/observations.ts';
import type { Observation } from '../spec/observations.ts';
import { raiseException } from './non-root/exceptions.ts';
import type { Rule } from './rule.ts';
import type { ModelState } from './state.ts';
import { cpuOf, NO_CURRENT_VMCS, withFlags } from './state.ts';
import type { Branch, ExpectedValue } from './verdict.ts';
import { setField } from './vmcs-fields.ts';
import { currentVmcs, withActiveContent } from './vmcs.ts';

/** Flags after VMsucceed. */
const SUCCEED_FLAGS = 0;
/** Flags after VMfailInvalid: CF only. */
const FAIL_INVALID_FLAGS = ARITHMETIC_FLAGS.CF;
/** Flags after VMfailValid: ZF only. */
const FAIL_VALID_FLAGS = ARITHMETIC_FLAGS.ZF;

/** A value VMsucceed reports (VMREAD, VMPTRST), with what to record once the engine's value is seen. */
export interface ReportedValue {
  expected: ExpectedValue;
  /** The state after recording the observed value (for values the model did not know). */
  record?: (state: ModelState, observed: bigint) => ModelState;
}

/**
 * VMsucceed. `after` is the state the instruction's own effects produced; the flags are cleared
 * on top of it.
 */
export function vmSucceed(after: ModelState, cpu: number, rule: Rule, value?: ReportedValue): Branch {
  const next = withFlags(after, cpu, SUCCEED_FLAGS);
  if (value === undefined) {
    return { expected: { kind: 'vmsucceed', flags: SUCCEED_FLAGS }, rule, next: () => next };
  }
  const record = value.record;
  return {
    expected: { kind: 'vmsucceed', flags: SUCCEED_FLAGS, value: value.expected },
    rule,
    next: (actual: Observation) =>
      record !== undefined && actual.kind === 'vmsucceed' && actual.value !== undefined
        ? record(next, parseHex(actual.value))
        : next,
  };
}

/** VMfailInvalid: CF = 1, nothing stored. */
export function vmFailInvalid(state: ModelState, cpu: number, rule: Rule): Branch {
  const next = withFlags(state, cpu, FAIL_INVALID_FLAGS);
  return { expected: { kind: 'vmfail-invalid', flags: FAIL_INVALID_FLAGS }, rule, next: () => next };
}

/**
 * VMfailValid(error): ZF = 1 and `error` written to the VM-instruction error field of the current
 * VMCS. Only called when there is a current VMCS.
 */
export function vmFailValid(state: ModelState, cpu: number, rule: Rule, error: number): Branch {
  const address = cpuOf(state, cpu).currentVmcs;
  const current = currentVmcs(state, cpu);
  if (current === undefined) throw new Error(`model bug: VMfailValid(${error}) without a current VMCS (${rule.id})`);
  const written = withActiveContent(state, cpu, address, setField(current.content, FIELD.VM_INSTRUCTION_ERROR, BigInt(error)));
  const next = withFlags(written, cpu, FAIL_VALID_FLAGS);
  return { expected: { kind: 'vmfail-valid', flags: FAIL_VALID_FLAGS, error }, rule, next: () => next };
}

/** VMfail(error): VMfailValid(error) with a valid current-VMCS pointer, VMfailInvalid without. */
export function vmFail(state: ModelState, cpu: number, rule: Rule, error: number): Branch {
  return cpuOf(state, cpu).currentVmcs === NO_CURRENT_VMCS
    ? vmFailInvalid(state, cpu, rule)
    : vmFailValid(state, cpu, rule, error);
}

/**
 * A fault raised instead of completing the instruction; nothing changes, flags included. Outside
 * VMX non-root operation it is delivered (observed as `fault`); in VMX non-root operation the
 * exception bitmap decides between delivery in the guest and a VM exit with exit reason 0 (SDM
 * Vol. 3C, December 2023, §26.2 "Other Causes of VM Exits"; non-root/exceptions.ts). `errorCode`
 * is the error code the exception pushes (0 when left out, as for #GP(0)); the `fault`
 * observation of an instruction's fault does not carry it. `debugQualification` is the exit
 * qualification of a #DB whose cause is known.
 */
export function fault(state: ModelState, cpu: number, rule: Rule, vector: ExceptionMnemonic, errorCode?: bigint, debugQualification?: bigint): Branch {
  const vectorNumber = vectorOf(vector);
  const pushed = EXCEPTIONS_WITH_ERROR_CODE.has(vectorNumber) ? (errorCode ?? 0n) : undefined;
  return raiseException(state, cpu, rule, { vector: vectorNumber, errorCode: pushed, reportErrorCode: false, debugQualification });
}

/** A processor-state operation completed; `after` is the state it produced. Flags unchanged. */
export function completed(after: ModelState, cpu: number, rule: Rule): Branch {
  return { expected: { kind: 'ok', flags: cpuOf(after, cpu).flags }, rule, next: () => after };
}
