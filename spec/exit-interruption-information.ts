/**
 * The VM-exit interruption-information field (VMCS field 4404H) and the VM-exit interruption
 * error code (4406H). The field shares the VM-entry interruption-information layout of
 * spec/control-field-formats.ts for the vector (7:0), the type (10:8, same type numbers) and the
 * valid bit (31); bit 11 means "error code valid" instead of "deliver error code", and bit 12
 * reports NMI unblocking due to IRET.
 *
 * Sources: SDM Vol. 3C, December 2023, §25.9.2 "Information for VM Exits Due to Vectored Events"
 * (the table "Format of the VM-Exit Interruption-Information Field"), §28.2.2 "Information for VM
 * Exits Due to Vectored Events" (what a VM exit writes: bits 30:13 always 0, bit 31 always 1 for
 * the exits that use the field; for other exits bit 31 cleared and the rest undefined) and
 * §28.2.3 "Information About NMI Unblocking Due to IRET" (when bit 12 is defined). Read in the
 * 2008 text (Table 20-14 there) and the 2016 text; the section numbers are the December 2023 ones
 * (28.2.3 was inserted after 2016, moving the following subsections down by one).
 */
import { bit, bits, placeField } from './bit-fields.ts';
import type { BitField } from './bit-fields.ts';
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';
import { INTERRUPTION_INFO, INTERRUPTION_TYPE } from './control-field-formats.ts';

/** Where a VM exit's writes to the field are defined. */
export const EXIT_INTERRUPTION_INFORMATION_CITATION: Citation = sdm(
  '28.2.2',
  'Information for VM Exits Due to Vectored Events',
);

/** The VM-exit interruption-information field. */
export const EXIT_INTERRUPTION_INFO = {
  /** Bits 7:0: vector of the interrupt or exception. */
  VECTOR: bits(7, INTERRUPTION_INFO.VECTOR),
  /** Bits 10:8: interruption type (the numbers of {@link INTERRUPTION_TYPE}; 1, 4, 5 and 7 not used here). */
  TYPE: bits(10, INTERRUPTION_INFO.TYPE),
  /**
   * Bit 11: error code valid (the error code is in the VM-exit interruption error code): set for a
   * hardware exception that would have pushed an error code, and always 0 for a VM exit from
   * real-address mode (CR0.PE = 0), as the 2016 and later text adds.
   */
  ERROR_CODE_VALID: bit(11),
  /** Bit 12: NMI unblocking due to IRET. */
  NMI_UNBLOCKING_DUE_TO_IRET: bit(12),
  /** Bit 31: valid. */
  VALID: bit(INTERRUPTION_INFO.VALID),
} as const satisfies Record<string, BitField>;

/** The interruption types a VM exit reports in the field. */
export const EXIT_INTERRUPTION_TYPE = {
  EXTERNAL_INTERRUPT: Number(INTERRUPTION_TYPE.EXTERNAL_INTERRUPT),
  NMI: Number(INTERRUPTION_TYPE.NMI),
  HARDWARE_EXCEPTION: Number(INTERRUPTION_TYPE.HARDWARE_EXCEPTION),
  PRIVILEGED_SOFTWARE_EXCEPTION: Number(INTERRUPTION_TYPE.PRIVILEGED_SOFTWARE_EXCEPTION),
  SOFTWARE_EXCEPTION: Number(INTERRUPTION_TYPE.SOFTWARE_EXCEPTION),
} as const;

/** The named parts of a valid VM-exit interruption information. */
export interface ExitInterruptionParts {
  vector: number;
  type: (typeof EXIT_INTERRUPTION_TYPE)[keyof typeof EXIT_INTERRUPTION_TYPE];
  /** The exception pushed an error code (it is saved in the VM-exit interruption error code). */
  errorCodeValid: boolean;
  /**
   * Bit 12: set when the exit is due to a fault on IRET (other than a #DB for an instruction
   * breakpoint) and (virtual-)NMI blocking was in effect before it; undefined (so compared by
   * nobody) for a #DF exit, with "NMI exiting" 1 and "virtual NMIs" 0, or when the IDT-vectoring
   * information is valid; otherwise 0.
   */
  nmiUnblockingDueToIret?: boolean;
}

/** The field a VM exit due to a vectored event writes: valid, bits 30:13 zero. */
export function exitInterruptionInformation(parts: ExitInterruptionParts): number {
  const value =
    placeField(EXIT_INTERRUPTION_INFO.VECTOR, parts.vector, 'vector') |
    placeField(EXIT_INTERRUPTION_INFO.TYPE, parts.type, 'interruption type') |
    placeField(EXIT_INTERRUPTION_INFO.ERROR_CODE_VALID, parts.errorCodeValid ? 1 : 0, 'error code valid') |
    placeField(EXIT_INTERRUPTION_INFO.NMI_UNBLOCKING_DUE_TO_IRET, parts.nmiUnblockingDueToIret === true ? 1 : 0, 'NMI unblocking') |
    placeField(EXIT_INTERRUPTION_INFO.VALID, 1, 'valid');
  return Number(value);
}

/**
 * Mask of the bits a VM exit that does not use the field leaves defined: only bit 31, cleared
 * ("the field is marked invalid ... and the remainder of the field is undefined").
 */
export const EXIT_INTERRUPTION_INFO_INVALID_DEFINED_MASK = 1 << 31 >>> 0;
