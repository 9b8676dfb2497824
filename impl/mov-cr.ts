/**
 * MOV to CR0 and MOV to CR4 on a processor row (impl/cpu-row.ts): every #GP(0) check of the
 * instruction page and what a write changes. Sources, December 2023: SDM Vol. 2B "MOV—Move
 * to/from Control Registers" (Description; exceptions by mode); Vol. 3A §2.5 "Control Registers"
 * (ET hardwired to 1, LA57 fixed in IA-32e mode, PCIDE only in IA-32e mode, CET only with WP),
 * §4.1.2 "Paging-Mode Enabling", §4.4.1 "PDPTE Registers", §10.8.5 "Initializing IA-32e Mode";
 * Vol. 3C §24.8 "Restrictions on VMX Operation".
 *
 * Every check is int32 arithmetic on the row's halves: a value is (lo, hi), and hi is nonzero
 * only in 64-bit mode (outside it the source register has 32 bits and the upper half of the
 * control register becomes 0). Every defined CR0 flag and every CR4 flag these checks test lives
 * in bits 31:0, so only the reserved-bit checks look at hi. Nothing allocates.
 *
 * Choices the SDM leaves open (model/ accepts both outcomes):
 * - the VMX fixed bits are checked against the value CR0 takes (reserved bits 31:0 dropped, ET
 *   set), not against the source operand;
 * - TR is never a 16-bit TSS here (nothing loads TR), so only CS.L = 1 stops IA-32e activation.
 */
import { CR0_BIT, CR4_BIT, PDPTE_BIT } from '../spec/control-registers.ts';
import {
  S_CPL,
  S_CR0_HI,
  S_CR0_LO,
  S_CR3_LO,
  S_CR4_HI,
  S_CR4_LO,
  S_CSL,
  S_IN_VMX,
  S_LMA,
  S_LME,
  S_VM,
  S_WIDE,
} from './cpu-row.ts';
import type { PhysicalMemory } from './memory.ts';
import type { ProfileFacts } from './profile-facts.ts';
import { STATUS_GP, STATUS_SUCCEED } from './status.ts';

const PE = 1 << CR0_BIT.PE;
const ET = 1 << CR0_BIT.ET;
const WP = 1 << CR0_BIT.WP;
const NW = 1 << CR0_BIT.NW;
const CD = 1 << CR0_BIT.CD;
const PG = 1 << CR0_BIT.PG;
/** CR0 bits 31:0 a write keeps; the rest of 31:0 is reserved and ignored. */
const CR0_KEPT = Object.values(CR0_BIT).reduce((mask: number, position) => mask | (1 << position), 0);

const PSE = 1 << CR4_BIT.PSE;
const PAE = 1 << CR4_BIT.PAE;
const PGE = 1 << CR4_BIT.PGE;
const LA57 = 1 << CR4_BIT.LA57;
const VMXE = 1 << CR4_BIT.VMXE;
const PCIDE = 1 << CR4_BIT.PCIDE;
const SMEP = 1 << CR4_BIT.SMEP;
const CET = 1 << CR4_BIT.CET;

const PDPTE_PRESENT = 1 << PDPTE_BIT.P;
const PDPTE_RESERVED_LO = PDPTE_BIT.RESERVED_LOW.reduce((mask: number, position: number) => mask | (1 << position), 0);

/**
 * MOV to CR0 on the row at `b`; returns STATUS_SUCCEED or STATUS_GP. The caller refreshes its
 * caches. `fixedExempt` marks CR0 bits 31:0 the VMX fixed-bit check skips (in VMX non-root
 * operation: the bits the guest/host mask owns, and PE and PG under "unrestricted guest",
 * SDM Vol. 3C §26.3 "Changes to Instruction Behavior in VMX Non-Root Operation").
 */
