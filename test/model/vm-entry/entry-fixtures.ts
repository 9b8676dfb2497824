/**
 * VMCS contents for the tests of VM-entry failure processing and guest-state loading, with the
 * values the SDM text gives them meaning (bits named where they matter).
 */
import type { FieldName } from '../../../spec/fields.ts';
import { ENTRY_CONTROL, EXIT_CONTROL } from '../../../spec/control-bits.ts';
import type { ModelState } from '../../../model/index.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import { viewOf } from '../../../model/vm-entry/view.ts';
import type { VmcsView } from '../../../model/vm-entry/check.ts';

const bit = (n: number): bigint => 1n << BigInt(n);

/** Skylake's exit-control must-be-1 bits with "host address-space size" (a 64-bit host). */
export const EXIT_64 = 0x36dfbn | bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE);
/** The same without "host address-space size" (a 32-bit host). */
export const EXIT_32 = 0x36dfbn;
/** Skylake's entry-control must-be-1 bits with "IA-32e mode guest". */
export const ENTRY_64 = 0x11fbn | bit(ENTRY_CONTROL.IA32E_MODE_GUEST);

/**
 * Host CR0 field: PG, CD, AM, WP, NE, TS, MP, PE (ET clear). A VM exit loads MP, TS, WP and AM from
 * it and keeps ET, CD and the VMX-fixed PE, NE, PG (§28.5.1).
 */
export const HOST_CR0 = 0xc005_002bn;
/** Host CR4 field: PCIDE (17), VMXE (13), PGE (7); PAE (5) clear. */
export const HOST_CR4 = 0x2_2080n;

/** Host-state fields a VM-entry failure loads (64-bit host). */
export const HOST_FIELDS: Partial<Record<FieldName, bigint>> = {
  PRIMARY_VM_EXIT_CONTROLS: EXIT_64,
  HOST_CR0,
  HOST_CR4,
  VM_EXIT_MSR_LOAD_COUNT: 0n,
};

/** Guest fields of a quiet entry into a 64-bit guest at CPL 0, RFLAGS with CF and ZF set. */
export const GUEST_64: Partial<Record<FieldName, bigint>> = {
  GUEST_CR0: 0x8005_0023n,
  GUEST_CR4: 0x20a0n,
  VM_ENTRY_CONTROLS: ENTRY_64,
  GUEST_CS_ACCESS_RIGHTS: 0xa09bn,
  GUEST_SS_ACCESS_RIGHTS: 0xc093n,
  GUEST_RFLAGS: 0x43n,
  GUEST_INTERRUPTIBILITY_STATE: 0n,
  GUEST_ACTIVITY_STATE: 0n,
  VM_ENTRY_INTERRUPTION_INFORMATION: 0n,
  GUEST_PENDING_DEBUG_EXCEPTIONS: 0n,
  PIN_BASED_CONTROLS: 0x16n,
  PRIMARY_PROCESSOR_BASED_CONTROLS: 0n,
  VM_ENTRY_MSR_LOAD_COUNT: 0n,
};

/** The current VMCS of processor 0 as the checks see it. */
export function currentView(state: ModelState): VmcsView {
  const current = currentVmcs(state, 0);
  if (current === undefined) throw new Error('test setup: no current VMCS');
  return viewOf(current.content);
}
