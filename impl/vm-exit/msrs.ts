/**
 * The MSRs impl/ keeps per logical processor, read and written as RDMSR and WRMSR at CPL 0 would
 * (SDM Vol. 2B, December 2023, "RDMSR—Read From Model Specific Register" and "WRMSR—Write to Model
 * Specific Register"; the MSRs' layouts in Vol. 4 Table 2-2 "IA-32 Architectural MSRs"). They are
 * the MSRs VM entries and VM exits load and save through VMCS fields (SDM Vol. 3C, December 2023,
 * §27.3.2.1 "Loading Guest Control Registers, Debug Registers, and MSRs", §28.3.1 "Saving Control
 * Registers, Debug Registers, and MSRs", §28.5.1 "Loading Host Control Registers, Debug Registers,
 * MSRs"), so that the MSR-load and MSR-store areas (§27.4 "Loading MSRs", §28.4 "Saving MSRs",
 * §28.6 "Loading MSRs") and guest RDMSR/WRMSR see the same values.
 *
 * Values live in the processor row (impl/cpu-row.ts): IA32_EFER (LME and LMA in their own words),
 * IA32_PAT, IA32_DEBUGCTL, IA32_SYSENTER_CS/ESP/EIP, IA32_PERF_GLOBAL_CTRL, IA32_BNDCFGS,
 * IA32_FEATURE_CONTROL; the VMX capability MSRs read the profile. Any other index is
 * {@link MSR_UNKNOWN}: its value is not modelled, and each caller says what that means for it.
 *
 * Choices (impl/README.md lists them): the #GP conditions are the architectural reserved bits
 * only (IA32_EFER: every bit but SCE, LME, LMA, NXE; IA32_DEBUGCTL: bits 5:3 and 63:16;
 * IA32_PERF_GLOBAL_CTRL: every bit but 7:0 and 34:32, as the VM-entry checks read them); a write
 * to IA32_EFER ignores LMA and is #GP when it would change LME while CR0.PG = 1; IA32_SYSENTER_CS
 * keeps bits 31:0 only.
 */
import { MSR } from '../../spec/capability-msrs.ts';
import { CR0, EFER } from '../../spec/guest-state-bits.ts';
import {
  S_BNDCFGS_HI,
  S_BNDCFGS_LO,
  S_CR0_LO,
  S_DEBUGCTL_HI,
  S_DEBUGCTL_LO,
  S_EFER_HI,
  S_EFER_LO,
  S_FC_HI,
  S_FC_LO,
  S_LMA,
  S_LME,
  S_PAT_HI,
  S_PAT_LO,
  S_PERF_GLOBAL_CTRL_HI,
  S_PERF_GLOBAL_CTRL_LO,
  S_SYSENTER_CS,
  S_SYSENTER_EIP_HI,
  S_SYSENTER_EIP_LO,
  S_SYSENTER_ESP_HI,
  S_SYSENTER_ESP_LO,
} from '../cpu-row.ts';
import type { ExitFacts } from './exit-facts.ts';

/** Architectural MSR indices (Vol. 4 Table 2-2), as int32. */
export const MSR_INDEX = {
  IA32_FEATURE_CONTROL: MSR.IA32_FEATURE_CONTROL,
  IA32_SMM_MONITOR_CTL: 0x9b,
  IA32_SMBASE: 0x9e,
  IA32_SYSENTER_CS: 0x174,
  IA32_SYSENTER_ESP: 0x175,
  IA32_SYSENTER_EIP: 0x176,
  IA32_DEBUGCTL: 0x1d9,
  IA32_PAT: 0x277,
  IA32_PERF_GLOBAL_CTRL: 0x38f,
  IA32_BNDCFGS: 0xd90,
  IA32_EFER: 0xc000_0080 | 0,
  IA32_FS_BASE: 0xc000_0100 | 0,
  IA32_GS_BASE: 0xc000_0101 | 0,
} as const;

/** The access succeeded (RDMSR: value in `out`). */
export const MSR_OK = 0;
/** RDMSR/WRMSR at CPL 0 would cause #GP(0). */
export const MSR_GP = 1;
/** impl/ does not model this MSR. */
export const MSR_UNKNOWN = 2;

