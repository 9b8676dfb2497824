/**
 * VMX aborts (SDM Vol. 3C, December 2023, §28.7 "VMX Aborts"): a problem during a VM exit (or
 * during the host-state loading of a VM-entry failure, §27.8) writes a nonzero 32-bit VMX-abort
 * indicator at byte offset 4 of the current VMCS's region and puts the logical processor into
 * a shutdown state that only RESET leaves (an INIT is held pending, NMIs and SMIs are ignored).
 * The abort does not write the VMCS data in the region, whose contents are suspect afterwards.
 *
 * The step that aborts is reported as the VM exit (or VM-entry failure) it was (the host never
 * runs, but the exit reason was recorded first); afterwards the processor is in the shutdown
 * activity state (`CpuState.activity`), so each later instruction of it is observed as
 * `inactive` with activity `shutdown` (model/activity.ts). Other processors go on, and can read
 * the indicator in memory.
 * The indicator values used here: 1 saving guest MSRs failed (§28.4), 2 the host PDPTEs failed
 * their check (§28.5.4), 4 loading host MSRs failed (§28.6).
 */
import { sdm } from '../../spec/citation.ts';
import { writeWord } from '../memory.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, withCpu } from '../state.ts';

const ABORTS = sdm('28.7', 'VMX Aborts');

/** Byte offset of the VMX-abort indicator in a VMCS region (§25.2 "Format of the VMCS Region"). */
export const ABORT_INDICATOR_OFFSET = 4n;

/** The VMX-abort indicator values of §28.7 the model produces. */
export const ABORT_INDICATOR = {
  SAVING_GUEST_MSRS: 1,
  HOST_PDPTES: 2,
  LOADING_HOST_MSRS: 4,
} as const;

/** The VMX aborts, one rule per cause. */
export const VMX_ABORT_RULES = {
  savingMsrs: rule('vmx-abort.saving-guest-msrs', 'VM exit', ABORTS, 'an entry of the VM-exit MSR-store area cannot be processed: VMX abort with indicator 1, the processor shuts down; later instructions of it observe inactive (shutdown)'),
  hostPdptes: rule('vmx-abort.host-pdptes', 'VM exit', ABORTS, 'the VM exit must check the host PDPTEs (PAE paging not in use before, or CR3 changing) and one sets a reserved bit: VMX abort with indicator 2, the processor shuts down; later instructions of it observe inactive (shutdown)'),
  loadingMsrs: rule('vmx-abort.loading-host-msrs', 'VM exit', ABORTS, 'an entry of the VM-exit MSR-load area fails: VMX abort with indicator 4, the processor shuts down; later instructions of it observe inactive (shutdown)'),
} as const;

/** `state` after a VMX abort of processor `cpu` with `indicator`, decided by `decidedBy`. */
export function vmxAbort(state: ModelState, cpu: number, indicator: number, decidedBy: Rule): ModelState {
  const region = cpuOf(state, cpu).currentVmcs;
  const written = writeWord(state, region + ABORT_INDICATOR_OFFSET, indicator);
  return withCpu(written, cpu, { vmx: 'root', flags: 0, guest: undefined, movSsBlocking: 0, activity: 'shutdown', abortedBy: decidedBy });
}
