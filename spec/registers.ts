/**
 * Bits of the control registers and MSRs that the VM-entry checks on the host-state area name
 * (SDM Vol. 3C, December 2023, §27.2.2 "Checks on Host Control Registers, MSRs, and SSP" and
 * §27.2.4 "Checks Related to Address-Space Size"), so that model/ and impl/ use them by name.
 *
 * Bit positions: CR0 and CR4 as SDM Vol. 3A Figure 2-7 "Control Registers" shows them; IA32_EFER
 * as Vol. 3A Figure 2-4 (2016 numbering) "IA32_EFER MSR Layout" shows it; IA32_S_CET and
 * IA32_FRED_CONFIG as the catalogue's host CET and FRED checks describe them
 * (spec/entry-checks/host-control-registers.ts, after Bochs bochs/cpu/cet.cc and vmx.cc). The
 * figure numbers were not checked in a December 2023 copy.
 */
import { CR0_BIT, CR4_BIT } from './control-registers.ts';

const mask = (position: number): bigint => 1n << BigInt(position);

/** CR0 bits, as masks (positions in spec/control-registers.ts). */
export const CR0 = {
  PE: mask(CR0_BIT.PE),
  WP: mask(CR0_BIT.WP),
  NW: mask(CR0_BIT.NW),
  CD: mask(CR0_BIT.CD),
  PG: mask(CR0_BIT.PG),
} as const;

/** CR4 bits, as masks (CR4.VMXE is `CR4_VMXE` in capability-msrs.ts). */
export const CR4 = {
  PAE: mask(CR4_BIT.PAE),
  PCIDE: mask(CR4_BIT.PCIDE),
  CET: mask(CR4_BIT.CET),
} as const;

/** IA32_EFER (MSR C0000080H) bits. */
export const IA32_EFER = {
  /** SYSCALL enable. */
  SCE: 1n << 0n,
  /** IA-32e mode enable. */
  LME: 1n << 8n,
  /** IA-32e mode active. */
  LMA: 1n << 10n,
  /** Execute-disable bit enable; reserved when CPUID.80000001H:EDX[20] = 0 (execute-disable not supported or disabled). */
  NXE: 1n << 11n,
} as const;

/** IA32_S_CET (MSR 6A2H) bits the host checks name. */
export const IA32_S_CET = {
  /** Bits 9:6 are reserved. */
  RESERVED: 0xfn << 6n,
  /** Suppress indirect-branch tracking. */
  SUPPRESS: 1n << 10n,
  /** Indirect-branch tracker state: waiting for ENDBRANCH. */
  TRACKER: 1n << 11n,
} as const;

/** IA32_FRED_CONFIG (MSR 1D4H) bits the host checks name (catalogue, after Bochs). */
export const IA32_FRED_CONFIG = {
  /** Bits 2, 5:4 and 11 are reserved. */
  RESERVED: (1n << 2n) | (3n << 4n) | (1n << 11n),
} as const;

/** Fields of a segment selector (Vol. 3A "Segment Selectors"). */
export const SEGMENT_SELECTOR = {
  /** Bits 1:0: requested privilege level. */
  RPL: 0b11n,
  /** Bit 2: table indicator (1 = the LDT). */
  TI: 0b100n,
} as const;

/**
 * The memory types a byte of IA32_PAT may hold: 0 (UC), 1 (WC), 4 (WT), 5 (WP), 6 (WB), 7 (UC-);
 * 2 and 3 are reserved (§27.2.2, the "load IA32_PAT" check, lists exactly these).
 */
export const PAT_MEMORY_TYPES: readonly bigint[] = [0n, 1n, 4n, 5n, 6n, 7n];
