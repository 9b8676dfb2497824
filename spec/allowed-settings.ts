/**
 * From capability-MSR values to the allowed settings of each control set, as Appendix A defines
 * them: the four "classic" sets (pin, primary, exit, entry) have an allowed-0 half (bits 31:0)
 * and an allowed-1 half (bits 63:32), read from the TRUE MSR when IA32_VMX_BASIC[55] = 1; the
 * secondary processor-based controls have the same two halves in IA32_VMX_PROCBASED_CTLS2; the
 * tertiary controls, the secondary VM-exit controls and the VM-function controls have only a
 * 64-bit allowed-1 mask. A set whose MSR does not exist allows nothing.
 *
 * Sources: SDM Vol. 3D, December 2023, Appendix A.3 "VM-Execution Controls", A.4 "VM-Exit
 * Controls", A.5 "VM-Entry Controls", A.11 "VM Functions".
 */
import { VMX_BASIC } from './capability-msrs.ts';
import type { AllowedSettings, ControlSet } from './profile.ts';

/** The capability-MSR values as numbers; `undefined` for an MSR the processor lacks. */
export interface MsrValues {
  IA32_VMX_BASIC: bigint;
  IA32_VMX_PINBASED_CTLS: bigint;
  IA32_VMX_PROCBASED_CTLS: bigint;
  IA32_VMX_EXIT_CTLS: bigint;
  IA32_VMX_ENTRY_CTLS: bigint;
  IA32_VMX_PROCBASED_CTLS2: bigint | undefined;
  IA32_VMX_TRUE_PINBASED_CTLS: bigint | undefined;
  IA32_VMX_TRUE_PROCBASED_CTLS: bigint | undefined;
  IA32_VMX_TRUE_EXIT_CTLS: bigint | undefined;
  IA32_VMX_TRUE_ENTRY_CTLS: bigint | undefined;
  IA32_VMX_VMFUNC: bigint | undefined;
  IA32_VMX_PROCBASED_CTLS3: bigint | undefined;
  IA32_VMX_EXIT_CTLS2: bigint | undefined;
}

const LOW_32 = 0xffff_ffffn;

/** Allowed settings from an MSR with an allowed-0 half (31:0) and an allowed-1 half (63:32). */
export function fromTwoHalves(value: bigint | undefined): AllowedSettings {
  if (value === undefined) return { mustBeOne: 0n, mayBeOne: 0n };
  return { mustBeOne: value & LOW_32, mayBeOne: (value >> 32n) & LOW_32 };
}

/** Allowed settings from a 64-bit allowed-1 mask (no control of such a set must be 1). */
export function fromAllowedOneMask(value: bigint | undefined): AllowedSettings {
  return { mustBeOne: 0n, mayBeOne: value ?? 0n };
}

/** True when IA32_VMX_BASIC[55] says the TRUE control MSRs are the ones to consult. */
export function usesTrueControls(basic: bigint): boolean {
  return ((basic >> BigInt(VMX_BASIC.TRUE_CONTROLS)) & 1n) === 1n;
}

/**
 * Allowed settings of every control set. With IA32_VMX_BASIC[55] = 1 the TRUE MSRs decide the
 * classic sets; should one be missing (an inconsistent profile `validateProfile` reports), the
 * non-TRUE MSR stands in for it.
 */
export function allowedSettings(msrs: MsrValues): Record<ControlSet, AllowedSettings> {
  const useTrue = usesTrueControls(msrs.IA32_VMX_BASIC);
  const pick = (plain: bigint, truly: bigint | undefined): bigint => (useTrue ? (truly ?? plain) : plain);
  return {
    pin: fromTwoHalves(pick(msrs.IA32_VMX_PINBASED_CTLS, msrs.IA32_VMX_TRUE_PINBASED_CTLS)),
    primary: fromTwoHalves(pick(msrs.IA32_VMX_PROCBASED_CTLS, msrs.IA32_VMX_TRUE_PROCBASED_CTLS)),
    secondary: fromTwoHalves(msrs.IA32_VMX_PROCBASED_CTLS2),
    tertiary: fromAllowedOneMask(msrs.IA32_VMX_PROCBASED_CTLS3),
    exit: fromTwoHalves(pick(msrs.IA32_VMX_EXIT_CTLS, msrs.IA32_VMX_TRUE_EXIT_CTLS)),
    'secondary-exit': fromAllowedOneMask(msrs.IA32_VMX_EXIT_CTLS2),
    entry: fromTwoHalves(pick(msrs.IA32_VMX_ENTRY_CTLS, msrs.IA32_VMX_TRUE_ENTRY_CTLS)),
    vmfunc: fromAllowedOneMask(msrs.IA32_VMX_VMFUNC),
  };
}

/** True when control `bit` may be 1 according to `settings`. */
export function mayBeOne(settings: AllowedSettings, bit: number): boolean {
  return bit >= 0 && bit < 64 && ((settings.mayBeOne >> BigInt(bit)) & 1n) === 1n;
}
