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
import type { GuestFacts } from './guest-facts.ts';
import { guestNonRegisterState, guestPdptes, PASS } from './guest-non-register.ts';
import { guestControlRegistersOk, guestDescriptorTablesOk, guestRipRflagsOk } from './guest-registers.ts';
import { guestSegmentRegistersOk } from './guest-segments.ts';
import { addressSpaceSizeOk, hostControlRegistersOk, hostSegmentRegistersOk } from './host-state.ts';

export { entryFactsFor, type EntryFacts } from './facts.ts';
export { guestFactsFor, type GuestFacts } from './guest-facts.ts';
export { loadEntryMsrs } from './msr-load.ts';
export { loadGuestState, IN_VMX_NON_ROOT } from './load-guest.ts';
export { loadHostState } from './load-host.ts';
export { PASS } from './guest-non-register.ts';

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

/**
 * The checks on the guest-state area (SDM Vol. 3C, December 2023, §27.3.1 "Checks on the
 * Guest State Area"), group by group in the catalogue's order (the SDM allows any order): -1
 * ({@link PASS}) when all pass, else the exit qualification of the first that fails (0, 2, 3 or
 * 4) for a VM-entry failure with exit reason 33. `currentLo/Hi` is the current-VMCS pointer.
 */
export function checkGuestState(
  facts: EntryFacts,
  guest: GuestFacts,
  memory: PhysicalMemory,
  base: number,
  currentLo: number,
  currentHi: number,
): number {
  const v = memory.words;
  if (
    !guestControlRegistersOk(facts, guest, v, base) ||
    !guestSegmentRegistersOk(facts, guest, v, base) ||
    !guestDescriptorTablesOk(guest, v, base) ||
    !guestRipRflagsOk(facts, guest, v, base)
  ) {
    return 0;
  }
  const nonRegister = guestNonRegisterState(facts, guest, memory, base, currentLo, currentHi);
  if (nonRegister !== PASS) return nonRegister;
  return guestPdptes(facts, guest, memory, base);
}
