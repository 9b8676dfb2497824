/**
 * VM exits caused by VMX instructions in VMX non-root operation.
 *
 * The instructions' Operation sections (SDM Vol. 3C, December 2023, §31.3) say only "VMexit";
 * the exit reason is the instruction's basic exit reason (Vol. 3D Appendix C "VMX Basic Exit
 * Reasons"). A VM exit loads processor state from the host-state area; among other things RFLAGS
 * is cleared except bit 1 (§28.5.3 "Loading Host RIP, RSP, RFLAGS, and SSP"), so every arithmetic
 * flag is 0 afterwards.
 *
 * What the processor looks like after the exit (control registers, mode and MSRs from the
 * host-state area, the guest state and exit information saved into the VMCS) is not modelled
 * yet (vm-exit/load-host.ts loads host state for VM-entry failures; VM exits will reuse it): the
 * branch marks the processor untracked, and every later step on it is `not-modelled`. VMX
 * non-root operation is reached through a successful VM entry (vm-entry/load-guest.ts), which the
 * model reaches once every group of entry checks is implemented; until then these outcomes are
 * exercised by unit tests that build a non-root state directly or load guest state directly.
 */
import { sdm } from '../spec/citation.ts';
import type { ExitInformation } from '../spec/exit-information.ts';
import { rule } from './rule.ts';
import type { Rule } from './rule.ts';
import type { ModelState } from './state.ts';
import { withCpu } from './state.ts';
import type { Branch } from './verdict.ts';

/** Flags after a VM exit: RFLAGS is cleared except bit 1. */
const EXIT_FLAGS = 0;

/** The state after a VM exit is not followed yet. */
export const VM_EXIT_RULES = {
  hostStateNotModelled: rule(
    'vm-exit.host-state-not-modelled',
    'VM exit',
    sdm('28.5', 'Loading Host State'),
    'after a VM exit the processor runs with state loaded from the host-state area, which the model does not follow yet',
  ),
} as const;

/** A VM exit with basic exit reason `reason`, decided by `rule`. */
export function vmExit(state: ModelState, cpu: number, rule: Rule, reason: number): Branch {
  return vmExitWith(state, cpu, rule, { reason, qualification: undefined });
}

/**
 * A VM exit decided by `rule`, writing `info` (the exit reason and the exit information that
 * the exiting instruction or event defines) into the VMCS.
 */
export function vmExitWith(state: ModelState, cpu: number, rule: Rule, info: ExitInformation): Branch {
  const next = withCpu(state, cpu, { vmx: 'root', flags: EXIT_FLAGS, untracked: VM_EXIT_RULES.hostStateNotModelled });
  return { expected: { kind: 'vmexit', reason: info.reason, flags: EXIT_FLAGS }, rule, next: () => next };
}
