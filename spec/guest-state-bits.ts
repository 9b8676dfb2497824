/**
 * Bit positions and values the checks on the guest-state area read: control registers, RFLAGS,
 * MSRs, the access-rights format, the guest non-register state and the VM-entry interruption-
 * information field. Named once here so that the model, the emulator and the generators use the
 * same names (the facts are the SDM's; the words are ours).
 *
 * Sources (SDM, December 2023 unless said otherwise):
 * - CR0, CR4: Vol. 3A §2.5 "Control Registers"; CR4.FRED (bit 32) from the FRED specification,
 *   as the KVM nested FRED patches (2025) and Bochs cpu/crregs.h use it.
 * - RFLAGS: Vol. 1 §3.4.3 "EFLAGS Register" (bits 1 fixed to 1; 3, 5, 15, 63:22 reserved).
 * - IA32_EFER, IA32_DEBUGCTL, IA32_PAT, IA32_BNDCFGS, IA32_S_CET: Vol. 4 Table 2-2 "IA-32
 *   Architectural MSRs"; PAT memory types Vol. 3A §13.12.2 "IA32_PAT MSR".
 * - Access rights: Vol. 3C §25.4.1 "Guest Register State" (the format of the access-rights fields).
 * - Activity and interruptibility state: Vol. 3C §25.4.2 "Guest Non-Register State".
 * - Pending debug exceptions: the same section (B0-B3 in 3:0, enabled breakpoint 12, BS 14, RTM 16).
 * - VM-entry interruption information: Vol. 3C §25.8.3 "VM-Entry Controls for Event Injection".
 * - VM-entry controls later than December 2023: "load IA32_FRED" (bit 23) as the KVM nested FRED
 *   patches define it, "load guest IA32_SPEC_CTRL" (bit 24) as Bochs cpu/vmx.h defines it.
 */
import { IA32_FRED_CONFIG, IA32_S_CET } from './registers.ts';

/** CR0 and CR4 bit positions: one table, spec/control-registers.ts. */
export { CR0_BIT as CR0, CR4_BIT as CR4 } from './control-registers.ts';

/** RFLAGS bits. */
export const RFLAGS = {
  /** Reserved, always 1. */
  FIXED_1: 1,
  /** Trap flag. */
  TF: 8,
  /** Interrupt-enable flag. */
  IF: 9,
  /** I/O privilege level, bits 13:12. */
  IOPL: 12,
  /** Virtual-8086 mode. */
  VM: 17,
} as const;

/** RFLAGS bits that are reserved to 0: 63:22, 15, 5 and 3. */
export const RFLAGS_RESERVED_ZERO = (~0n << 22n & 0xffff_ffff_ffff_ffffn) | (1n << 15n) | (1n << 5n) | (1n << 3n);

/** IA32_EFER bits. */
export const EFER = {
  /** SYSCALL enable. */
  SCE: 0,
  /** IA-32e mode enable. */
  LME: 8,
  /** IA-32e mode active. */
  LMA: 10,
  /** Execute-disable enable (reserved when the processor does not report execute-disable). */
  NXE: 11,
} as const;

/** IA32_DEBUGCTL bits every VMX processor defines. */
export const DEBUGCTL = {
  /** Last-branch recording. */
  LBR: 0,
  /** Single-step on branches. */
  BTF: 1,
} as const;

/** IA32_DEBUGCTL bits reserved on every processor: 5:3 and 63:16 (bit 2 and 15:6 depend on features). */
export const DEBUGCTL_ALWAYS_RESERVED = 0x38n | (0xffff_ffff_ffffn << 16n);

/** The memory types an IA32_PAT entry (one byte) may hold: UC, WC, WT, WP, WB, UC- (spec/registers.ts). */
export { PAT_MEMORY_TYPES } from './registers.ts';

/** IA32_BNDCFGS: bits 11:2 reserved; bits 63:12 the bound-directory base (a linear address). */
export const BNDCFGS_RESERVED = 0xffcn;

/** IA32_S_CET: bits 9:6 reserved, SUPPRESS (10), TRACKER (11), bits 63:12 the legacy-bitmap base. */
export const S_CET = {
  RESERVED: IA32_S_CET.RESERVED,
  SUPPRESS: 10,
  TRACKER: 11,
} as const;

/** IA32_FRED_CONFIG: reserved bits 2, 5:4 and 11; bits 63:12 the event-handler entry point. */
export const FRED_CONFIG_RESERVED = IA32_FRED_CONFIG.RESERVED;

/** Bits of a segment's access-rights field (guest CS, SS, ...). */
export const ACCESS_RIGHTS = {
  /** Descriptor privilege level, bits 6:5. */
  DPL: 5,
  /** 64-bit code segment (CS only). */
  L: 13,
} as const;

/** Values of the guest activity-state field. */
export const ACTIVITY_STATE = {
  ACTIVE: 0n,
  HLT: 1n,
  SHUTDOWN: 2n,
  WAIT_FOR_SIPI: 3n,
} as const;

/** Bits of the guest interruptibility-state field. */
export const INTERRUPTIBILITY = {
  BLOCKING_BY_STI: 0,
  BLOCKING_BY_MOV_SS: 1,
  BLOCKING_BY_SMI: 2,
  BLOCKING_BY_NMI: 3,
  ENCLAVE_INTERRUPTION: 4,
} as const;

/** Interruptibility bits reserved on every processor: 31:5 (bit 4 exists only with SGX). */
export const INTERRUPTIBILITY_RESERVED = 0xffff_ffe0n;

/** Bits of the guest pending-debug-exceptions field. */
export const PENDING_DEBUG = {
  /** Single-step (BS). */
  BS: 14,
} as const;

/** Bits of the pending-debug-exceptions field reserved to 0: 11:4, 13, 15 and 63:17. */
export const PENDING_DEBUG_RESERVED = 0xff0n | (1n << 13n) | (1n << 15n) | (~0n << 17n & 0xffff_ffff_ffff_ffffn);

/** The VM-entry interruption-information field: spec/control-field-formats.ts (INTERRUPTION_INFO, INTERRUPTION_TYPE). */
/** Interruption types of the VM-entry interruption-information field (spec/control-field-formats.ts). */
export { INTERRUPTION_TYPE } from './control-field-formats.ts';

/** Exception vectors the activity-state checks name. */
export const VECTOR = {
  /** Debug exception (#DB). */
  DB: 1n,
  /** Machine check (#MC). */
  MC: 18n,
  /** With type "other event": a pending MTF VM exit. */
  PENDING_MTF: 0n,
} as const;

/** VM-entry controls defined after the December 2023 SDM (see the file header for the sources). */
export const LATER_ENTRY_CONTROL = {
  LOAD_IA32_FRED: 23,
  LOAD_IA32_SPEC_CTRL: 24,
} as const;

/** The VMCS link pointer's value when it is not in use. */
export const LINK_POINTER_UNUSED = 0xffff_ffff_ffff_ffffn;

/** Bit 31 of the first 32 bits of a VMCS region: the shadow-VMCS indicator. */
export const SHADOW_VMCS_INDICATOR = 31;

/**
 * A PAE-paging PDPTE (Vol. 3A §4.4.1 "PDPTE Registers"): present (bit 0); reserved bits 2:1 and
 * 8:5, plus every bit at or above MAXPHYADDR (which depends on the processor).
 */
export const PDPTE = {
  P: 0,
  RESERVED: 0x6n | 0x1e0n,
} as const;
