/**
 * Exceptions, in and out of VMX non-root operation: the `exception` guest operation, and every
 * fault a guest instruction raises (`fault` in conventions.ts comes here).
 *
 * Outside VMX non-root operation an exception is delivered: the observation is a `fault` with
 * its mnemonic (and error code for the `exception` operation). In VMX non-root operation the
 * exception bitmap decides (SDM Vol. 3C, December 2023, §26.2 "Other Causes of VM Exits"): the
 * bit of the vector is 1 → VM exit with basic exit reason 0; 0 → delivered through the guest IDT.
 * A page fault consults bit 14 together with its error code: when PFEC & PFEC_MASK = PFEC_MATCH
 * bit 14 decides as for any vector, otherwise its meaning is reversed.
 *
 * Exit information (§28.2.1 "Basic VM-Exit Information", §28.2.2 "Information for VM Exits Due to
 * Vectored Events"): interruption information with the vector, type 3 (hardware exception),
 * error-code valid for the vectors that push one, valid; the error code; the exit qualification
 * is the faulting linear address for #PF (bits 63:32 cleared outside 64-bit mode), the debug
 * conditions for #DB (undefined for an `exception` operation, which does not name them), and
 * cleared for every other vector. Bit 12 (NMI unblocking due to IRET) is 0 for an exception that
 * is not IRET's, except that it is undefined with "NMI exiting" = 1 and "virtual NMIs" = 0 and
 * for a double fault: the model then leaves the whole field undefined. The VM-exit instruction
 * length is undefined for hardware exceptions (§28.2.5).
 *
 * An exception delivered in the guest goes through the guest IDT (model/event-delivery/
 * exception.ts): the `fault` observation is the same, and the guest goes on at the handler with
 * the frame pushed. Where delivery faults or reaches what the model does not follow, the branch
 * carries that `event-delivery.*` rule and the step is not modelled
 * (`unlessExceptionBitmapUnknown`): the nested exception may itself exit, so even the step's
 * observation is open. NMIs (vector 2) are not exceptions: "NMI exiting" decides them, which the
 * model does not follow (`exception.nmi`).
 */
import { sdm } from '../../spec/citation.ts';
import { PIN_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { EXCEPTIONS_WITH_ERROR_CODE, mnemonicOf } from '../../spec/exceptions.ts';
import { FIELD } from '../../spec/fields.ts';
import type { ExceptionOp } from '../../spec/guest-operations.ts';
import { toHex } from '../../spec/hex.ts';
import { deliverGuestException } from '../event-delivery/exception.ts';
import { DELIVERY_STOP_RULES, EVENT_DELIVERY_RULES } from '../event-delivery/rules.ts';
import { operand } from '../input.ts';
import { in64BitMode } from '../modes.ts';
import { controlField } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, ModelInputError, withCpu } from '../state.ts';
import type { Branch, Verdict } from '../verdict.ts';
import { defined, notModelled, undefinedBy } from '../verdict.ts';
import { vmExitWith } from '../vm-exit.ts';
import { EXIT_INTERRUPTION_TYPE, exitInterruptionInformation } from '../../spec/exit-interruption-information.ts';
import { linearAddressQualification } from '../../spec/exit-qualification.ts';

const I = 'exceptions';
const OTHER_CAUSES = sdm('26.2', 'Other Causes of VM Exits');
const EXCEPTION_REFERENCE = sdm('6.15', 'Exception and Interrupt Reference', '3A');

/** Vectors with a special exit qualification. */
const DEBUG = 1;
const NMI = 2;
const DOUBLE_FAULT = 8;
const PAGE_FAULT = 14;

