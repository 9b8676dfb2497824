/**
 * VM-entry failure after the checks on the controls and host state passed (SDM Vol. 3C, December
 * 2023, §27.8 "VM-Entry Failures During or After Loading Guest State"): a failed guest-state check
 * (§27.3.1) or a failure while loading MSRs from the VM-entry MSR-load area (§27.4). The steps:
 *
 * 1. The exit reason field gets the basic exit reason (33 for invalid guest state, 34 for MSR
 *    loading) in bits 15:0, bit 31 set, bits 30:16 cleared; the exit qualification field gets the
 *    qualification (for guest state, 0 or the code of the kind of check that failed; for MSR
 *    loading, the 1-based index of the failing entry). All other VM-exit information fields are
 *    unmodified.
 * 2. Processor state is loaded as on a VM exit (model/vm-exit/load-host.ts).
 * 3. Blocking by NMI is what it was before VM entry (the model does not track NMI blocking).
 * 4. MSRs are loaded from the VM-exit MSR-load area (model/vm-exit/msr-areas.ts; a failure is a
 *    VMX abort, §28.7).
 *
 * Steps 2 and 4 are the VM exit's own code (model/vm-exit/load-host.ts). Where it cannot follow
 * (an exit MSR-load entry that may fail for a reason the profile does not record; host PDPTEs
 * whose optional check would fail) the failure is still compared and the processor is untracked
 * afterwards with that rule; a VMX abort writes its indicator and shuts the processor down
 * (model/vm-exit/abort.ts).
 *
 * And what does not happen, unlike a VM exit: the valid bit of the VM-entry interruption-
 * information field is not cleared, the guest-state area is not modified, no MSRs are stored.
 * The launch state of the VMCS is unchanged (§31.3 VMLAUNCH/VMRESUME: only a successful VMLAUNCH
 * makes it launched), so a VMLAUNCH that failed this way can be retried; the processor stays in
 * VMX root operation. The observation is `vmentry-failure` with flags 0 (RFLAGS = 2).
 */
import { sdm } from '../../spec/citation.ts';
import { FIELD } from '../../spec/fields.ts';
import { toHex } from '../../spec/hex.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, withCpu } from '../state.ts';
import type { Branch, Verdict } from '../verdict.ts';
import { undefinedBy } from '../verdict.ts';
import { setField } from '../vmcs-fields.ts';
import { currentVmcs, withActiveContent } from '../vmcs.ts';
import { loadHostState } from '../vm-exit/load-host.ts';
import { viewOf } from './view.ts';

/** Bit 31 of the exit reason: set for a VM-entry failure. */
export const ENTRY_FAILURE_BIT = 1 << 31;

/** The flags after a VM-entry failure: host RFLAGS is 2, no arithmetic flag set. */
const FAILURE_FLAGS = 0;

export const VM_ENTRY_FAILURE_RULES = {
  hostFieldUnknown: rule(
    'vm-entry-failure.host-field-unknown',
    'VM entry',
    sdm('25.11.3', 'Initializing a VMCS'),
    'a VM-entry failure loads host state from fields never written since the region was initialized: the state that follows is not architecturally known',
  ),
} as const;

/** The full exit reason of a VM-entry failure with basic exit reason `basic`: bit 31 set, bits 30:16 clear. */
export function entryFailureReason(basic: number): number {
  return (ENTRY_FAILURE_BIT | (basic & 0xffff)) >>> 0;
}

/**
 * The branch of a VM-entry failure on processor `cpu` with basic exit reason `basic` and exit
 * qualification `qualification`, decided by `decidedBy`; or, when host-state loading is beyond
 * the model or reads an unknown field, the verdict saying so.
 */
export function entryFailure(state: ModelState, cpu: number, decidedBy: Rule, basic: number, qualification: bigint): Branch | Verdict {
  const address = cpuOf(state, cpu).currentVmcs;
  const current = currentVmcs(state, cpu);
  if (current === undefined) throw new Error('model bug: VM-entry failure without a current VMCS');
  const exitReason = entryFailureReason(basic);
  const content = setField(setField(current.content, FIELD.EXIT_REASON, BigInt(exitReason)), FIELD.EXIT_QUALIFICATION, qualification);
  const recorded = withActiveContent(state, cpu, address, content);
  const host = loadHostState(recorded, cpu, viewOf(content));
  if (host.kind === 'unknown') return undefinedBy(VM_ENTRY_FAILURE_RULES.hostFieldUnknown);
  const next = host.kind === 'beyond-model' ? withCpu(recorded, cpu, { vmx: 'root', flags: FAILURE_FLAGS, untracked: host.rule }) : host.state;
  return {
    expected: { kind: 'vmentry-failure', exitReason, qualification: toHex(qualification), flags: FAILURE_FLAGS },
    rule: decidedBy,
    next: () => next,
  };
}

/** True when `value` is a {@link Branch} rather than a verdict. */
export function isBranch(value: Branch | Verdict): value is Branch {
  return 'expected' in value;
}
