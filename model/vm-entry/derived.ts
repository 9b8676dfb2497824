/**
 * Facts the VM-entry control checks derive from VMCS fields and the profile, each in one place.
 *
 * The controls in effect. "If [the 'activate secondary controls'] control is 0, the logical
 * processor operates as if all the secondary processor-based VM-execution controls were also 0"
 * (SDM Vol. 3C, December 2023, §25.6.2 "Processor-Based VM-Execution Controls"); likewise the
 * tertiary controls with "activate tertiary controls" (same section), and the VM-function controls
 * are consulted, and checked, only when "enable VM functions" is 1 (§25.6.14 "VM-Function
 * Controls"; §27.2.1.1 "VM-Execution Control Fields" checks them only then). The checks therefore
 * read these fields through {@link controlsInEffect}: a processor without secondary controls
 * (where the field does not even exist) or a hypervisor that never wrote them is judged on the
 * controls the processor uses, never on a field it ignores.
 */
import { VMX_BASIC, VMX_MISC } from '../../spec/capability-msrs.ts';
import { CR0_PE_BIT, EPTP, INTERRUPTION_INFO } from '../../spec/control-field-formats.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import { bitOf } from '../non-root.ts';
import type { VmcsView } from './check.ts';

/**
 * `view` with the controls in effect: SECONDARY_PROCESSOR_BASED_CONTROLS reads 0 when "activate
 * secondary controls" (primary bit 31) is 0, TERTIARY_PROCESSOR_BASED_CONTROLS 0 when "activate
 * tertiary controls" (primary bit 17) is 0, VM_FUNCTION_CONTROLS 0 when "enable VM functions" is
 * 0 in the secondary controls in effect. Unknown stays unknown where the deciding bit is unknown.
 */
export function controlsInEffect(view: VmcsView): VmcsView {
  const gatedBy = (field: FieldName, enabled: () => boolean | undefined): bigint | undefined => {
    const on = enabled();
    if (on === undefined) return undefined;
    return on ? view.get(field) : 0n;
  };
  const primaryBit = (bit: number): boolean | undefined => {
    const primary = view.get('PRIMARY_PROCESSOR_BASED_CONTROLS');
    return primary === undefined ? undefined : bitOf(primary, bit);
  };
  const secondary = (): bigint | undefined => gatedBy('SECONDARY_PROCESSOR_BASED_CONTROLS', () => primaryBit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS));
  return {
    get(field: FieldName): bigint | undefined {
      switch (field) {
        case 'SECONDARY_PROCESSOR_BASED_CONTROLS':
          return secondary();
        case 'TERTIARY_PROCESSOR_BASED_CONTROLS':
          return gatedBy(field, () => primaryBit(PRIMARY_CONTROL.ACTIVATE_TERTIARY_CONTROLS));
        case 'VM_FUNCTION_CONTROLS':
          return gatedBy(field, () => {
            const value = secondary();
            return value === undefined ? undefined : bitOf(value, SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS);
          });
        default:
          return view.get(field);
      }
    },
  };
}

/** Bits `high`:`low` of `value`. */
export function bits(value: bigint, high: number, low: number): bigint {
  return (value >> BigInt(low)) & ((1n << BigInt(high - low + 1)) - 1n);
}

/** True when bits 11:0 of `address` are 0 (4-KByte aligned), as the control-field addresses must be. */
export function pageAligned(address: bigint): boolean {
  return bits(address, 11, 0) === 0n;
}

/** The number of CR3-target values the processor supports, IA32_VMX_MISC[24:16] (Vol. 3D A.6 "Miscellaneous Data"). */
export function cr3TargetValuesSupported(profile: Profile): bigint {
  return bits(BigInt(profile.data.msrs.IA32_VMX_MISC), 24, VMX_MISC.CR3_TARGET_COUNT);
}

/** IA32_VMX_MISC[30]: VM entry may inject software interrupts and exceptions with instruction length 0 (A.6). */
export function zeroLengthInjectionAllowed(profile: Profile): boolean {
  return bitOf(BigInt(profile.data.msrs.IA32_VMX_MISC), VMX_MISC.ZERO_LENGTH_INJECTION);
}

/**
 * IA32_VMX_BASIC[56]: VM entry may deliver a hardware exception with or without an error code,
 * whatever its vector (Vol. 3D A.1 "Basic VMX Information").
 */
export function errorCodeCheckRelaxed(profile: Profile): boolean {
  return bitOf(BigInt(profile.data.msrs.IA32_VMX_BASIC), VMX_BASIC.ERROR_CODE_CHECK_RELAXED);
}

/**
 * Whether the processor supports FRED (CPUID.(EAX=07H,ECX=1):EAX[17]). No profile here records
 * it, and none models FRED (see SECONDARY_EXIT_CONTROL in spec/control-bits.ts): always false,
 * so the FRED variants of the event-injection checks never apply and the classic ones always do.
 */
export function fredSupported(_profile: Profile): boolean {
  return false;
}

/** "Unrestricted guest" in the secondary controls in effect. */
export function unrestrictedGuest(secondary: bigint): boolean {
  return bitOf(secondary, SECONDARY_CONTROL.UNRESTRICTED_GUEST);
}

/**
 * The guest will be in protected mode as the event-injection checks read it: "unrestricted
 * guest" is 0 (then CR0.PE must be 1 anyway) or bit 0 (CR0.PE) of the guest CR0 field is 1
 * (§27.2.1.3 "VM-Entry Control Fields").
 */
export function protectedModeGuest(secondary: bigint, guestCr0: bigint): boolean {
  return !unrestrictedGuest(secondary) || bitOf(guestCr0, CR0_PE_BIT);
}

/** The parts of a VM-entry interruption-information field (§25.8.3 "VM-Entry Controls for Event Injection"). */
export interface Interruption {
  valid: boolean;
  type: bigint;
  vector: bigint;
  deliverErrorCode: boolean;
}

/** `info` decoded. */
export function interruption(info: bigint): Interruption {
  return {
    valid: bitOf(info, INTERRUPTION_INFO.VALID),
    type: bits(info, INTERRUPTION_INFO.TYPE + 2, INTERRUPTION_INFO.TYPE),
    vector: bits(info, INTERRUPTION_INFO.TYPE - 1, INTERRUPTION_INFO.VECTOR),
    deliverErrorCode: bitOf(info, INTERRUPTION_INFO.DELIVER_ERROR_CODE),
  };
}

/** The parts of an EPTP the VM-entry checks test (§25.6.11 "Extended-Page-Table Pointer (EPTP)"). */
export interface EptpParts {
  memoryType: bigint;
  walkLengthMinus1: bigint;
  accessedDirty: boolean;
  supervisorShadowStack: boolean;
  reservedLow: bigint;
}

/** `eptp` decoded. */
export function eptpParts(eptp: bigint): EptpParts {
  return {
    memoryType: bits(eptp, EPTP.WALK_LENGTH_MINUS_1 - 1, EPTP.MEMORY_TYPE),
    walkLengthMinus1: bits(eptp, EPTP.ACCESSED_DIRTY - 1, EPTP.WALK_LENGTH_MINUS_1),
    accessedDirty: bitOf(eptp, EPTP.ACCESSED_DIRTY),
    supervisorShadowStack: bitOf(eptp, EPTP.SUPERVISOR_SHADOW_STACK),
    reservedLow: bits(eptp, EPTP.ADDRESS - 1, EPTP.RESERVED_LOW),
  };
}