/** The decision points of exceptions. */
export const EXCEPTION_RULES = {
  nmi: rule('exception.nmi', I, OTHER_CAUSES, 'vector 2 is an NMI, which "NMI exiting" and NMI blocking decide, not the exception bitmap; not modelled'),
  bitmapUnknown: rule(
    'exception.bitmap-unknown',
    I,
    sdm('25.11.3', 'Initializing a VMCS'),
    'in VMX non-root operation, the exception bitmap (for #PF also the error-code mask and match) was never written since the VMCS region was initialized (VM entry does not check it): an uninitialized field makes the outcome unpredictable, so whether the exception exits is undefined',
  ),
  vmExit: rule('exception.vm-exit', I, OTHER_CAUSES, 'in VMX non-root operation, the bit of the vector in the exception bitmap is 1: VM exit (reason 0) with the interruption information and error code'),
  pageFaultVmExit: rule(
    'exception.page-fault-vm-exit',
    I,
    OTHER_CAUSES,
    'in VMX non-root operation, a page fault exits when bit 14 of the exception bitmap is 1 and PFEC & mask = match, or bit 14 is 0 and they differ; the qualification is the linear address',
  ),
  delivered: rule('exception.delivered', I, EXCEPTION_REFERENCE, 'the exception is delivered (outside VMX non-root operation, or its exception-bitmap bit says so): a fault with its vector and error code'),
} as const;

const R = EXCEPTION_RULES;

/** One exception as the processor raises it. */
export interface RaisedException {
  vector: number;
  /** The error code, for vectors that push one (0 when an instruction faults with #GP(0)). */
  errorCode?: bigint;
  /** Whether the `fault` observation carries the error code (the `exception` operation) or not (#GP(0) of an instruction). */
  reportErrorCode: boolean;
  /** The linear address of a page fault. */
  address?: bigint;
  /** The exit qualification of a debug exception, when known (BD for a MOV DR with DR7.GD = 1). */
  debugQualification?: bigint;
  /** A debug exception pending after VM entry (a trap on the previous instruction, §27.7.3). */
  pendingAfterEntry?: boolean;
}

/**
 * The outcome of exception `event` raised on processor `c` by the rule `why`: delivered as a
 * fault, or, in VMX non-root operation with its exception-bitmap bit set, a VM exit. When the
 * bitmap is unknown the branch is the delivered fault under `exception.bitmap-unknown`, which
 * `unlessExceptionBitmapUnknown` turns into a not-modelled verdict.
 */
export function raiseException(state: ModelState, c: number, why: Rule, event: RaisedException): Branch {
  const cpu = cpuOf(state, c);
  if (cpu.vmx !== 'non-root') return delivered(state, c, why, event);
  const exits = exitsByBitmap(state, c, event);
  if (exits === undefined) return delivered(state, c, R.bitmapUnknown, event);
  if (!exits) {
    const delivery = deliverGuestException(state, c, event);
    if (delivery.kind === 'delivered') return delivered(delivery.state, c, why, event, cpu.flags);
    // A guest whose registers the model does not know (a state no VM entry loaded): the fault is
    // observed, the processor is not followed after it.
    if (delivery.rule === EVENT_DELIVERY_RULES.stateUnknown) return delivered(withCpu(state, c, { untracked: delivery.rule }), c, why, event, cpu.flags);
    return delivered(state, c, delivery.rule, event, cpu.flags);
  }
  const hasErrorCode = EXCEPTIONS_WITH_ERROR_CODE.has(event.vector);
  return vmExitWith(state, c, event.vector === PAGE_FAULT ? R.pageFaultVmExit : R.vmExit, {
    reason: EXIT_REASON.EXCEPTION_OR_NMI,
    qualification: qualificationOf(event, in64BitMode(cpu)),
    interruptionInformation: bit12Defined(state, c, event.vector)
      ? exitInterruptionInformation({ vector: event.vector, type: EXIT_INTERRUPTION_TYPE.HARDWARE_EXCEPTION, errorCodeValid: hasErrorCode })
      : undefined,
    ...(hasErrorCode ? { interruptionErrorCode: Number((event.errorCode ?? 0n) & 0xffff_ffffn) } : {}),
  });
}

/**
 * `verdict`, or not modelled when one of its branches is an exception whose delivery through the
 * guest IDT the model does not follow (an `event-delivery.*` stop), or undefined when one of its
 * branches depends on an unknown exception bitmap. The
 * bitmap is unknown only when it was never written since the region was initialized (or the
 * VMCS data became unknown, model/vmcs.ts); VM entry checks neither it nor the #PF mask and
 * match, so a guest can run with them. §25.11.3 "Initializing a VMCS": software should VMWRITE
 * the fields before using a VMCS for VM entry; otherwise "a successful transition ... may load
 * processor state with unexpected values" — the SDM leaves the outcome unpredictable.
 */
