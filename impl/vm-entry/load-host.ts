/**
 * Loading host state, for a VM exit (SDM Vol. 3C, December 2023, §28.5 "Loading Host State") and
 * for a VM-entry failure after the guest-state checks began (§27.8 "VM-Entry Failures During or
 * After Loading Guest State", which loads host state "as would be done on a VM exit"), on a
 * processor's state row (impl/cpu-row.ts), the parts impl/ tracks:
 *
 * - §28.5.1 "Loading Host Control Registers, Debug Registers, MSRs": CR0 from the host field
 *   except ET, NW, CD, bits 63:32, 28:19, 17, 15:6 and the bits fixed in VMX operation (which stay
 *   as they were: the fixed-1 bits are set); CR3; CR4 with its fixed-1 bits set, and CR4.PAE set
 *   when "host address-space size" is 1; DR7 = 400H; IA32_DEBUGCTL = 0; IA32_SYSENTER_CS (bits
 *   63:32 cleared), _ESP and _EIP from their fields; IA32_EFER.LME and LMA from "host
 *   address-space size"; IA32_PERF_GLOBAL_CTRL, IA32_PAT and IA32_EFER from their fields when the
 *   matching "load" VM-exit controls are 1; IA32_BNDCFGS cleared with "clear IA32_BNDCFGS".
 * - §28.5.2 "Loading Host Segment and Descriptor-Table Registers": CS.L from "host address-space
 *   size"; CPL 0 (CS, SS DPL 0). impl/ tracks no other segment state.
 * - §28.5.3 "Loading Host RIP, RSP, and RFLAGS": RIP from the host RIP field (impl/ tracks no
 *   RSP); RFLAGS = 2 (arithmetic flags and VM clear).
 * - §28.5.4 "Checking and Loading Host Page-Directory-Pointer-Table Entries": a VM exit to a host
 *   using PAE paging (host CR0.PG and CR4.PAE = 1, "host address-space size" 0) checks the four
 *   PDPTEs at host CR3[31:5] as MOV to CR3 would; a present one with a reserved bit set is a VMX
 *   abort with indicator 2. The SDM makes the check optional when PAE paging was already in use
 *   with the same CR3; impl/ always makes it.
 * - §28.5.5 "Updating Non-Register State": no blocking by STI or MOV SS; the processor is in VMX
 *   root operation.
 *
 * The caller recomputes its cached mode afterwards.
 */
import { EXIT_CONTROL as EXIT } from '../../spec/control-bits.ts';
import { CR0, CR4, EFER } from '../../spec/guest-state-bits.ts';
import { PDPTE_BIT } from '../../spec/control-registers.ts';
import type { PhysicalMemory } from '../memory.ts';
import type { ExitFacts } from '../vm-exit/exit-facts.ts';
import { assertLiterals } from '../literals.ts';
import type { EntryFacts } from './facts.ts';
import { high, low, on } from './vmcs-words.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  S_BLOCKING = 55,
  S_BNDCFGS_HI = 54,
  S_BNDCFGS_LO = 53,
  S_CPL = 7,
  S_CR0_HI = 2,
  S_CR0_LO = 1,
  S_CR3_HI = 23,
  S_CR3_LO = 22,
  S_CR4_HI = 4,
  S_CR4_LO = 3,
  S_CSL = 6,
  S_DEBUGCTL_HI = 45,
  S_DEBUGCTL_LO = 44,
  S_DR7_HI = 36,
  S_DR7_LO = 35,
  S_EFER_HI = 41,
  S_EFER_LO = 40,
  S_FLAGS = 10,
  S_IN_VMX = 0,
  S_LMA = 5,
  S_LME = 21,
  S_MOV_SS = 9,
  S_PAT_HI = 43,
  S_PAT_LO = 42,
  S_PERF_GLOBAL_CTRL_HI = 52,
  S_PERF_GLOBAL_CTRL_LO = 51,
  S_RIP_HI = 39,
  S_RIP_LO = 38,
  S_SYSENTER_CS = 46,
  S_SYSENTER_EIP_HI = 50,
  S_SYSENTER_EIP_LO = 49,
  S_SYSENTER_ESP_HI = 48,
  S_SYSENTER_ESP_LO = 47,
  S_VM = 8,
  EXIT_CLEAR_IA32_BNDCFGS = 23,
  EXIT_HOST_ADDRESS_SPACE_SIZE = 9,
  EXIT_LOAD_IA32_EFER = 21,
  EXIT_LOAD_IA32_PAT = 19,
  EXIT_LOAD_IA32_PERF_GLOBAL_CTRL = 12,
  CR0_PG = 31,
  CR4_PAE = 5,
  EFER_LMA = 10,
  EFER_LME = 8,
  PDPTE_BIT_P = 0,
  CR0_KEPT = 0x7ffaffd0,
  LME_LMA = 0x500,
  /** VMX-abort indicator of a failed host PDPTE check (§28.7 "VMX Aborts"). */
  ABORT_HOST_PDPTES = 2,
  PDPTE_PRESENT = 1,
}
const PDPTE_BIT_RESERVED_LOW = PDPTE_BIT.RESERVED_LOW;

