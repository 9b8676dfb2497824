/**
 * A guest the model follows: a VMCS that passes every VM-entry check on skylake (a flat 64-bit
 * guest at RIP 1000H, RFLAGS 43H, a 64-bit host at RIP 400000H with CR3 1000H), entered with
 * VMLAUNCH through the model's own steps, so that VM exits start from a real entry.
 */
import type { ModelState } from '../../../model/index.ts';
import { EXIT_CONTROL } from '../../../spec/control-bits.ts';
import type { FieldName } from '../../../spec/fields.ts';
import type { Observation } from '../../../spec/observations.ts';
import { expectOnly } from '../helpers.ts';
import { GUEST_64 } from '../vm-entry/entry-fixtures.ts';
import { FLAT_64 } from '../vm-entry/guest-segment-fixtures.ts';
import { CONTROLS_OK, vmcsWith } from '../vm-entry/helpers.ts';

export const launch = { kind: 'vmlaunch', cpu: 0 } as const;
export const resume = { kind: 'vmresume', cpu: 0 } as const;
export const vmcall = { kind: 'vmcall', cpu: 0 } as const;

/** Guest RIP, RSP and RFLAGS (CF, ZF, bit 1) of the fixture. */
export const GUEST_RIP = 0x1000n;
export const GUEST_RSP = 0x8000n;
export const GUEST_RFLAGS = 0x43n;
/** Flags of the `vmentry` observation: CF and ZF of the guest RFLAGS. */
export const ENTRY_FLAGS = 0x41;

/** A VMCS that passes every check: the guest of full-entry.test.ts with RSP and SYSENTER_CS written. */
export const VALID: Partial<Record<FieldName, bigint>> = {
  ...FLAT_64,
  ...GUEST_64,
  ...CONTROLS_OK,
  VM_ENTRY_CONTROLS: 0x11fbn | (1n << 9n),
  GUEST_IA32_EFER: 0x500n,
  VMCS_LINK_POINTER: 0xffff_ffff_ffff_ffffn,
  GUEST_DR7: 0x400n,
  GUEST_IA32_DEBUGCTL: 0n,
  GUEST_IA32_SYSENTER_CS: 0x10n,
  GUEST_IA32_SYSENTER_ESP: 0x7000n,
  GUEST_IA32_SYSENTER_EIP: 0x2000n,
  GUEST_CR3: 0x1000n,
  GUEST_GDTR_BASE: 0x5000n,
  GUEST_IDTR_BASE: 0x6000n,
  GUEST_GDTR_LIMIT: 0xffn,
  GUEST_IDTR_LIMIT: 0xfffn,
  GUEST_RIP,
  GUEST_RSP,
  GUEST_RFLAGS,
};

/** The exit controls of the fixture plus "save debug controls" and "save IA32_EFER". */
export const EXIT_SAVING = (CONTROLS_OK.PRIMARY_VM_EXIT_CONTROLS as bigint) | (1n << BigInt(EXIT_CONTROL.SAVE_DEBUG_CONTROLS)) | (1n << BigInt(EXIT_CONTROL.SAVE_IA32_EFER));

/** The `vmentry` observation of the fixture. */
export const entered = (flags = ENTRY_FLAGS): Observation => ({ kind: 'vmentry', flags });

/** Processor 0 in the guest after VMLAUNCH of the fixture with `changes`. */
export function inGuest(changes: Partial<Record<FieldName, bigint>> = {}): ModelState {
  return expectOnly(vmcsWith({ ...VALID, ...changes }), launch, entered(), 'vm-entry.guest-runs');
}
