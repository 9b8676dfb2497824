/**
 * VM exits (SDM Vol. 3C, December 2023, Chapter 28 "VM Exits"), for the exits the model produces:
 * a guest instruction that exits unconditionally or by a VM-execution control, and an exception
 * the exception bitmap sends to the host. The exiting instruction or event decides the exit
 * (its rule) and what the exit information is (`ExitInformation`); the VM exit itself is the same
 * sequence every time, one file per section:
 *
 * 1. §28.2 "Recording VM-Exit Information and Updating VM-Entry Control Fields":
 *    vm-exit/record.ts.
 * 2. §28.3 "Saving Guest State": vm-exit/save-guest.ts, from the guest register file VM entry
 *    loaded (model/state.ts `GuestRegisters`) and the registers guest instructions changed.
 * 3. §28.4 "Saving MSRs": the VM-exit MSR-store area, vm-exit/msr-areas.ts.
 * 4. §28.5 "Loading Host State" and §28.6 "Loading MSRs": vm-exit/load-host.ts (shared with
 *    VM-entry failures, model/vm-entry/failure.ts) and vm-exit/msr-areas.ts.
 * 5. §28.7 "VMX Aborts": vm-exit/abort.ts.
 *
 * The observation is `vmexit` with the basic exit reason; the flags are 0 because host-state
 * loading clears RFLAGS except bit 1 (§28.5.3). The exit information and the saved guest state
 * are compared through the VMREADs the host performs afterwards. After the exit the processor is
 * in VMX root operation and tracked: VMREAD reads the fields written here, VMRESUME re-enters
 * (the VMCS is launched), VMLAUNCH fails with VMfailValid(4).
 *
 * Where the model cannot follow, the exit is still compared and the processor is left untracked
 * with the rule that says why (every later step on it is `not-modelled`): a host field the exit
 * loads was never written since the region was initialized (`vm-exit.host-field-unknown`); an MSR
 * area the model cannot process (msr-areas.ts); host PDPTEs whose check is optional and would fail
 * (load-host.ts); a VMX abort shuts the processor down (abort.ts).
 */
import { sdm } from '../spec/citation.ts';
import type { ExitInformation } from '../spec/exit-information.ts';
import { rule } from './rule.ts';
import type { Rule } from './rule.ts';
import type { ModelState } from './state.ts';
import { cpuOf, withCpu } from './state.ts';
import type { Branch } from './verdict.ts';
import { currentVmcs, withActiveContent } from './vmcs.ts';
import { viewOf } from './vm-entry/view.ts';
import { loadHostState } from './vm-exit/load-host.ts';
import { storeMsrs } from './vm-exit/msr-areas.ts';
import { recordExitInformation } from './vm-exit/record.ts';
import { saveGuestState } from './vm-exit/save-guest.ts';

/** Flags after a VM exit: RFLAGS is cleared except bit 1. */
const EXIT_FLAGS = 0;

/** Where a VM exit leaves the processor untracked. */
export const VM_EXIT_RULES = {
  hostFieldUnknown: rule(
    'vm-exit.host-field-unknown',
    'VM exit',
    sdm('25.11.3', 'Initializing a VMCS'),
    'the VM exit loads host state from a field never written since the region was initialized (CR0, CR4 or the VM-exit controls): the state that follows is not known, the processor is not followed afterwards',
  ),
} as const;

/** A VM exit with basic exit reason `reason` and no other exit information, decided by `rule`. */
export function vmExit(state: ModelState, cpu: number, rule: Rule, reason: number): Branch {
  return vmExitWith(state, cpu, rule, { reason, qualification: undefined });
}

/**
 * A VM exit of processor `cpu` (in VMX non-root operation) decided by `rule`, writing `info`
 * (the exit reason and the exit information that the exiting instruction or event defines) into
 * the current VMCS, saving guest state, storing MSRs and loading host state.
 */
export function vmExitWith(state: ModelState, cpu: number, rule: Rule, info: ExitInformation): Branch {
  const next = exitState(state, cpu, info);
  return { expected: { kind: 'vmexit', reason: info.reason, flags: EXIT_FLAGS }, rule, next: () => next };
}

/** The state after the VM exit (see the file comment). */
function exitState(state: ModelState, cpu: number, info: ExitInformation): ModelState {
  const processor = cpuOf(state, cpu);
  const current = currentVmcs(state, cpu);
  if (current === undefined) throw new Error('model bug: a VM exit without a current VMCS');
  const recorded = recordExitInformation(current.content, info);
  const saved = saveGuestState(recorded, processor, state.profile, info);
  const written = withActiveContent(state, cpu, processor.currentVmcs, saved);
  const stored = storeMsrs(written, cpu, saved);
  if (stored.kind === 'aborted') return stored.state;
  if (stored.kind === 'not-followed') return untracked(written, cpu, stored.rule);
  const host = loadHostState(stored.state, cpu, viewOf(saved));
  switch (host.kind) {
    case 'loaded':
    case 'aborted':
      return host.state;
    case 'unknown':
      return untracked(stored.state, cpu, VM_EXIT_RULES.hostFieldUnknown);
    case 'beyond-model':
      return untracked(stored.state, cpu, host.rule);
  }
}

/** `state` with processor `cpu` in VMX root operation and not followed, because of `why`. */
function untracked(state: ModelState, cpu: number, why: Rule): ModelState {
  return withCpu(state, cpu, { vmx: 'root', flags: EXIT_FLAGS, guest: undefined, untracked: why });
}