const LME = 1 << EFER.LME;
const LMA = 1 << EFER.LMA;
/** IA32_EFER bits that exist: SCE, LME, LMA, NXE. */
const EFER_DEFINED = (1 << EFER.SCE) | LME | LMA | (1 << EFER.NXE);
/** IA32_DEBUGCTL bits reserved on every processor: 5:3 (low half) and 63:16. */
const DEBUGCTL_RESERVED_LO = 0xffff_0038 | 0;
/** IA32_PERF_GLOBAL_CTRL: 8 general-purpose (7:0) and 3 fixed-function (34:32) counter enables. */
const PERF_DEFINED_LO = 0xff;
const PERF_DEFINED_HI = 0x7;
/** IA32_BNDCFGS bits 11:2 are reserved; bits 63:12 are a linear address. */
const BNDCFGS_RESERVED_LO = 0xffc;
/** IA32_FEATURE_CONTROL lock bit. */
const FEATURE_CONTROL_LOCK = 1;
/** IA32_PAT memory types 2 and 3 are reserved (bit n of this mask = type n is reserved). */
const PAT_RESERVED_TYPES = (1 << 2) | (1 << 3);

/** (lo, hi) is not canonical for 48 linear-address bits (bits 63:47 not all equal). */
function nonCanonical(hi: number): boolean {
  const top = hi >> 15;
  return top !== 0 && top !== -1;
}

/** Each byte of an IA32_PAT half is a memory type 0, 1, 4, 5, 6 or 7 (bits 7:3 of each byte 0). */
function patHalfValid(half: number): boolean {
  for (let shift = 0; shift < 32; shift += 8) {
    const type = (half >>> shift) & 0xff;
    if (type > 7 || ((PAT_RESERVED_TYPES >>> type) & 1) === 1) return false;
  }
  return true;
}

/** RDMSR of `index` on the row at `b`: MSR_OK with the value in out[at], out[at + 1], MSR_GP or MSR_UNKNOWN. */
export function readMsr(x: ExitFacts, s: Int32Array, b: number, index: number, out: Int32Array, at = 0): number {
  let lo = 0;
  let hi = 0;
  switch (index | 0) {
    case MSR_INDEX.IA32_EFER:
      lo = (s[b + S_EFER_LO] as number) | (s[b + S_LME] === 1 ? LME : 0) | (s[b + S_LMA] === 1 ? LMA : 0);
      hi = s[b + S_EFER_HI] as number;
      break;
    case MSR_INDEX.IA32_PAT:
      lo = s[b + S_PAT_LO] as number;
      hi = s[b + S_PAT_HI] as number;
      break;
    case MSR_INDEX.IA32_DEBUGCTL:
      lo = s[b + S_DEBUGCTL_LO] as number;
      hi = s[b + S_DEBUGCTL_HI] as number;
      break;
    case MSR_INDEX.IA32_SYSENTER_CS:
      lo = s[b + S_SYSENTER_CS] as number;
      break;
    case MSR_INDEX.IA32_SYSENTER_ESP:
      lo = s[b + S_SYSENTER_ESP_LO] as number;
      hi = s[b + S_SYSENTER_ESP_HI] as number;
      break;
    case MSR_INDEX.IA32_SYSENTER_EIP:
      lo = s[b + S_SYSENTER_EIP_LO] as number;
      hi = s[b + S_SYSENTER_EIP_HI] as number;
      break;
    case MSR_INDEX.IA32_PERF_GLOBAL_CTRL:
      lo = s[b + S_PERF_GLOBAL_CTRL_LO] as number;
      hi = s[b + S_PERF_GLOBAL_CTRL_HI] as number;
      break;
    case MSR_INDEX.IA32_BNDCFGS:
      if (!x.bndcfgsSupported) return MSR_GP;
      lo = s[b + S_BNDCFGS_LO] as number;
      hi = s[b + S_BNDCFGS_HI] as number;
      break;
    case MSR_INDEX.IA32_FEATURE_CONTROL:
      lo = s[b + S_FC_LO] as number;
      hi = s[b + S_FC_HI] as number;
      break;
    case MSR_INDEX.IA32_SMM_MONITOR_CTL:
      // Never written here (only SMM may write it): valid bit 0.
      break;
    case MSR_INDEX.IA32_SMBASE:
      // Readable only in SMM, and impl/ is never in SMM.
      return MSR_GP;
    default: {
      const capability = (index | 0) - MSR.IA32_VMX_BASIC;
      if (capability < 0 || capability >= x.capabilityPresent.length) return MSR_UNKNOWN;
      if (x.capabilityPresent[capability] === 0) return MSR_GP;
      lo = x.capabilityValues[2 * capability] as number;
      hi = x.capabilityValues[2 * capability + 1] as number;
    }
  }
  out[at] = lo;
  out[at + 1] = hi;
  return MSR_OK;
}