/**
 * CR0 bits a VM exit leaves as they were (§28.5.1 "Loading Host Control Registers, Debug
 * Registers, MSRs"): ET (4), 15:6, 17, 28:19, NW (29), CD (30); bits 63:32 likewise.
 */
/** DR7 after a VM exit: 400H (bit 10 is reserved to 1). */
export const DR7_AFTER_EXIT = 0x400;
const PDPTE_RESERVED_LO = PDPTE_BIT_RESERVED_LOW.reduce((mask: number, position: number) => mask | (1 << position), 0);

/**
 * Loads host state from the VMCS at `base` into the state row at `b`; 0, or the VMX-abort
 * indicator 2 when the host PDPTEs fail their check (the rest of the state is loaded either way).
 */
export function loadHostState(e: EntryFacts, x: ExitFacts, s: Int32Array, b: number, memory: PhysicalMemory, base: number): number {
  const v = memory.words;
  const w = e.words;
  const xw = x.words;
  const exit = (v[base + w.PRIMARY_VM_EXIT_CONTROLS] as number);
  const host64 = on(exit, K.EXIT_HOST_ADDRESS_SPACE_SIZE) ? 1 : 0;
  // §28.5.1: control and debug registers.
  const cr0 = (((v[base + w.HOST_CR0] as number) & ~K.CR0_KEPT) | ((s[b + K.S_CR0_LO] as number) & K.CR0_KEPT)) | e.cr0Fixed0Lo;
  s[b + K.S_CR0_LO] = cr0;
  s[b + K.S_CR0_HI] = (s[b + K.S_CR0_HI] as number) | e.cr0Fixed0Hi;
  const cr4 = (v[base + w.HOST_CR4] as number) | e.cr4Fixed0Lo | (host64 << K.CR4_PAE);
  s[b + K.S_CR4_LO] = cr4;
  s[b + K.S_CR4_HI] = (v[base + w.HOST_CR4 + 1] as number) | e.cr4Fixed0Hi;
  const cr3Lo = (v[base + w.HOST_CR3] as number);
  s[b + K.S_CR3_LO] = cr3Lo;
  s[b + K.S_CR3_HI] = (v[base + w.HOST_CR3 + 1] as number);
  s[b + K.S_DR7_LO] = DR7_AFTER_EXIT;
  s[b + K.S_DR7_HI] = 0;
  // §28.5.1: MSRs.
  s[b + K.S_DEBUGCTL_LO] = 0;
  s[b + K.S_DEBUGCTL_HI] = 0;
  s[b + K.S_SYSENTER_CS] = (v[base + xw.HOST_IA32_SYSENTER_CS] as number);
  s[b + K.S_SYSENTER_ESP_LO] = (v[base + xw.HOST_IA32_SYSENTER_ESP] as number);
  s[b + K.S_SYSENTER_ESP_HI] = (v[base + xw.HOST_IA32_SYSENTER_ESP + 1] as number);
  s[b + K.S_SYSENTER_EIP_LO] = (v[base + xw.HOST_IA32_SYSENTER_EIP] as number);
  s[b + K.S_SYSENTER_EIP_HI] = (v[base + xw.HOST_IA32_SYSENTER_EIP + 1] as number);
  s[b + K.S_LMA] = host64;
  s[b + K.S_LME] = host64;
  if (on(exit, K.EXIT_LOAD_IA32_PERF_GLOBAL_CTRL)) {
    s[b + K.S_PERF_GLOBAL_CTRL_LO] = low(v, base, xw.HOST_IA32_PERF_GLOBAL_CTRL);
    s[b + K.S_PERF_GLOBAL_CTRL_HI] = high(v, base, xw.HOST_IA32_PERF_GLOBAL_CTRL);
  }
  if (on(exit, K.EXIT_LOAD_IA32_PAT)) {
    s[b + K.S_PAT_LO] = low(v, base, xw.HOST_IA32_PAT);
    s[b + K.S_PAT_HI] = high(v, base, xw.HOST_IA32_PAT);
  }
  if (on(exit, K.EXIT_LOAD_IA32_EFER)) {
    // LME and LMA equal "host address-space size" (a VM-entry check on this field).
    s[b + K.S_EFER_LO] = low(v, base, xw.HOST_IA32_EFER) & ~K.LME_LMA;
    s[b + K.S_EFER_HI] = high(v, base, xw.HOST_IA32_EFER);
  }
  if (on(exit, K.EXIT_CLEAR_IA32_BNDCFGS)) {
    s[b + K.S_BNDCFGS_LO] = 0;
    s[b + K.S_BNDCFGS_HI] = 0;
  }
  // §28.5.2, §28.5.3, §28.5.5.
  s[b + K.S_CSL] = host64;
  s[b + K.S_CPL] = 0;
  s[b + K.S_RIP_LO] = (v[base + xw.HOST_RIP] as number);
  s[b + K.S_RIP_HI] = (v[base + xw.HOST_RIP + 1] as number);
  s[b + K.S_VM] = 0;
  s[b + K.S_FLAGS] = 0;
  s[b + K.S_MOV_SS] = 0;
  s[b + K.S_BLOCKING] = 0;
  s[b + K.S_IN_VMX] = 1;
  // §28.5.4: PAE paging after the exit.
  if (host64 === 0 && on(cr0, K.CR0_PG) && on(cr4, K.CR4_PAE) && hostPdptesBad(memory, cr3Lo, e.physicalHiBad)) return K.ABORT_HOST_PDPTES;
  return 0;
}

