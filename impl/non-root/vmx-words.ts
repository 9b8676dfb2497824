/**
 * Word offsets (impl/'s VMCS layout, impl/field-table.ts) of the fields the guest's VMX
 * instructions touch that the VM-entry facts do not list, decoded once per profile.
 */
import { FIELD } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import { fieldTableFor } from '../field-table.ts';

/** The word offsets; -1 for a field the profile lacks. */
export interface VmxGuestWords {
  /** The EPTP-index field, present when the processor supports "EPT-violation #VE". */
  readonly EPTP_INDEX: number;
}

const cache = new WeakMap<Profile, VmxGuestWords>();

/** The word offsets for `profile`, decoded on first use. */
export function vmxGuestWordsFor(profile: Profile): VmxGuestWords {
  let words = cache.get(profile);
  if (words === undefined) {
    const packed = fieldTableFor(profile).entry[FIELD.EPTP_INDEX & 0x7fff] as number;
    words = { EPTP_INDEX: packed < 0 ? -1 : packed >> 3 };
    cache.set(profile, words);
  }
  return words;
}