export function movToCr0(
  s: Int32Array,
  b: number,
  memory: PhysicalMemory,
  facts: ProfileFacts,
  valueLo: number,
  valueHi: number,
  fixedExempt = 0,
): number {
  if (s[b + S_VM] === 1 || s[b + S_CPL] !== 0) return STATUS_GP;
  const wide = s[b + S_WIDE] === 1;
  if (wide && valueHi !== 0) return STATUS_GP;
  const value = valueLo | 0;
  const old = s[b + S_CR0_LO] as number;
  const cr4 = s[b + S_CR4_LO] as number;
  if ((value & PG) !== 0 && (value & PE) === 0) return STATUS_GP;
  if ((value & NW) !== 0 && (value & CD) === 0) return STATUS_GP;
  if (wide && (value & PG) === 0) return STATUS_GP;
  const settingPg = (value & ~old & PG) !== 0;
  const clearingPg = (old & ~value & PG) !== 0;
  if (clearingPg && (cr4 & PCIDE) !== 0) return STATUS_GP;
  if ((value & WP) === 0 && (cr4 & CET) !== 0) return STATUS_GP;
  const lme = s[b + S_LME] as number;
  if (settingPg && lme === 1 && ((cr4 & PAE) === 0 || s[b + S_CSL] === 1)) return STATUS_GP;
  // PAE paging after the write (PG = 1, PAE = 1, LME = 0) and CD, NW or PG changed: PDPTEs load.
  if (lme === 0 && (value & PG) !== 0 && (cr4 & PAE) !== 0 && ((value ^ old) & (CD | NW | PG)) !== 0) {
    if (pdptesBad(memory, s[b + S_CR3_LO] as number, facts.physicalHiBad)) return STATUS_GP;
  }
  const cr0 = (value & CR0_KEPT) | ET;
  if (s[b + S_IN_VMX] !== 0) {
    const fixed0 = facts.cr0Fixed0;
    const fixed1 = facts.cr0Fixed1;
    const mustBeOne = fixed0[0] & ~fixedExempt;
    if ((cr0 & mustBeOne) !== mustBeOne || fixed0[1] !== 0 || (cr0 & ~fixed1[0] & ~fixedExempt) !== 0) return STATUS_GP;
  }
  s[b + S_CR0_LO] = cr0;
  s[b + S_CR0_HI] = 0;
  if (settingPg && lme === 1) s[b + S_LMA] = 1;
  else if (clearingPg) s[b + S_LMA] = 0;
  return STATUS_SUCCEED;
}

/**
 * MOV to CR4 on the row at `b`; returns STATUS_SUCCEED or STATUS_GP. `fixedExemptLo/Hi` mark the
 * bits the VMX fixed-bit check skips (the CR4 guest/host mask in VMX non-root operation, §26.3).
 */
export function movToCr4(
  s: Int32Array,
  b: number,
  memory: PhysicalMemory,
  facts: ProfileFacts,
  valueLo: number,
  valueHi: number,
  fixedExemptLo = 0,
  fixedExemptHi = 0,
): number {
  if (s[b + S_VM] === 1 || s[b + S_CPL] !== 0) return STATUS_GP;
  const value = valueLo | 0;
  const hi = s[b + S_WIDE] === 1 ? valueHi | 0 : 0;
  const [supportedLo, supportedHi] = facts.cr4Supported;
  if ((value & ~supportedLo) !== 0 || (hi & ~supportedHi) !== 0) return STATUS_GP;
  const old = s[b + S_CR4_LO] as number;
  const ia32e = s[b + S_LMA] === 1;
  if (!ia32e && (value & PCIDE) !== 0) return STATUS_GP;
  if ((value & ~old & PCIDE) !== 0 && ((s[b + S_CR3_LO] as number) & 0xfff) !== 0) return STATUS_GP;
  if (ia32e && ((value & PAE) === 0 || ((value ^ old) & LA57) !== 0)) return STATUS_GP;
  const cr0 = s[b + S_CR0_LO] as number;
  if ((value & CET) !== 0 && (cr0 & WP) === 0) return STATUS_GP;
  // PAE paging after the write and PAE, PGE, PSE or SMEP changed: PDPTEs load.
  if (s[b + S_LME] === 0 && (cr0 & PG) !== 0 && (value & PAE) !== 0 && ((value ^ old) & (PAE | PGE | PSE | SMEP)) !== 0) {
    if (pdptesBad(memory, s[b + S_CR3_LO] as number, facts.physicalHiBad)) return STATUS_GP;
  }
  if (s[b + S_IN_VMX] !== 0) {
    const mustLo = facts.cr4Fixed0[0] & ~fixedExemptLo;
    const mustHi = facts.cr4Fixed0[1] & ~fixedExemptHi;
    const fixed1 = facts.cr4Fixed1;
    if (
      ((value & VMXE) === 0 && (fixedExemptLo & VMXE) === 0) ||
      (value & mustLo) !== mustLo ||
      (hi & mustHi) !== mustHi ||
      (value & ~fixed1[0] & ~fixedExemptLo) !== 0 ||
      (hi & ~fixed1[1] & ~fixedExemptHi) !== 0
    ) {
      return STATUS_GP;
    }
  }
  s[b + S_CR4_LO] = value;
  s[b + S_CR4_HI] = hi;
  return STATUS_SUCCEED;
}

/**
 * A present PDPTE of the 32-byte-aligned table at CR3[31:5] sets a reserved bit: 2:1 or 8:5 in
 * the low half, or in the high half a bit at or above the physical-address width (`hiReserved`).
 */
export function pdptesBad(memory: PhysicalMemory, cr3Lo: number, hiReserved: number): boolean {
  const table = (cr3Lo & ~0x1f) >>> 0;
  for (let at = table; at !== table + 32; at += 8) {
    const lo = memory.read32(at, 0);
    if ((lo & PDPTE_PRESENT) !== 0 && ((lo & PDPTE_RESERVED_LO) !== 0 || (memory.read32(at + 4, 0) & hiReserved) !== 0)) return true;
  }
  return false;
}