export function unlessExceptionBitmapUnknown(verdict: Verdict): Verdict {
  if (verdict.kind !== 'defined') return verdict;
  if (verdict.branches.some((branch) => branch.rule === R.bitmapUnknown)) return undefinedBy(R.bitmapUnknown);
  const stopped = verdict.branches.find((branch) => DELIVERY_STOP_RULES.has(branch.rule));
  return stopped === undefined ? verdict : notModelled(stopped.rule);
}

/** The `exception` operation: an instruction faults with `vector` (and error code, and #PF address). */
export function exception(state: ModelState, op: ExceptionOp): Verdict {
  const vector = op.vector;
  if (!Number.isInteger(vector) || mnemonicOf(vector) === undefined) {
    throw new ModelInputError(`exception: vector must be an architectural exception vector (0-8, 10-14, 16-21), got ${JSON.stringify(vector)}`);
  }
  const pushes = EXCEPTIONS_WITH_ERROR_CODE.has(vector);
  if (pushes !== (op.errorCode !== undefined)) {
    throw new ModelInputError(`exception: vector ${vector} ${pushes ? 'pushes an error code: give errorCode' : 'has no error code: leave errorCode out'}`);
  }
  if (vector === PAGE_FAULT && op.address === undefined) throw new ModelInputError('exception: a page fault (vector 14) needs the faulting linear address in address');
  if (vector === NMI) return notModelled(R.nmi);
  const errorCode = op.errorCode === undefined ? undefined : operand(op.errorCode, 'errorCode', 'exception') & 0xffff_ffffn;
  const address = op.address === undefined ? undefined : operand(op.address, 'address', 'exception');
  return defined(raiseException(state, op.cpu, R.delivered, { vector, errorCode, reportErrorCode: true, address }));
}

/** True when the exception causes a VM exit, `undefined` when a field deciding it is unknown. */
function exitsByBitmap(state: ModelState, c: number, event: RaisedException): boolean | undefined {
  const bitmap = controlField(state, c, FIELD.EXCEPTION_BITMAP);
  if (bitmap === undefined) return undefined;
  const bit = ((bitmap >> BigInt(event.vector)) & 1n) === 1n;
  if (event.vector !== PAGE_FAULT) return bit;
  const mask = controlField(state, c, FIELD.PAGE_FAULT_ERROR_CODE_MASK);
  const match = controlField(state, c, FIELD.PAGE_FAULT_ERROR_CODE_MATCH);
  if (mask === undefined || match === undefined) return undefined;
  return ((event.errorCode ?? 0n) & mask) === match ? bit : !bit;
}

function qualificationOf(event: RaisedException, in64Bit: boolean): bigint | undefined {
  if (event.vector === PAGE_FAULT) return linearAddressQualification(event.address ?? 0n, in64Bit);
  if (event.vector === DEBUG) return event.debugQualification;
  return 0n;
}

/** Bit 12 of the interruption information is defined (0 here) unless NMI exiting without virtual NMIs, or a double fault. */
function bit12Defined(state: ModelState, c: number, vector: number): boolean {
  if (vector === DOUBLE_FAULT) return false;
  const pin = controlField(state, c, FIELD.PIN_BASED_CONTROLS);
  if (pin === undefined) return false;
  const nmiExiting = ((pin >> BigInt(PIN_CONTROL.NMI_EXITING)) & 1n) === 1n;
  const virtualNmis = ((pin >> BigInt(PIN_CONTROL.VIRTUAL_NMIS)) & 1n) === 1n;
  return !(nmiExiting && !virtualNmis);
}

function delivered(state: ModelState, c: number, why: Rule, event: RaisedException, flags = cpuOf(state, c).flags): Branch {
  const vector = mnemonicOf(event.vector);
  if (vector === undefined) throw new Error(`model bug: exception vector ${event.vector} has no mnemonic`);
  const withCode = event.reportErrorCode && event.errorCode !== undefined;
  const expected = withCode
    ? { kind: 'fault' as const, vector, flags, errorCode: toHex(event.errorCode ?? 0n) }
    : { kind: 'fault' as const, vector, flags };
  return { expected, rule: why, next: () => state };
}
