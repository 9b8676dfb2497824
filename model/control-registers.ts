/**
 * CR0 and CR4 flags as BigInt single-bit values, named after spec/control-registers.ts, and the
 * paging facts MOV to CR0 and CR4 consult: which paging mode follows a write (SDM Vol. 3A,
 * December 2023, §4.1.1 "Four Paging Modes": PAE paging when CR0.PG = 1, CR4.PAE = 1 and
 * IA32_EFER.LME = 0) and whether the PAE page-directory-pointer table in memory has a present
 * entry with a reserved bit set (§4.4.1 "PDPTE Registers", Table 4-8: bits 2:1, 8:5 and
 * 63:MAXPHYADDR are reserved; the table is 32-byte aligned at CR3[31:5], Table 4-7 "Use of CR3
 * with PAE Paging").
 */
import { CR0_BIT, CR4_BIT, PDPTE_BIT } from '../spec/control-registers.ts';
import { readWord } from './memory.ts';
import type { CpuState, ModelState } from './state.ts';

const bit = (position: number): bigint => 1n << BigInt(position);

/** CR0 flags. */
export const CR0 = {
  PE: bit(CR0_BIT.PE),
  ET: bit(CR0_BIT.ET),
  WP: bit(CR0_BIT.WP),
  NW: bit(CR0_BIT.NW),
  CD: bit(CR0_BIT.CD),
  PG: bit(CR0_BIT.PG),
} as const;

/** CR0 bits 31:0 that are not reserved: every flag of CR0_BIT. */
export const CR0_DEFINED_LOW = Object.values(CR0_BIT).reduce((mask, position) => mask | bit(position), 0n);

/** CR4 flags. */
export const CR4 = {
  PSE: bit(CR4_BIT.PSE),
  PAE: bit(CR4_BIT.PAE),
  PGE: bit(CR4_BIT.PGE),
  LA57: bit(CR4_BIT.LA57),
  VMXE: bit(CR4_BIT.VMXE),
  PCIDE: bit(CR4_BIT.PCIDE),
  SMEP: bit(CR4_BIT.SMEP),
  CET: bit(CR4_BIT.CET),
} as const;

/** True when PAE paging is in use with these CR0, CR4 and IA32_EFER.LME values (§4.1.1). */
export function paePaging(cr0: bigint, cr4: bigint, eferLme: number): boolean {
  return (cr0 & CR0.PG) !== 0n && (cr4 & CR4.PAE) !== 0n && eferLme === 0;
}

/**
 * True when one of the four PDPTEs at CR3[31:5] is present (bit 0) and sets a reserved bit:
 * 2:1, 8:5, or 63:MAXPHYADDR (the profile's physical-address width). Loading them then fails
 * with #GP(0) (§4.4.1).
 */
export function pdptesHaveReservedBits(state: ModelState, cpu: CpuState): boolean {
  const table = cpu.cr3 & 0xffff_ffe0n;
  const aboveWidth = ~(bit(state.profile.data.physicalAddressWidth) - 1n) & 0xffff_ffff_ffff_ffffn;
  const reserved = PDPTE_BIT.RESERVED_LOW.reduce((mask, position) => mask | bit(position), aboveWidth);
  for (let index = 0n; index < 4n; index++) {
    const at = table + index * 8n;
    const entry = BigInt(readWord(state, at) >>> 0) | (BigInt(readWord(state, at + 4n) >>> 0) << 32n);
    if ((entry & bit(PDPTE_BIT.P)) !== 0n && (entry & reserved) !== 0n) return true;
  }
  return false;
}
