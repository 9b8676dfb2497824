/**
 * Loading MSRs on VM entry: SDM Vol. 3C, December 2023, §27.4 "Loading MSRs", the catalogue group
 * `msr-load` (spec/entry-checks/msr-load.ts). The VM-entry MSR-load area (count entries of 16
 * bytes at the VM-entry MSR-load address: MSR index in bits 31:0, reserved bits 63:32, data in
 * bits 127:64) is read from physical memory entry by entry, in order; the first entry that fails
 * gives exit reason 34 with its 1-based index as exit qualification.
 *
 * An entry fails when its reserved bits 63:32 are set, or its index names IA32_FS_BASE or
 * IA32_GS_BASE, an x2APIC MSR (800H-8FFH), IA32_SMM_MONITOR_CTL (9BH, no SMM), a read-only VMX
 * capability MSR (480H-493H) or IA32_FEATURE_CONTROL (3AH, locked in VMX operation), or when WRMSR
 * of its data to an MSR impl/ keeps (impl/vm-exit/msrs.ts: IA32_EFER, IA32_PAT, IA32_DEBUGCTL, the
 * SYSENTER MSRs, IA32_PERF_GLOBAL_CTRL, IA32_BNDCFGS) would be #GP; such an MSR is written. Every
 * other MSR loads with no effect: impl/ refuses no MSR for model-specific reasons (impl/README.md).
 * A count above 512 * (IA32_VMX_MISC[27:25] + 1), which the SDM leaves undefined (Vol. 3D §A.6
 * "Miscellaneous Data"), fails at the first entry beyond that limit.
 */
import { MSR } from '../../spec/capability-msrs.ts';
import type { PhysicalMemory } from '../memory.ts';
import type { EntryFacts } from './facts.ts';
import type { GuestFacts } from './guest-facts.ts';
import type { ExitFacts } from '../vm-exit/exit-facts.ts';
import { assertLiterals } from '../literals.ts';
import { MSR_GP, writeMsr } from '../vm-exit/msrs.ts';

// Local copies of the helpers of vm-entry/vmcs-words.ts (a speed trick, impl/README.md "Local copies").
/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  MSR_IA32_FEATURE_CONTROL = 58,
  MSR_IA32_VMX_BASIC = 0x480,
  MSR_IA32_VMX_EXIT_CTLS2 = 0x493,
  IA32_FS_BASE = -0x3fffff00,
  IA32_GS_BASE = -0x3ffffeff,
  X2APIC_RANGE = 8,
  IA32_SMM_MONITOR_CTL = 155,
  FIRST_VMX_CAPABILITY_MSR = 0x480,
  LAST_VMX_CAPABILITY_MSR = 0x493,
  ENTRY_BYTES = 16,
}

/** Bits 63:32 of a field; 0 when the profile lacks it. */
function high(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word + 1] as number);
}

/** Bits 31:0 of a field; 0 when the profile lacks it (`word` -1). */
function low(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word] as number);
}


/** The entry's MSR index (bits 31:0 of the entry) names an MSR VM entry cannot load. */
function refused(index: number): boolean {
  return (
    index === K.IA32_FS_BASE ||
    index === K.IA32_GS_BASE ||
    index >>> 8 === K.X2APIC_RANGE ||
    index === K.IA32_SMM_MONITOR_CTL ||
    index === K.MSR_IA32_FEATURE_CONTROL ||
    (index >= K.FIRST_VMX_CAPABILITY_MSR && index <= K.LAST_VMX_CAPABILITY_MSR)
  );
}

/**
 * 0 when every entry loads, else the 1-based index of the first that fails. MSRs are written into
 * the processor row `b` of `s` (after guest-state loading, which they may overwrite).
 */
export function loadEntryMsrs(e: EntryFacts, g: GuestFacts, memory: PhysicalMemory, base: number, x: ExitFacts, s: Int32Array, b: number): number {
  const v = memory.words;
  const count = (v[base + e.words.VM_ENTRY_MSR_LOAD_COUNT] as number) >>> 0;
  if (count === 0) return 0;
  const lo = (v[base + e.words.VM_ENTRY_MSR_LOAD_ADDRESS] as number) >>> 0;
  const hi = (v[base + e.words.VM_ENTRY_MSR_LOAD_ADDRESS + 1] as number);
  const last = count > g.msrListLimit ? g.msrListLimit : count;
  for (let i = 0; i < last; i++) {
    // The phase-one checks keep the area inside the physical-address width; the sum is exact.
    const address = lo + i * K.ENTRY_BYTES;
    const carry = address >= 0x1_0000_0000 ? 1 : 0;
    const addressLo = address | 0;
    const addressHi = (hi + carry) | 0;
    if (memory.read32(addressLo + 4, addressHi) !== 0) return i + 1;
    const index = memory.read32(addressLo, addressHi);
    if (refused(index)) return i + 1;
    if (writeMsr(x, s, b, index, memory.read32(addressLo + 8, addressHi), memory.read32(addressLo + 12, addressHi)) === MSR_GP) return i + 1;
  }
  return count > last ? last + 1 : 0;
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-entry/msr-load.ts', [
  [K.MSR_IA32_FEATURE_CONTROL, MSR.IA32_FEATURE_CONTROL],
  [K.MSR_IA32_VMX_BASIC, MSR.IA32_VMX_BASIC],
  [K.MSR_IA32_VMX_EXIT_CTLS2, MSR.IA32_VMX_EXIT_CTLS2],
  [K.FIRST_VMX_CAPABILITY_MSR, K.MSR_IA32_VMX_BASIC],
  [K.LAST_VMX_CAPABILITY_MSR, K.MSR_IA32_VMX_EXIT_CTLS2],
]);
