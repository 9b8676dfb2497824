/**
 * Bit layouts that event delivery through the guest IDT reads: paging-structure entries, EPT
 * paging-structure entries, gate and segment descriptors, the TSS, the RFLAGS bits delivery
 * changes, and the CR4 bits paging consults. Facts only (bit positions, offsets, type codes), in
 * our own words, with the SDM place each comes from (December 2023 numbering):
 *
 * - paging entries: Vol. 3A §4.3 "32-Bit Paging", §4.4 "PAE Paging", §4.5 "4-Level Paging and
 *   5-Level Paging" (the tables of entry formats), §4.8 "Accessed and Dirty Flags";
 * - EPT entries and EPTP: Vol. 3C §29.3.2 "EPT Translation Mechanism", §29.3.5 "Accessed and Dirty
 *   Flags for EPT", §25.6.11 "Extended-Page-Table Pointer (EPTP)";
 * - descriptors: Vol. 3A §3.4.5 "Segment Descriptors", §3.5 "System Descriptor Types",
 *   §6.11 "IDT Descriptors", §6.14.1 "64-Bit Mode IDT";
 * - TSS: Vol. 3A §8.2.1 "Task-State Segment (TSS)" (32-bit), §8.7 "Task Management in 64-bit
 *   Mode" (64-bit);
 * - RFLAGS: Vol. 3A §2.3 "System Flags and Fields in the EFLAGS Register";
 * - CR4: Vol. 3A §2.5 "Control Registers".
 */

/** Bits of a paging-structure entry of 32-bit, PAE and 4-level paging. */
export const PAGING_ENTRY = {
  /** Present. */
  P: 1n << 0n,
  /** Read/write: 0 forbids writes (user-mode always, supervisor-mode with CR0.WP = 1). */
  RW: 1n << 1n,
  /** User/supervisor: 0 forbids user-mode accesses. */
  US: 1n << 2n,
  /** Accessed. */
  A: 1n << 5n,
  /** Dirty (entries that map a page). */
  D: 1n << 6n,
  /** Page size: the entry maps a page (PDE, PDPTE of 4-level paging). */
  PS: 1n << 7n,
  /** Execute-disable (PAE and 4-level); reserved when IA32_EFER.NXE = 0. */
  XD: 1n << 63n,
} as const;

/** Bits of an EPT paging-structure entry and of the EPTP. */
export const EPT_ENTRY = {
  READ: 1n << 0n,
  WRITE: 1n << 1n,
  /** Execute (supervisor-mode linear addresses with "mode-based execute control"). */
  EXECUTE: 1n << 2n,
  /** Bits 5:3 of an entry that maps a page: the EPT memory type. */
  MEMORY_TYPE_SHIFT: 3n,
  /** Bits 6:3 of an EPT PML4E, and bits 6:3 of a non-leaf PDPTE/PDE, are reserved. */
  NON_LEAF_RESERVED: 0xfn << 3n,
  /** Page size: the entry maps a 1-GByte (PDPTE) or 2-MByte (PDE) page; reserved in a PML4E. */
  PS: 1n << 7n,
  /** Accessed, with EPTP bit 6. */
  A: 1n << 8n,
  /** Dirty (entries that map a page), with EPTP bit 6. */
  D: 1n << 9n,
  /** EPTP bits 5:3: page-walk length minus 1. */
  EPTP_WALK_LENGTH_SHIFT: 3n,
  /** EPTP bit 6: accessed and dirty flags enabled. */
  EPTP_AD: 1n << 6n,
} as const;

/** EPT memory types a leaf entry may hold: 0 (UC), 1 (WC), 4 (WT), 5 (WP), 6 (WB); 2, 3 and 7 are reserved. */
export const EPT_MEMORY_TYPES: readonly bigint[] = [0n, 1n, 4n, 5n, 6n];

/** The 4 KByte page offset mask, and the address bits of an entry above bit 12. */
export const PAGE_OFFSET = 0xfffn;

/** Descriptor-type codes (bits 11:8 of the descriptor's second doubleword) of system descriptors and gates. */
export const SYSTEM_DESCRIPTOR_TYPE = {
  TASK_GATE: 0x5,
  INTERRUPT_GATE_16: 0x6,
  TRAP_GATE_16: 0x7,
  TSS_16_BUSY: 0x3,
  TSS_BUSY: 0xb,
  /** 32-bit interrupt gate outside IA-32e mode; the 64-bit interrupt gate in IA-32e mode. */
  INTERRUPT_GATE: 0xe,
  /** 32-bit trap gate outside IA-32e mode; the 64-bit trap gate in IA-32e mode. */
  TRAP_GATE: 0xf,
} as const;

/** Bits of a segment descriptor's second doubleword (bits 63:32 of the descriptor). */
export const DESCRIPTOR_HIGH = {
  /** Bits 11:8: type; for code and data: bit 8 accessed, bit 9 writable/readable, bit 10 expand-down/conforming, bit 11 code. */
  TYPE_SHIFT: 8,
  ACCESSED: 1 << 8,
  WRITABLE: 1 << 9,
  EXPAND_DOWN_OR_CONFORMING: 1 << 10,
  CODE: 1 << 11,
  /** Bit 12: S (1 = code or data segment). */
  S: 1 << 12,
  /** Bits 14:13: DPL. */
  DPL_SHIFT: 13,
  /** Bit 15: P. */
  P: 1 << 15,
  /** Bit 21: L (64-bit code). */
  L: 1 << 21,
  /** Bit 22: D/B. */
  DB: 1 << 22,
  /** Bit 23: G (limit in 4 KByte units). */
  G: 1 << 23,
} as const;

/** Fields of an interrupt or trap gate (8 bytes; 16 in IA-32e mode). */
export const GATE = {
  /** Bits 2:0 of the second doubleword: the IST index (IA-32e mode). */
  IST_MASK: 0x7,
  /** Bytes of one IDT entry: 8 (protected mode), 16 (IA-32e mode), 4 (real-address mode IVT). */
  SIZE_PROTECTED: 8n,
  SIZE_IA32E: 16n,
  SIZE_REAL: 4n,
} as const;

/** Offsets in the 64-bit TSS: RSP0-RSP2 at 4, 12, 20; IST1-IST7 at 36 ... 84. */
export const TSS_64 = {
  RSP0: 4n,
  IST1: 36n,
} as const;

/** Offsets in the 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n. */
export const TSS_32 = {
  ESP0: 4n,
  SS0: 8n,
} as const;

/** RFLAGS bits event delivery reads or changes. */
export const RFLAGS_BIT = {
  TF: 1n << 8n,
  IF: 1n << 9n,
  NT: 1n << 14n,
  RF: 1n << 16n,
  VM: 1n << 17n,
  AC: 1n << 18n,
} as const;

/** CR4 bits the paging access rights depend on (positions per Vol. 3A §2.5). */
export const CR4_PAGING_BIT = {
  PSE: 1n << 4n,
  LA57: 1n << 12n,
  SMAP: 1n << 21n,
  PKE: 1n << 22n,
  CET: 1n << 23n,
  PKS: 1n << 24n,
} as const;

/** Segment access rights as the VMCS holds them (§25.4.1): bit 16 "unusable". */
export const ACCESS_RIGHTS_UNUSABLE = 1n << 16n;
