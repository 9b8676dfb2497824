/**
 * Bit positions of CR0 and CR4 that MOV to CR0 and CR4 consult, and of a
 * PAE page-directory-pointer-table entry: SDM Vol. 3A, December 2023, §2.5 "Control Registers"
 * (Figure 2-7 "Control Registers") and §4.4.1 "PDPTE
 * Registers" (Table 4-8 "Format of a PAE Page-Directory-Pointer-Table Entry (PDPTE)").
 *
 * Positions, not masks: model/ builds BigInt masks from them, impl/ int32 masks.
 */

/** CR0 flags (bits 63:32 and every bit not named here are reserved). */
export const CR0_BIT = {
  /** Protection Enable. */
  PE: 0,
  /** Monitor Coprocessor. */
  MP: 1,
  /** Emulation. */
  EM: 2,
  /** Task Switched. */
  TS: 3,
  /** Extension Type: hardwired to 1 on P6-family, Pentium 4 and later processors. */
  ET: 4,
  /** Numeric Error. */
  NE: 5,
  /** Write Protect. */
  WP: 16,
  /** Alignment Mask. */
  AM: 18,
  /** Not Write-through. */
  NW: 29,
  /** Cache Disable. */
  CD: 30,
  /** Paging. */
  PG: 31,
} as const;

/** CR4 flags this project names (which of all CR4 bits a processor supports is a profile fact). */
export const CR4_BIT = {
  /** Page Size Extensions. */
  PSE: 4,
  /** Physical Address Extension. */
  PAE: 5,
  /** Page Global Enable. */
  PGE: 7,
  /** User-Mode Instruction Prevention: SGDT, SIDT, SLDT, SMSW and STR are #GP(0) at CPL > 0. */
  UMIP: 11,
  /** 57-bit linear addresses (5-level paging); cannot be modified in IA-32e mode. */
  LA57: 12,
  /** VMX-Enable. */
  VMXE: 13,
  /** SMX-Enable. */
  SMXE: 14,
  /** PCID-Enable; can be set only in IA-32e mode. */
  PCIDE: 17,
  /** XSAVE and Processor Extended States Enable. */
  OSXSAVE: 18,
  /** Supervisor-Mode Execution Prevention. */
  SMEP: 20,
  /** Control-flow Enforcement Technology; can be set only with CR0.WP = 1. */
  CET: 23,
  /** FRED event delivery enabled (from the FRED specification; not in the December 2023 SDM). */
  FRED: 32,
} as const;

/** A PAE PDPTE: the present bit, and the reserved bits below bit 12 (2:1 and 8:5); bits 63:MAXPHYADDR are reserved too. */
export const PDPTE_BIT = {
  P: 0,
  RESERVED_LOW: [1, 2, 5, 6, 7, 8],
} as const;
