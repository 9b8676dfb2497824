/**
 * Word offsets (impl/'s VMCS layout, impl/field-table.ts) of the fields the guest's VMX
 * instructions touch that the VM-entry facts do not list, decoded once per profile; plus two
 * small writers the VM exit and guest RIP tracking of impl/vm-exit/ take over when they land:
 * the instruction length and information of an exit (SDM Vol. 3C, December 2023, §28.2.5
 * "Information for VM Exits Due to Instruction Execution"), and the guest RIP advancing past an
 * instruction that completes in the guest (kept in the guest-RIP field of the current VMCS, which
 * the next VM exit would save anyway: §28.3.3 "Saving RIP, RSP, RFLAGS, and SSP").
 */
import { FIELD } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import { fieldTableFor } from '../field-table.ts';
import { EXIT_INFO_INSTRUCTION_INFORMATION, EXIT_INFO_INSTRUCTION_LENGTH, type ExitInfo } from '../vm-exit/exit-info.ts';

/** The word offsets; -1 for a field the profile lacks. */
export interface VmxGuestWords {
  readonly EPTP_INDEX: number;
  readonly VM_EXIT_INSTRUCTION_LENGTH: number;
  readonly VM_EXIT_INSTRUCTION_INFORMATION: number;
  readonly GUEST_RIP: number;
}

const cache = new WeakMap<Profile, VmxGuestWords>();

/** The word offsets for `profile`, decoded on first use. */
export function vmxGuestWordsFor(profile: Profile): VmxGuestWords {
  let words = cache.get(profile);
  if (words === undefined) {
    const entry = fieldTableFor(profile).entry;
    const at = (encoding: number): number => {
      const packed = entry[encoding & 0x7fff] as number;
      return packed < 0 ? -1 : packed >> 3;
    };
    words = {
      EPTP_INDEX: at(FIELD.EPTP_INDEX),
      VM_EXIT_INSTRUCTION_LENGTH: at(FIELD.VM_EXIT_INSTRUCTION_LENGTH),
      VM_EXIT_INSTRUCTION_INFORMATION: at(FIELD.VM_EXIT_INSTRUCTION_INFORMATION),
      GUEST_RIP: at(FIELD.GUEST_RIP),
    };
    cache.set(profile, words);
  }
  return words;
}

/** Writes the instruction length and information `info` defines into the VMCS at `base`. */
export function writeInstructionFields(w: VmxGuestWords, v: Int32Array, base: number, info: ExitInfo): void {
  if ((info.defined & EXIT_INFO_INSTRUCTION_LENGTH) !== 0 && w.VM_EXIT_INSTRUCTION_LENGTH >= 0) {
    v[base + w.VM_EXIT_INSTRUCTION_LENGTH] = info.instructionLength;
  }
  if ((info.defined & EXIT_INFO_INSTRUCTION_INFORMATION) !== 0 && w.VM_EXIT_INSTRUCTION_INFORMATION >= 0) {
    v[base + w.VM_EXIT_INSTRUCTION_INFORMATION] = info.instructionInformation;
  }
}

/**
 * Advances the guest RIP held in the guest-RIP field of the VMCS at `base` by `length`: a 64-bit
 * add in 64-bit mode (`wide` 1); outside it the instruction pointer is EIP, so the sum wraps at
 * 32 bits and bits 63:32 become 0.
 */
export function advanceRipInVmcs(w: VmxGuestWords, v: Int32Array, base: number, wide: number, length: number): void {
  const at = base + w.GUEST_RIP;
  const lo = v[at] as number;
  const sum = (lo >>> 0) + length;
  v[at] = sum | 0;
  v[at + 1] = wide === 1 ? ((v[at + 1] as number) + (sum > 0xffff_ffff ? 1 : 0)) | 0 : 0;
}
