/**
 * The VM-exit MSR-store and MSR-load areas in physical memory: entries of 16 bytes (MSR index in
 * bits 31:0, bits 63:32 reserved, data in bits 127:64), processed in order.
 *
 * - §28.4 "Saving MSRs" (SDM Vol. 3C, December 2023): each of the VM-exit MSR-store count entries
 *   at the VM-exit MSR-store address receives, in bits 127:64, the value RDMSR would read. An
 *   entry fails, and the VM exit ends in a VMX abort with indicator 1, when its bits 31:8 are
 *   000008H (x2APIC), it names an MSR readable only in SMM (IA32_SMBASE), its bits 63:32 are not
 *   0, or RDMSR of it at CPL 0 would be #GP.
 * - §28.6 "Loading MSRs": each of the VM-exit MSR-load count entries at the VM-exit MSR-load
 *   address is written to its MSR as WRMSR would. An entry fails, and the VM exit ends in a VMX
 *   abort with indicator 4, when it names IA32_FS_BASE or IA32_GS_BASE, its bits 31:8 are
 *   000008H, it names an MSR writable only in SMM (IA32_SMM_MONITOR_CTL), its bits 63:32 are not
 *   0, or WRMSR of its data at CPL 0 would be #GP.
 *
 * impl/ refuses no MSR for model-specific reasons. An MSR impl/ does not model (impl/vm-exit/msrs.ts)
 * loads with no effect, as on VM entry (impl/vm-entry/msr-load.ts), and is stored as 0: which
 * MSRs a processor implements, and the values of those impl/ does not keep (IA32_TSC,
 * IA32_APIC_BASE, IA32_LSTAR, ...), are model-specific (Vol. 4 chapter 2 "Model-Specific
 * Registers (MSRs)"); the SDM makes the store fail only where RDMSR would fault, and impl/ takes
 * every MSR it does not model to be one its processor implements, reading 0. IA32_FS_BASE and
 * IA32_GS_BASE are stored from the guest FS and GS base fields, which hold them at that point of
 * the exit. A count above 512 × (IA32_VMX_MISC[27:25] + 1), whose effect the SDM leaves undefined
 * (Vol. 3D §A.6 "Miscellaneous Data"), fails at the first entry beyond that limit, as on VM entry.
 */
import type { PhysicalMemory } from '../memory.ts';
import type { ExitFacts } from './exit-facts.ts';
import { MSR_GP, MSR_INDEX, MSR_OK, MSR_UNKNOWN, readMsr, writeMsr } from './msrs.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  SEG_BASE = 1,
  SEGMENT_FS = 4,
  SEGMENT_GS = 5,
  ENTRY_BYTES = 16,
  X2APIC_RANGE = 8,
}

/** VMX-abort indicators (§28.7 "VMX Aborts"). */
export const ABORT_SAVING_MSRS = 1;
export const ABORT_HOST_PDPTES = 2;
export const ABORT_LOADING_MSRS = 4;
export const ABORT_HOST_ADDRESS_SPACE = 6;


/** Address of entry `i` of an area at (lo unsigned, hi): [lo, hi] halves into `at`. */
function entryAddress(lo: number, hi: number, i: number, at: Int32Array): void {
  const address = lo + i * K.ENTRY_BYTES;
  const carry = address >= 0x1_0000_0000 ? 1 : 0;
  at[0] = address | 0;
  at[1] = (hi + carry) | 0;
}

/** §28.4: stores the MSRs the VMCS at `base` lists; 0 or ABORT_SAVING_MSRS. */
export function storeExitMsrs(x: ExitFacts, s: Int32Array, b: number, memory: PhysicalMemory, base: number, scratch: Int32Array): number {
  const w = x.words;
  const v = memory.words;
  const count = (v[base + w.VM_EXIT_MSR_STORE_COUNT] as number) >>> 0;
  if (count === 0) return 0;
  const last = count > x.msrListLimit ? x.msrListLimit : count;
  const lo = (v[base + w.VM_EXIT_MSR_STORE_ADDRESS] as number) >>> 0;
  const hi = v[base + w.VM_EXIT_MSR_STORE_ADDRESS + 1] as number;
  for (let i = 0; i < last; i++) {
    entryAddress(lo, hi, i, scratch);
    const addressLo = scratch[0] as number;
    const addressHi = scratch[1] as number;
    const index = memory.read32(addressLo, addressHi);
    if (index >>> 8 === K.X2APIC_RANGE || memory.read32(addressLo + 4, addressHi) !== 0) return ABORT_SAVING_MSRS;
    let status: number;
    if (index === MSR_INDEX.IA32_FS_BASE || index === MSR_INDEX.IA32_GS_BASE) {
      // The guest FS/GS base, as §28.3.2 just saved it (FS.base and GS.base are those MSRs).
      const word = x.segments[(index === MSR_INDEX.IA32_FS_BASE ? K.SEGMENT_FS : K.SEGMENT_GS) * 4 + K.SEG_BASE] as number;
      scratch[2] = v[base + word] as number;
      scratch[3] = v[base + word + 1] as number;
      status = MSR_OK;
    } else {
      status = readMsr(x, s, b, index, scratch, 2);
    }
    if (status === MSR_GP) return ABORT_SAVING_MSRS;
    if (status === MSR_UNKNOWN) {
      // An MSR impl/ does not model: taken to exist and to read 0 (see the file header).
      scratch[2] = 0;
      scratch[3] = 0;
    }
    memory.write32(addressLo + 8, addressHi, scratch[2] as number);
    memory.write32(addressLo + 12, addressHi, scratch[3] as number);
  }
  return count > last ? ABORT_SAVING_MSRS : 0;
}

/** §28.6: loads the MSRs the VMCS at `base` lists; 0 or ABORT_LOADING_MSRS. */
export function loadExitMsrs(x: ExitFacts, s: Int32Array, b: number, memory: PhysicalMemory, base: number, scratch: Int32Array): number {
  const w = x.words;
  const v = memory.words;
  const count = (v[base + w.VM_EXIT_MSR_LOAD_COUNT] as number) >>> 0;
  if (count === 0) return 0;
  const last = count > x.msrListLimit ? x.msrListLimit : count;
  const lo = (v[base + w.VM_EXIT_MSR_LOAD_ADDRESS] as number) >>> 0;
  const hi = v[base + w.VM_EXIT_MSR_LOAD_ADDRESS + 1] as number;
  for (let i = 0; i < last; i++) {
    entryAddress(lo, hi, i, scratch);
    const addressLo = scratch[0] as number;
    const addressHi = scratch[1] as number;
    const index = memory.read32(addressLo, addressHi);
    if (
      index === MSR_INDEX.IA32_FS_BASE ||
      index === MSR_INDEX.IA32_GS_BASE ||
      index >>> 8 === K.X2APIC_RANGE ||
      index === MSR_INDEX.IA32_SMM_MONITOR_CTL ||
      memory.read32(addressLo + 4, addressHi) !== 0
    ) {
      return ABORT_LOADING_MSRS;
    }
    const status = writeMsr(x, s, b, index, memory.read32(addressLo + 8, addressHi), memory.read32(addressLo + 12, addressHi));
    if (status === MSR_GP) return ABORT_LOADING_MSRS;
  }
  return count > last ? ABORT_LOADING_MSRS : 0;
}
