/**
 * RDMSR and WRMSR (SDM Vol. 2B, December 2023, "RDMSR—Read From Model Specific Register",
 * "WRMSR—Write to Model Specific Register"): #GP(0) in virtual-8086 mode and at CPL > 0, which
 * precedes a VM exit (Vol. 3C §26.1.1 "Relative Priority of Faults and VM Exits"). In VMX
 * non-root operation the instruction exits (reasons 31, 32; qualification 0) when "use MSR bitmaps"
 * is 0, when ECX is outside 00000000H-00001FFFH and C0000000H-C0001FFFH, or when the MSR's bit is
 * set in the read or write bitmap for its range (§26.1.3 "Instructions That Cause VM Exits
 * Conditionally"; §25.6.9 "MSR-Bitmap Address": read-low at byte 0, read-high at 1024, write-low
 * at 2048, write-high at 3072 of the 4-KByte bitmap page).
 *
 * Without an exit, the MSRs impl/ keeps (impl/vm-exit/msrs.ts: IA32_EFER, IA32_PAT,
 * IA32_DEBUGCTL, IA32_SYSENTER_CS/ESP/EIP, IA32_PERF_GLOBAL_CTRL, IA32_BNDCFGS,
 * IA32_FEATURE_CONTROL, the VMX capability MSRs) are read and written with their #GP(0)
 * conditions; RDMSR also completes for the other architectural MSRs every profile's processor has
 * (ARCHITECTURAL_MSRS), WRMSR for IA32_TSC (any value), IA32_LSTAR and IA32_KERNEL_GS_BASE
 * (#GP(0) for a non-canonical address, Vol. 2D WRMSR), whose values impl/ does not keep; IA32_XSS
 * (DA0H) where the processor has XSAVES (impl/non-root/hidden-state.ts keeps it). Any other MSR is
 * model-specific (whether it exists, which bits a write may set): impl/ is a processor that has
 * none of them, so RDMSR and WRMSR of one raise #GP(0) ("if the value in ECX specifies a reserved
 * or unimplemented MSR address", Vol. 2B RDMSR/WRMSR Protected Mode Exceptions). WRMSR to the
 * other architectural MSRs (IA32_STAR, IA32_APIC_BASE, the MTRRs, ...), whose reserved bits
 * impl/ does not track, answers unimplemented. RDMSR's value is not observed.
 *
 * IA32_XSS (Vol. 4 Table 2-2: exists when CPUID.(EAX=0DH,ECX=1):EAX.XSS[3] = 1; Vol. 1 §13.3
 * "Enabling the XSAVE Feature Set and XSAVE-Enabled Features": a bit of a state component the
 * processor does not support as a supervisor component must be 0, else #GP(0)): which supervisor
 * components a processor supports is not in the profile, so impl/ takes every one the SDM
 * defines: PT (8), PASID (10), CET user and supervisor (11, 12), HDC (13), UINTR (14), LBR (15),
 * HWP (16); bits 7:0 and 9 (user components) and 63:17 are reserved.
 */
import { PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import { MSR_BITMAP_OFFSET, MSR_BITMAP_RANGE } from '../../spec/exit-bitmaps.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { exitFactsFor } from '../vm-exit/exit-facts.ts';
import { readHiddenWord, writeHiddenWord, XSS_HI, XSS_LO } from './hidden-state.ts';
import { MSR_GP, MSR_OK, MSR_UNKNOWN, readMsr, writeMsr } from '../vm-exit/msrs.ts';
import type { GuestContext } from './context.ts';
import { RDMSR_LENGTH, WRMSR_LENGTH } from './lengths.ts';

const IA32_TSC = 0x10;
const IA32_LSTAR = 0xc000_0082 | 0;
const IA32_KERNEL_GS_BASE = 0xc000_0102 | 0;
const IA32_XSS = 0xda0;
/** IA32_XSS bits a write may set (see the header). */
const XSS_WRITABLE = 0x1_fd00;
/** RDMSR's value (not observed). */
const scratch = new Int32Array(2);
/** MSR ranges the bitmaps cover (spec/exit-bitmaps.ts): 8192 MSRs from 0 and from C0000000H. */
const BITMAP_MSRS = MSR_BITMAP_RANGE.LOW.last + 1;
const HIGH_RANGE = MSR_BITMAP_RANGE.HIGH.first | 0;
const READ_HIGH_OFFSET = MSR_BITMAP_OFFSET.READ_HIGH;
const WRITE_LOW_OFFSET = MSR_BITMAP_OFFSET.WRITE_LOW;

/**
 * Architectural MSRs every processor the profiles describe (Intel 64 with VMX) implements, from
 * SDM Vol. 4, December 2023, Table 2-2 "IA-32 Architectural MSRs": RDMSR reads them without a
 * fault (the value is not observed). IA32_TSC 10H, IA32_APIC_BASE 1BH, IA32_BIOS_SIGN_ID 8BH,
 * IA32_MTRRCAP FEH, IA32_SYSENTER_CS/ESP/EIP 174H-176H, IA32_MCG_CAP 179H, IA32_MCG_STATUS 17AH,
 * IA32_MISC_ENABLE 1A0H, IA32_DEBUGCTL 1D9H, IA32_PAT 277H, IA32_MTRR_DEF_TYPE 2FFH, IA32_STAR,
 * IA32_LSTAR, IA32_CSTAR, IA32_FMASK C0000081H-C0000084H, IA32_FS_BASE, IA32_GS_BASE,
 * IA32_KERNEL_GS_BASE C0000100H-C0000102H.
 */
const ARCHITECTURAL_MSRS: ReadonlySet<number> = new Set(
  [
    0x10, 0x1b, 0x8b, 0xfe, 0x174, 0x175, 0x176, 0x179, 0x17a, 0x1a0, 0x1d9, 0x277, 0x2ff, 0xc000_0081, 0xc000_0082, 0xc000_0083,
    0xc000_0084, 0xc000_0100, 0xc000_0101, 0xc000_0102,
  ].map((msr) => msr | 0),
);

/** In VMX non-root operation: RDMSR (`write` false) or WRMSR of `ecx` causes a VM exit. */
function msrExits(g: GuestContext, b: number, ecx: number, write: boolean): boolean {
  if (!g.primary(b, PRIMARY_CONTROL.USE_MSR_BITMAPS)) return true;
  const high = (ecx & ~(BITMAP_MSRS - 1)) === HIGH_RANGE;
  if (!high && (ecx >>> 0) >= BITMAP_MSRS) return true;
  const index = ecx & (BITMAP_MSRS - 1);
  const offset = (write ? WRITE_LOW_OFFSET : 0) + (high ? READ_HIGH_OFFSET : 0) + ((index >>> 5) << 2);
  const w = g.words.MSR_BITMAPS_ADDRESS;
  const word = g.memory.read32((g.low(b, w) & ~0xfff) + offset, g.high(b, w));
  return ((word >>> (index & 31)) & 1) === 1;
}

/** RDMSR with ECX = `ecx`. */
export function rdmsr(g: GuestContext, cpu: number, ecx: number): number {
  const b = g.hooks.instruction(cpu);
  ecx |= 0; // int32 or uint32 halves both work (the fast API's convention)
  if (g.privileged(b)) return g.gp(b);
  if (g.nonRoot(b) && msrExits(g, b, ecx, false)) return g.instructionExit(b, EXIT_REASON.RDMSR, 0, 0, RDMSR_LENGTH);
  if (ecx === IA32_XSS) return g.features.xsaves ? g.complete(b, RDMSR_LENGTH) : g.gp(b);
  // The value read is not observed; the kept MSRs (impl/vm-exit/msrs.ts) say whether it faults.
  const result = readMsr(exitFactsFor(g.profile), g.s, b, ecx, scratch, 0);
  if (result === MSR_GP) return g.gp(b);
  // An MSR this processor does not have (see the file header).
  if (result === MSR_UNKNOWN && !ARCHITECTURAL_MSRS.has(ecx)) return g.gp(b);
  return g.complete(b, RDMSR_LENGTH);
}

/** WRMSR with ECX = `ecx` and EDX:EAX = (hi, lo). */
export function wrmsr(g: GuestContext, cpu: number, ecx: number, lo: number, hi: number): number {
  const b = g.hooks.instruction(cpu);
  ecx |= 0;
  if (g.privileged(b)) return g.gp(b);
  if (g.nonRoot(b) && msrExits(g, b, ecx, true)) return g.instructionExit(b, EXIT_REASON.WRMSR, 0, 0, WRMSR_LENGTH);
  if (ecx === IA32_XSS) {
    if (!g.features.xsaves || (lo & ~XSS_WRITABLE) !== 0 || hi !== 0) return g.gp(b);
    writeHiddenWord(g.memory, b, XSS_LO, lo | 0);
    writeHiddenWord(g.memory, b, XSS_HI, 0);
    return g.complete(b, WRMSR_LENGTH);
  }
  const result = writeMsr(exitFactsFor(g.profile), g.s, b, ecx, lo | 0, hi | 0);
  if (result === MSR_GP) return g.gp(b);
  if (result === MSR_OK || ecx === IA32_TSC) return g.complete(b, WRMSR_LENGTH);
  if (ecx === IA32_LSTAR || ecx === IA32_KERNEL_GS_BASE) {
    // A linear address: #GP(0) when not canonical (48-bit linear addresses, impl/README.md).
    const top = hi >> 15;
    if (top !== 0 && top !== -1) return g.gp(b);
    return g.complete(b, WRMSR_LENGTH);
  }
  if (!ARCHITECTURAL_MSRS.has(ecx)) return g.gp(b);
  return g.unimplemented(`WRMSR to MSR 0x${(ecx >>> 0).toString(16)} (which bits of this architectural MSR are reserved is not tracked)`);
}
