/**
 * Status codes of the fast API: one small integer per step instead of an observation object, so
 * that the hot path allocates nothing.
 *
 * - `0`: VMsucceed (VMX instructions) or completed (processor-state operations);
 * - a positive `n`: VMfailValid(n), with `n` written to the current VMCS's VM-instruction error field;
 * - a negative code: one of the other outcomes below.
 */

/** VMsucceed, or a processor-state operation that completed. */
export const STATUS_SUCCEED = 0;
/** VMfailInvalid: CF = 1, no current VMCS to take an error number. */
export const STATUS_FAIL_INVALID = -1;
/** #UD. */
export const STATUS_UD = -2;
/** #GP(0). */
export const STATUS_GP = -3;
/** VMLAUNCH/VMRESUME passed the basic checks; VM entry itself is not implemented yet. */
export const STATUS_ENTRY_UNIMPLEMENTED = -4;
/** VMLAUNCH/VMRESUME entered the guest: the processor is in VMX non-root operation. */
export const STATUS_VMENTRY = -5;
/**
 * The VM entry failed while checking or loading guest state or loading MSRs: the exit reason
 * (bit 31 set) and qualification are in ImplMachine.exitReason / exitQualificationLo/Hi.
 */
export const STATUS_ENTRY_FAILURE = -6;
/** An instruction in VMX non-root operation caused a VM exit; the basic reason is in ImplMachine.exitReason. */
export const STATUS_VMEXIT = -7;
/** An effect in VMX non-root operation impl/ does not implement (a VM function other than EPTP switching; VMCS shadowing). */
export const STATUS_NON_ROOT_UNIMPLEMENTED = -8;

/**
 * A VM exit (or a VM-entry failure's host-state loading) ended in a VMX abort (SDM Vol. 3C,
 * December 2023, §28.7 "VMX Aborts"): the indicator is in the VMCS region at byte 4 and in
 * ImplMachine.abortIndicator(cpu), and the processor is shut down. The engine observes the step
 * as the VM exit (or VM-entry failure) it was, and the processor's later instructions as
 * `inactive` (STATUS_INACTIVE).
 */
export const STATUS_VMX_ABORT = -11;
/** The processor is shut down (after a VMX abort); no longer returned (STATUS_INACTIVE instead). */
export const STATUS_SHUT_DOWN = -12;
/**
 * The VM exit's MSR-store area named an MSR whose value impl/ does not model; no longer returned
 * (impl/vm-exit/msr-areas.ts stores such an MSR as 0).
 */
export const STATUS_EXIT_MSR_UNIMPLEMENTED = -13;
/** A guest operation raised an exception other than #UD and #GP(0); vector and error code in ImplMachine.guest.fault. */
export const STATUS_FAULT = -14;
/** A guest operation whose outcome impl/ does not implement (model-specific); ImplMachine.guest.unimplementedWhat says which. */
export const STATUS_GUEST_UNIMPLEMENTED = -15;

/**
 * The processor is in an inactive activity state and did not execute the instruction: HLT,
 * shutdown or wait-for-SIPI after a VM entry (SDM Vol. 3C, December 2023, §27.7.2 "Activity
 * State"), or shut down by a VMX abort (§28.7 "VMX Aborts"). ImplMachine.activity(cpu) says which.
 */
export const STATUS_INACTIVE = -16;

/**
 * A VM entry whose end impl/ does not implement: an event delivered through the guest IDT before
 * the first guest instruction (a pending debug exception, a virtual interrupt), or a VM exit that
 * follows the delivery of an injected event (impl/vm-entry/pending-events.ts; what in
 * ImplMachine.events.unimplementedWhat).
 */
export const STATUS_ENTRY_EVENT_UNIMPLEMENTED = -17;

/**
 * Delivery of an event through the guest IDT met something impl/ does not implement
 * (impl/non-root/event-delivery/: a fault during delivery, an EPT violation or misconfiguration,
 * virtual-8086 mode, a task gate or 16-bit gate, 5-level paging, ...); what in
 * ImplMachine.delivery.what.
 */
export const STATUS_DELIVERY_UNIMPLEMENTED = -18;

/** Human-readable name of a status code (tests and debugging). */
export function describeStatus(status: number): string {
  switch (status) {
    case STATUS_SUCCEED:
      return 'VMsucceed';
    case STATUS_FAIL_INVALID:
      return 'VMfailInvalid';
    case STATUS_UD:
      return '#UD';
    case STATUS_GP:
      return '#GP(0)';
    case STATUS_ENTRY_UNIMPLEMENTED:
      return 'VM entry not implemented';
    case STATUS_VMENTRY:
      return 'VM entry';
    case STATUS_ENTRY_FAILURE:
      return 'VM-entry failure';
    case STATUS_VMEXIT:
      return 'VM exit';
    case STATUS_NON_ROOT_UNIMPLEMENTED:
      return 'not implemented in VMX non-root operation';
    case STATUS_VMX_ABORT:
      return 'VMX abort';
    case STATUS_SHUT_DOWN:
      return 'shut down';
    case STATUS_EXIT_MSR_UNIMPLEMENTED:
      return 'VM-exit MSR store of an MSR not implemented';
    case STATUS_FAULT:
      return 'exception';
    case STATUS_GUEST_UNIMPLEMENTED:
      return 'guest operation not implemented';
    case STATUS_INACTIVE:
      return 'inactive';
    case STATUS_ENTRY_EVENT_UNIMPLEMENTED:
      return 'event at the end of VM entry not implemented';
    case STATUS_DELIVERY_UNIMPLEMENTED:
      return 'event delivery through the guest IDT not implemented';
    default:
      return status > 0 ? `VMfailValid(${status})` : `unknown status ${status}`;
  }
}
