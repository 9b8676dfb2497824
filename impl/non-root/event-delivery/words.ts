/**
 * Word offsets, in impl/'s VMCS region layout (impl/field-table.ts), of the fields event delivery
 * through the guest IDT reads and writes: the guest's RIP, RSP, RFLAGS, CS, SS, the
 * descriptor-table registers and TR (the live guest state while the guest runs: impl/ keeps it in
 * the guest-state area, impl/vm-exit/save-guest.ts), the PDPTEs EPT loads, the EPTP and the
 * controls translation depends on, and the VM-entry event-injection fields.
 *
 * Trick (as in impl/vm-entry/facts.ts): one object literal per profile, so that V8 gives it a
 * fixed shape and every field read is a property load; built once and cached per Profile. -1
 * marks a field the profile lacks (it reads as 0).
 */
import { FIELD } from '../../../spec/fields.ts';
import type { Profile } from '../../../spec/profile.ts';
import { fieldTableFor } from '../../field-table.ts';

function layoutOf(entry: Int16Array) {
  const at = (name: keyof typeof FIELD): number => {
    const packed = entry[FIELD[name] & 0x7fff] as number;
    return packed < 0 ? -1 : packed >> 3;
  };
  return {
    PRIMARY_PROCESSOR_BASED_CONTROLS: at('PRIMARY_PROCESSOR_BASED_CONTROLS'),
    SECONDARY_PROCESSOR_BASED_CONTROLS: at('SECONDARY_PROCESSOR_BASED_CONTROLS'),
    EPT_POINTER: at('EPT_POINTER'),
    APIC_ACCESS_ADDRESS: at('APIC_ACCESS_ADDRESS'),
    VM_ENTRY_INTERRUPTION_INFORMATION: at('VM_ENTRY_INTERRUPTION_INFORMATION'),
    VM_ENTRY_EXCEPTION_ERROR_CODE: at('VM_ENTRY_EXCEPTION_ERROR_CODE'),
    VM_ENTRY_INSTRUCTION_LENGTH: at('VM_ENTRY_INSTRUCTION_LENGTH'),
    GUEST_RIP: at('GUEST_RIP'),
    GUEST_RSP: at('GUEST_RSP'),
    GUEST_RFLAGS: at('GUEST_RFLAGS'),
    GUEST_CS_SELECTOR: at('GUEST_CS_SELECTOR'),
    GUEST_CS_BASE: at('GUEST_CS_BASE'),
    GUEST_CS_LIMIT: at('GUEST_CS_LIMIT'),
    GUEST_CS_ACCESS_RIGHTS: at('GUEST_CS_ACCESS_RIGHTS'),
    GUEST_SS_SELECTOR: at('GUEST_SS_SELECTOR'),
    GUEST_SS_BASE: at('GUEST_SS_BASE'),
    GUEST_SS_LIMIT: at('GUEST_SS_LIMIT'),
    GUEST_SS_ACCESS_RIGHTS: at('GUEST_SS_ACCESS_RIGHTS'),
    GUEST_LDTR_BASE: at('GUEST_LDTR_BASE'),
    GUEST_LDTR_LIMIT: at('GUEST_LDTR_LIMIT'),
    GUEST_LDTR_ACCESS_RIGHTS: at('GUEST_LDTR_ACCESS_RIGHTS'),
    GUEST_TR_BASE: at('GUEST_TR_BASE'),
    GUEST_TR_LIMIT: at('GUEST_TR_LIMIT'),
    GUEST_TR_ACCESS_RIGHTS: at('GUEST_TR_ACCESS_RIGHTS'),
    GUEST_GDTR_BASE: at('GUEST_GDTR_BASE'),
    GUEST_GDTR_LIMIT: at('GUEST_GDTR_LIMIT'),
    GUEST_IDTR_BASE: at('GUEST_IDTR_BASE'),
    GUEST_IDTR_LIMIT: at('GUEST_IDTR_LIMIT'),
    GUEST_PDPTE0: at('GUEST_PDPTE0'),
  };
}

/** Word offsets of the fields event delivery reads and writes (see layoutOf). */
export type DeliveryWords = Readonly<ReturnType<typeof layoutOf>>;

/** Names of those fields (keys of `FIELD`). */
export const DELIVERY_FIELDS = Object.keys(layoutOf(new Int16Array(0x8000).fill(-1))) as readonly (keyof DeliveryWords)[];

const cache = new WeakMap<Profile, DeliveryWords>();

/** The word offsets for `profile`, computed on first use. */
export function deliveryWordsFor(profile: Profile): DeliveryWords {
  let words = cache.get(profile);
  if (words === undefined) {
    words = layoutOf(fieldTableFor(profile).entry);
    cache.set(profile, words);
  }
  return words;
}
