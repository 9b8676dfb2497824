/**
 * The layouts of the VMX control fields that are not plain bit vectors of controls: the
 * extended-page-table pointer, the VM-entry interruption-information field, the TPR threshold and
 * the VTPR byte of the virtual-APIC page, and the exception vectors the event-injection checks
 * name. The control bit vectors themselves are in control-bits.ts.
 *
 * Sources (SDM, December 2023): Vol. 3C §25.6.8 "Controls for APIC Virtualization", §25.6.11
 * "Extended-Page-Table Pointer (EPTP)" (the table "Format of Extended-Page-Table Pointer"),
 * §25.8.3 "VM-Entry Controls for Event Injection" (the table "Format of the VM-Entry
 * Interruption-Information Field"), §30.1.1 "Virtualized APIC Registers" (VTPR at offset 80H),
 * §27.2.1.3 "VM-Entry Control Fields" (the exceptions that deliver an error code); Vol. 3A §6.15
 * "Exception and Interrupt Reference" for the vector numbers. The FRED bits are from Intel's
 * "Flexible Return and Event Delivery (FRED)" specification, not in the December 2023 SDM.
 */
import { CR0_BIT, CR4_BIT } from './control-registers.ts';

/** The extended-page-table pointer (VMCS field 201AH). Multi-bit fields give their lowest bit. */
export const EPTP = {
  /** Bits 2:0: EPT paging-structure memory type (0 UC, 6 WB; other values reserved). */
  MEMORY_TYPE: 0,
  /** Bits 5:3: one less than the EPT page-walk length. */
  WALK_LENGTH_MINUS_1: 3,
  /** Bit 6: accessed and dirty flags for EPT enabled. */
  ACCESSED_DIRTY: 6,
  /** Bit 7: supervisor shadow-stack control enabled. */
  SUPERVISOR_SHADOW_STACK: 7,
  /** Bits 11:8: reserved, 0. */
  RESERVED_LOW: 8,
  /** Bits N-1:12: the EPT PML4 (or PML5) table's physical address; N is the physical-address width. */
  ADDRESS: 12,
} as const;

/** The EPT paging-structure memory types EPTP bits 2:0 may name. */
export const EPT_MEMORY_TYPE = { UC: 0n, WB: 6n } as const;

/** EPTP bits 5:3 for a 4-level and a 5-level EPT page walk (the page-walk length minus 1). */
export const EPT_WALK_LENGTH_MINUS_1 = { FOUR_LEVEL: 3n, FIVE_LEVEL: 4n } as const;

/** The VM-entry interruption-information field (VMCS field 4016H). Multi-bit fields give their lowest bit. */
export const INTERRUPTION_INFO = {
  /** Bits 7:0: vector of the interrupt or exception. */
  VECTOR: 0,
  /** Bits 10:8: interruption type ({@link INTERRUPTION_TYPE}). */
  TYPE: 8,
  /** Bit 11: deliver error code (push the VM-entry exception error code). */
  DELIVER_ERROR_CODE: 11,
  /** Bits 30:12: reserved, 0 (bit 13, "nested exception", is defined on FRED processors). */
  RESERVED: 12,
  /** Bit 13 on FRED processors: the injected event is a nested exception. */
  FRED_NESTED_EXCEPTION: 13,
  /** Bit 31: valid (inject an event on VM entry). */
  VALID: 31,
} as const;

/** Mask of bits 30:12 of the interruption-information field, the reserved bits. */
export const INTERRUPTION_INFO_RESERVED_MASK = 0x7fff_f000n;

/** Interruption types, bits 10:8 of the VM-entry interruption-information field. */
export const INTERRUPTION_TYPE = {
  EXTERNAL_INTERRUPT: 0n,
  /** Reserved on every processor. */
  RESERVED: 1n,
  NMI: 2n,
  HARDWARE_EXCEPTION: 3n,
  SOFTWARE_INTERRUPT: 4n,
  PRIVILEGED_SOFTWARE_EXCEPTION: 5n,
  SOFTWARE_EXCEPTION: 6n,
  /** Other event: a pending MTF VM exit (vector 0); with FRED also SYSCALL (1) and SYSENTER (2). */
  OTHER_EVENT: 7n,
} as const;

/** The vectors an "other event" may carry (vectors 1 and 2 only on FRED processors). */
export const OTHER_EVENT_VECTOR = { PENDING_MTF: 0n, SYSCALL: 1n, SYSENTER: 2n } as const;

/** Exception vectors named by the VM-entry checks (Vol. 3A Table 6-1). */
export const EXCEPTION_VECTOR = {
  NMI: 2n,
  DOUBLE_FAULT: 8n,
  INVALID_TSS: 10n,
  SEGMENT_NOT_PRESENT: 11n,
  STACK_FAULT: 12n,
  GENERAL_PROTECTION: 13n,
  PAGE_FAULT: 14n,
  ALIGNMENT_CHECK: 17n,
  /** Vectors 0-31 are the architecture's exceptions; a hardware exception's vector is at most this. */
  LAST_EXCEPTION: 31n,
} as const;

/** The exceptions that deliver an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC (§27.2.1.3). */
export const ERROR_CODE_VECTORS: readonly bigint[] = [
  EXCEPTION_VECTOR.DOUBLE_FAULT,
  EXCEPTION_VECTOR.INVALID_TSS,
  EXCEPTION_VECTOR.SEGMENT_NOT_PRESENT,
  EXCEPTION_VECTOR.STACK_FAULT,
  EXCEPTION_VECTOR.GENERAL_PROTECTION,
  EXCEPTION_VECTOR.PAGE_FAULT,
  EXCEPTION_VECTOR.ALIGNMENT_CHECK,
];

/**
 * The VM-entry exception error code (VMCS field 4018H): bits 31:16 must be 0 when an error code
 * is delivered; the 2008 and 2016 texts print 31:15 (see the event-injection checks).
 */
export const EXCEPTION_ERROR_CODE = {
  /** Lowest bit of the range every text and processor reserves (31:16). */
  RESERVED_LOW: 16,
  /** The bit only the older printed texts reserve. */
  DISPUTED: 15,
} as const;

/** The posted-interrupt notification vector (VMCS field 0002H): a vector, so bits 15:8 are 0. */
export const POSTED_INTERRUPT_VECTOR_BITS = 8;

/** The longest instruction, and so the largest VM-entry instruction length (bytes). */
export const MAX_INSTRUCTION_LENGTH = 15n;

/** The virtual-APIC page (§25.6.8, §30.1.1). */
export const VIRTUAL_APIC = {
  /** Byte offset of VTPR, the virtual task-priority register, in the virtual-APIC page. */
  VTPR_OFFSET: 0x80n,
  /** VTPR bits 7:4: the priority class the TPR-threshold check compares with. */
  VTPR_PRIORITY_CLASS: 4,
} as const;

/** The TPR threshold (VMCS field 401CH): bits 3:0 are the threshold, bits 31:4 reserved. */
export const TPR_THRESHOLD = {
  /** Bits 3:0 hold the threshold; bits 31:4 are the reserved part above it. */
  THRESHOLD_BITS: 4,
} as const;

/** CR0.PE, bit 0: protection enable. */
export const CR0_PE_BIT = CR0_BIT.PE;

/** CR4.FRED, bit 32 (FRED specification): FRED event delivery enabled. */
export const CR4_FRED_BIT = CR4_BIT.FRED;
