/**
 * Word offsets, in impl/'s VMCS region layout (impl/field-table.ts), of the fields the guest
 * operations read in VMX non-root operation: the VM-execution controls that decide their VM exits
 * (SDM Vol. 3C, December 2023, §25.6 "VM-Execution Control Fields") and the guest RIP they advance;
 * and the fields the events at the end of a VM entry (impl/vm-entry/pending-events.ts) and the VM
 * exits at the boundary after a guest instruction (impl/non-root/instruction-boundary.ts) read.
 *
 * Trick (as in impl/vm-entry/facts.ts): one object literal per profile, so that V8 gives it a
 * fixed shape and every field read is a property load, not a hash look-up; built once and cached
 * per Profile object. -1 marks a field the profile lacks (it reads as 0).
 */
import type { Profile } from '../../spec/profile.ts';
import { fieldTableFor, wordLocator } from '../field-table.ts';

function layoutOf(entry: Int16Array) {
  const at = wordLocator(entry);
  return {
    PIN_BASED_CONTROLS: at('PIN_BASED_CONTROLS'),
    PRIMARY_PROCESSOR_BASED_CONTROLS: at('PRIMARY_PROCESSOR_BASED_CONTROLS'),
    SECONDARY_PROCESSOR_BASED_CONTROLS: at('SECONDARY_PROCESSOR_BASED_CONTROLS'),
    EXCEPTION_BITMAP: at('EXCEPTION_BITMAP'),
    PAGE_FAULT_ERROR_CODE_MASK: at('PAGE_FAULT_ERROR_CODE_MASK'),
    PAGE_FAULT_ERROR_CODE_MATCH: at('PAGE_FAULT_ERROR_CODE_MATCH'),
    CR0_GUEST_HOST_MASK: at('CR0_GUEST_HOST_MASK'),
    CR4_GUEST_HOST_MASK: at('CR4_GUEST_HOST_MASK'),
    CR0_READ_SHADOW: at('CR0_READ_SHADOW'),
    CR4_READ_SHADOW: at('CR4_READ_SHADOW'),
    CR3_TARGET_COUNT: at('CR3_TARGET_COUNT'),
    CR3_TARGET_VALUE_0: at('CR3_TARGET_VALUE_0'),
    CR3_TARGET_VALUE_1: at('CR3_TARGET_VALUE_1'),
    CR3_TARGET_VALUE_2: at('CR3_TARGET_VALUE_2'),
    CR3_TARGET_VALUE_3: at('CR3_TARGET_VALUE_3'),
    IO_BITMAP_A_ADDRESS: at('IO_BITMAP_A_ADDRESS'),
    IO_BITMAP_B_ADDRESS: at('IO_BITMAP_B_ADDRESS'),
    MSR_BITMAPS_ADDRESS: at('MSR_BITMAPS_ADDRESS'),
    VIRTUAL_APIC_ADDRESS: at('VIRTUAL_APIC_ADDRESS'),
    TPR_THRESHOLD: at('TPR_THRESHOLD'),
    GUEST_RIP: at('GUEST_RIP'),
    GUEST_RFLAGS: at('GUEST_RFLAGS'),
    // The descriptor-table registers of the guest (impl/non-root/descriptor-tables.ts) and what a
    // VM exit loads into the host's (§28.5.2), the XSS-exiting bitmap (impl/non-root/xsaves.ts).
    GUEST_GDTR_BASE: at('GUEST_GDTR_BASE'),
    GUEST_GDTR_LIMIT: at('GUEST_GDTR_LIMIT'),
    GUEST_IDTR_BASE: at('GUEST_IDTR_BASE'),
    GUEST_IDTR_LIMIT: at('GUEST_IDTR_LIMIT'),
    GUEST_LDTR_SELECTOR: at('GUEST_LDTR_SELECTOR'),
    GUEST_LDTR_ACCESS_RIGHTS: at('GUEST_LDTR_ACCESS_RIGHTS'),
    GUEST_TR_SELECTOR: at('GUEST_TR_SELECTOR'),
    HOST_GDTR_BASE: at('HOST_GDTR_BASE'),
    HOST_IDTR_BASE: at('HOST_IDTR_BASE'),
    HOST_TR_SELECTOR: at('HOST_TR_SELECTOR'),
    XSS_EXITING_BITMAP: at('XSS_EXITING_BITMAP'),
    // The events of a VM entry's end and of an instruction boundary (§27.6 "Event Injection",
    // §27.7 "Special Features of VM Entry", §26.2 "Other Causes of VM Exits").
    VM_ENTRY_INTERRUPTION_INFORMATION: at('VM_ENTRY_INTERRUPTION_INFORMATION'),
    VM_ENTRY_EXCEPTION_ERROR_CODE: at('VM_ENTRY_EXCEPTION_ERROR_CODE'),
    VM_ENTRY_INSTRUCTION_LENGTH: at('VM_ENTRY_INSTRUCTION_LENGTH'),
    GUEST_ACTIVITY_STATE: at('GUEST_ACTIVITY_STATE'),
    GUEST_INTERRUPTIBILITY_STATE: at('GUEST_INTERRUPTIBILITY_STATE'),
    GUEST_PENDING_DEBUG_EXCEPTIONS: at('GUEST_PENDING_DEBUG_EXCEPTIONS'),
    VMX_PREEMPTION_TIMER_VALUE: at('VMX_PREEMPTION_TIMER_VALUE'),
    GUEST_INTERRUPT_STATUS: at('GUEST_INTERRUPT_STATUS'),
  };
}

/** Word offsets of the fields the guest operations read (see layoutOf). */
export type NonRootWords = Readonly<ReturnType<typeof layoutOf>>;

/** Names of those fields (keys of `FIELD`). */
export const NON_ROOT_FIELDS = Object.keys(layoutOf(new Int16Array(0x8000).fill(-1))) as readonly (keyof NonRootWords)[];

const cache = new WeakMap<Profile, NonRootWords>();

/** The word offsets for `profile`, computed on first use. */
export function nonRootWordsFor(profile: Profile): NonRootWords {
  let words = cache.get(profile);
  if (words === undefined) {
    words = layoutOf(fieldTableFor(profile).entry);
    cache.set(profile, words);
  }
  return words;
}
