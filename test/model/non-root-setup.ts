/**
 * Builds states in VMX non-root operation for unit tests. VM entry is not modelled, so these are
 * made by VMWRITEs in VMX root operation (which the model follows) and then by switching the
 * processor to non-root operation directly, with the link-pointer VMCS active as VM entry would
 * have left it (SDM Vol. 3C, December 2023, §25.1 "Overview").
 */
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { FIELD } from '../../spec/fields.ts';
import type { ModelState } from '../../model/index.ts';
import { expectOnly, hex, inRoot, loadVmcs, patchCpu, succeed, VMCS_A, VMCS_S, write } from './helpers.ts';

export const VMREAD_BITMAP = 0x20000n;
export const VMWRITE_BITMAP = 0x21000n;
export const ACTIVATE_SECONDARY = 1n << BigInt(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS);
export const SHADOWING = 1n << BigInt(SECONDARY_CONTROL.VMCS_SHADOWING);
export const VM_FUNCTIONS = 1n << BigInt(SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS);

export interface GuestSetup {
  primary?: bigint;
  secondary?: bigint;
  link?: bigint;
  vmreadBitmap?: bigint;
  vmwriteBitmap?: bigint;
  vmFunctions?: bigint;
  /** The exception bitmap (default 0: a fault in the guest is delivered there, §26.2). */
  exceptionBitmap?: bigint;
  /** Fields to write into the shadow VMCS (at VMCS_S) before entering. */
  shadowFields?: ReadonlyArray<readonly [number, bigint]>;
}

/**
 * Processor 0 in VMX non-root operation, controlled by VMCS_A, with a shadow VMCS at VMCS_S
 * active. Only the fields named in `setup` are written, and the exception bitmap (0 by default).
 */
export function guest(setup: GuestSetup): ModelState {
  let state = loadVmcs(inRoot(), VMCS_S, 0, true);
  for (const [encoding, value] of setup.shadowFields ?? []) state = write(state, encoding, value);
  state = loadVmcs(state, VMCS_A);
  if (setup.primary !== undefined) state = write(state, FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, setup.primary);
  if (setup.secondary !== undefined) state = write(state, FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, setup.secondary);
  if (setup.link !== undefined) state = write(state, FIELD.VMCS_LINK_POINTER, setup.link);
  if (setup.vmreadBitmap !== undefined) state = write(state, FIELD.VMREAD_BITMAP_ADDRESS, setup.vmreadBitmap);
  if (setup.vmwriteBitmap !== undefined) state = write(state, FIELD.VMWRITE_BITMAP_ADDRESS, setup.vmwriteBitmap);
  if (setup.vmFunctions !== undefined) state = write(state, FIELD.VM_FUNCTION_CONTROLS, setup.vmFunctions);
  state = write(state, FIELD.EXCEPTION_BITMAP, setup.exceptionBitmap ?? 0n);
  return patchCpu(state, 0, { vmx: 'non-root' });
}

/** A guest with VMCS shadowing on, both bitmaps at their addresses (all zero) and the link pointer at VMCS_S. */
export function shadowingGuest(shadowFields: ReadonlyArray<readonly [number, bigint]> = []): ModelState {
  return guest({
    primary: ACTIVATE_SECONDARY,
    secondary: SHADOWING,
    link: VMCS_S,
    vmreadBitmap: VMREAD_BITMAP,
    vmwriteBitmap: VMWRITE_BITMAP,
    shadowFields,
  });
}

/** Back to VMX root operation, to look at the VMCSs with VMREAD (a test-only shortcut). */
export function backToRoot(state: ModelState): ModelState {
  return patchCpu(state, 0, { vmx: 'root' });
}

/** Makes VMCS_S current in root operation (a test-only shortcut for reading it back). */
export function readShadowInRoot(state: ModelState): ModelState {
  return expectOnly(backToRoot(state), { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_S) }, succeed(), 'vmptrld.success');
}
