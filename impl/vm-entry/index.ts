/**
 * Phase one of VM entry in impl/: the checks on the VMX controls and on the host-state area (SDM
 * Vol. 3C, December 2023, §27.2 "Checks on VMX Controls and Host-State Area"), made after the
 * basic checks of VMLAUNCH/VMRESUME. The SDM lets a processor make these checks in any order;
 * impl/ makes them group by group in the catalogue's order (spec/entry-checks/) and reports the
 * first failure: VMfailValid(7) for a control field, VMfailValid(8) for the host-state area and
 * for the address-space-size checks.
 *
 * Entry point: {@link checkControlsAndHost}, called by ImplMachine.vmlaunch with the current
 * VMCS's region; it reads fields where VMREAD reads them and allocates nothing.
 */
import { VM_ERROR } from '../../spec/errors.ts';
import type { PhysicalMemory } from '../memory.ts';
import { executionControlsOk } from './execution-controls.ts';
import { entryControlsOk, eventInjectionOk, exitControlsOk } from './exit-entry-controls.ts';
import type { EntryFacts } from './facts.ts';
import { addressSpaceSizeOk, hostControlRegistersOk, hostSegmentRegistersOk } from './host-state.ts';

export { entryFactsFor, type EntryFacts } from './facts.ts';

/**
 * 0 when every check on the controls and the host-state area passes, else the VM-instruction
 * error of the first that fails (7 or 8). `base` is the word offset of the current VMCS's region
 * in `memory.words`; `lma` the processor's IA32_EFER.LMA.
 */
export function checkControlsAndHost(facts: EntryFacts, memory: PhysicalMemory, base: number, lma: number): number {
  const v = memory.words;
  if (
    !executionControlsOk(facts, v, base, memory) ||
    !exitControlsOk(facts, v, base) ||
    !entryControlsOk(facts, v, base) ||
    !eventInjectionOk(facts, v, base)
  ) {
    return VM_ERROR.ENTRY_INVALID_CONTROLS;
  }
  if (!hostControlRegistersOk(facts, v, base) || !hostSegmentRegistersOk(facts, v, base) || !addressSpaceSizeOk(facts, v, base, lma)) {
    return VM_ERROR.ENTRY_INVALID_HOST_STATE;
  }
  return 0;
}