/** WRMSR of (lo, hi) to `index` on the row at `b`: MSR_OK (written), MSR_GP or MSR_UNKNOWN (nothing written). */
export function writeMsr(x: ExitFacts, s: Int32Array, b: number, index: number, lo: number, hi: number): number {
  switch (index | 0) {
    case MSR_INDEX.IA32_EFER: {
      if ((lo & ~EFER_DEFINED) !== 0 || hi !== 0) return MSR_GP;
      const lme = (lo & LME) !== 0 ? 1 : 0;
      // Changing LME while paging is enabled is #GP (Vol. 3A §10.8.5 "Initializing IA-32e Mode").
      if (lme !== s[b + S_LME] && ((s[b + S_CR0_LO] as number) >>> CR0.PG) & 1) return MSR_GP;
      s[b + S_LME] = lme;
      s[b + S_EFER_LO] = lo & ~(LME | LMA);
      s[b + S_EFER_HI] = 0;
      return MSR_OK;
    }
    case MSR_INDEX.IA32_PAT:
      if (!patHalfValid(lo) || !patHalfValid(hi)) return MSR_GP;
      s[b + S_PAT_LO] = lo;
      s[b + S_PAT_HI] = hi;
      return MSR_OK;
    case MSR_INDEX.IA32_DEBUGCTL:
      if ((lo & DEBUGCTL_RESERVED_LO) !== 0 || hi !== 0) return MSR_GP;
      s[b + S_DEBUGCTL_LO] = lo;
      s[b + S_DEBUGCTL_HI] = 0;
      return MSR_OK;
    case MSR_INDEX.IA32_SYSENTER_CS:
      s[b + S_SYSENTER_CS] = lo;
      return MSR_OK;
    case MSR_INDEX.IA32_SYSENTER_ESP:
      if (nonCanonical(hi)) return MSR_GP;
      s[b + S_SYSENTER_ESP_LO] = lo;
      s[b + S_SYSENTER_ESP_HI] = hi;
      return MSR_OK;
    case MSR_INDEX.IA32_SYSENTER_EIP:
      if (nonCanonical(hi)) return MSR_GP;
      s[b + S_SYSENTER_EIP_LO] = lo;
      s[b + S_SYSENTER_EIP_HI] = hi;
      return MSR_OK;
    case MSR_INDEX.IA32_PERF_GLOBAL_CTRL:
      if ((lo & ~PERF_DEFINED_LO) !== 0 || (hi & ~PERF_DEFINED_HI) !== 0) return MSR_GP;
      s[b + S_PERF_GLOBAL_CTRL_LO] = lo;
      s[b + S_PERF_GLOBAL_CTRL_HI] = hi;
      return MSR_OK;
    case MSR_INDEX.IA32_BNDCFGS:
      if (!x.bndcfgsSupported || (lo & BNDCFGS_RESERVED_LO) !== 0 || nonCanonical(hi)) return MSR_GP;
      s[b + S_BNDCFGS_LO] = lo;
      s[b + S_BNDCFGS_HI] = hi;
      return MSR_OK;
    case MSR_INDEX.IA32_FEATURE_CONTROL:
      if (((s[b + S_FC_LO] as number) & FEATURE_CONTROL_LOCK) !== 0) return MSR_GP;
      s[b + S_FC_LO] = lo;
      s[b + S_FC_HI] = hi;
      return MSR_OK;
    case MSR_INDEX.IA32_SMM_MONITOR_CTL:
    case MSR_INDEX.IA32_SMBASE:
      // Writable only in SMM.
      return MSR_GP;
    default: {
      const capability = (index | 0) - MSR.IA32_VMX_BASIC;
      // The VMX capability MSRs are read-only.
      if (capability >= 0 && capability < x.capabilityPresent.length) return MSR_GP;
      return MSR_UNKNOWN;
    }
  }
}