/**
 * A present PDPTE of the 32-byte-aligned table at CR3[31:5] sets a reserved bit: 2:1 or 8:5 in
 * the low half, or in the high half a bit at or above the physical-address width (`hiReserved`)
 * (Vol. 3A §4.4.1 "PDPTE Registers", as MOV to CR3 checks them).
 */
function hostPdptesBad(memory: PhysicalMemory, cr3Lo: number, hiReserved: number): boolean {
  const table = (cr3Lo & ~0x1f) >>> 0;
  for (let at = table; at !== table + 32; at += 8) {
    const lo = memory.read32(at, 0);
    if ((lo & K.PDPTE_PRESENT) !== 0 && ((lo & PDPTE_RESERVED_LO) !== 0 || (memory.read32(at + 4, 0) & hiReserved) !== 0)) return true;
  }
  return false;
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-entry/load-host.ts', [
  [K.EXIT_CLEAR_IA32_BNDCFGS, EXIT.CLEAR_IA32_BNDCFGS],
  [K.EXIT_HOST_ADDRESS_SPACE_SIZE, EXIT.HOST_ADDRESS_SPACE_SIZE],
  [K.EXIT_LOAD_IA32_EFER, EXIT.LOAD_IA32_EFER],
  [K.EXIT_LOAD_IA32_PAT, EXIT.LOAD_IA32_PAT],
  [K.EXIT_LOAD_IA32_PERF_GLOBAL_CTRL, EXIT.LOAD_IA32_PERF_GLOBAL_CTRL],
  [K.CR0_PG, CR0.PG],
  [K.CR4_PAE, CR4.PAE],
  [K.EFER_LMA, EFER.LMA],
  [K.EFER_LME, EFER.LME],
  [K.PDPTE_BIT_P, PDPTE_BIT.P],
  [K.LME_LMA, (1 << K.EFER_LME) | (1 << K.EFER_LMA)],
  [K.PDPTE_PRESENT, 1 << K.PDPTE_BIT_P],
]);
