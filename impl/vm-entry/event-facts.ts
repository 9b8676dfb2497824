/**
 * The VMCS fields the events at the end of a VM entry read (impl/vm-entry/pending-events.ts) and
 * the VM exits after a guest instruction (impl/non-root/instruction-boundary.ts), as word offsets in
 * impl/'s VMCS region layout (impl/field-table.ts).
 *
 * Trick (as in impl/vm-entry/facts.ts): one object literal per profile, so that V8 gives it a
 * fixed shape and every field read is a property load; built once and cached per Profile. -1
 * marks a field the profile lacks (it reads as 0).
 */
import { FIELD } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import { fieldTableFor } from '../field-table.ts';

function layoutOf(entry: Int16Array) {
  const at = (name: keyof typeof FIELD): number => {
    const packed = entry[FIELD[name] & 0x7fff] as number;
    return packed < 0 ? -1 : packed >> 3;
  };
  return {
    PIN_BASED_CONTROLS: at('PIN_BASED_CONTROLS'),
    PRIMARY_PROCESSOR_BASED_CONTROLS: at('PRIMARY_PROCESSOR_BASED_CONTROLS'),
    SECONDARY_PROCESSOR_BASED_CONTROLS: at('SECONDARY_PROCESSOR_BASED_CONTROLS'),
    EXCEPTION_BITMAP: at('EXCEPTION_BITMAP'),
    VIRTUAL_APIC_ADDRESS: at('VIRTUAL_APIC_ADDRESS'),
    TPR_THRESHOLD: at('TPR_THRESHOLD'),
    VM_ENTRY_INTERRUPTION_INFORMATION: at('VM_ENTRY_INTERRUPTION_INFORMATION'),
    VM_ENTRY_EXCEPTION_ERROR_CODE: at('VM_ENTRY_EXCEPTION_ERROR_CODE'),
    VM_ENTRY_INSTRUCTION_LENGTH: at('VM_ENTRY_INSTRUCTION_LENGTH'),
    GUEST_RFLAGS: at('GUEST_RFLAGS'),
    GUEST_ACTIVITY_STATE: at('GUEST_ACTIVITY_STATE'),
    GUEST_INTERRUPTIBILITY_STATE: at('GUEST_INTERRUPTIBILITY_STATE'),
    GUEST_PENDING_DEBUG_EXCEPTIONS: at('GUEST_PENDING_DEBUG_EXCEPTIONS'),
    VMX_PREEMPTION_TIMER_VALUE: at('VMX_PREEMPTION_TIMER_VALUE'),
    GUEST_INTERRUPT_STATUS: at('GUEST_INTERRUPT_STATUS'),
  };
}

/** Word offsets of the fields the entry's events read (see layoutOf). */
export type EventWords = Readonly<ReturnType<typeof layoutOf>>;

/** Names of those fields (keys of `FIELD`). */
export const EVENT_FIELDS = Object.keys(layoutOf(new Int16Array(0x8000).fill(-1))) as readonly (keyof EventWords)[];

const cache = new WeakMap<Profile, EventWords>();

/** The word offsets for `profile`, computed on first use. */
export function eventWordsFor(profile: Profile): EventWords {
  let words = cache.get(profile);
  if (words === undefined) {
    words = layoutOf(fieldTableFor(profile).entry);
    cache.set(profile, words);
  }
  return words;
}
