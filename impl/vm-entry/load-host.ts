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
import type { EntryFacts } from './facts.ts';

// Local copies of imported constants and helpers: a speed trick (impl/README.md, "Local
// copies"). Row offsets from impl/cpu-row.ts, checked by test/impl/local-copies.test.ts.
const S_BLOCKING = 55;
const S_BNDCFGS_HI = 54;
const S_BNDCFGS_LO = 53;
const S_CPL = 7;
const S_CR0_HI = 2;
const S_CR0_LO = 1;
const S_CR3_HI = 23;
const S_CR3_LO = 22;
const S_CR4_HI = 4;
const S_CR4_LO = 3;
const S_CSL = 6;
const S_DEBUGCTL_HI = 45;
const S_DEBUGCTL_LO = 44;
const S_DR7_HI = 36;
const S_DR7_LO = 35;
const S_EFER_HI = 41;
const S_EFER_LO = 40;
const S_FLAGS = 10;
const S_IN_VMX = 0;
const S_LMA = 5;
const S_LME = 21;
const S_MOV_SS = 9;
const S_PAT_HI = 43;
const S_PAT_LO = 42;
const S_PERF_GLOBAL_CTRL_HI = 52;
const S_PERF_GLOBAL_CTRL_LO = 51;
const S_RIP_HI = 39;
const S_RIP_LO = 38;
const S_SYSENTER_CS = 46;
const S_SYSENTER_EIP_HI = 50;
const S_SYSENTER_EIP_LO = 49;
const S_SYSENTER_ESP_HI = 48;
const S_SYSENTER_ESP_LO = 47;
const S_VM = 8;
const EXIT_CLEAR_IA32_BNDCFGS = EXIT.CLEAR_IA32_BNDCFGS;
const EXIT_HOST_ADDRESS_SPACE_SIZE = EXIT.HOST_ADDRESS_SPACE_SIZE;
const EXIT_LOAD_IA32_EFER = EXIT.LOAD_IA32_EFER;
const EXIT_LOAD_IA32_PAT = EXIT.LOAD_IA32_PAT;
const EXIT_LOAD_IA32_PERF_GLOBAL_CTRL = EXIT.LOAD_IA32_PERF_GLOBAL_CTRL;
const CR0_PG = CR0.PG;
const CR4_PAE = CR4.PAE;
const EFER_LMA = EFER.LMA;
const EFER_LME = EFER.LME;
const PDPTE_BIT_P = PDPTE_BIT.P;
const PDPTE_BIT_RESERVED_LOW = PDPTE_BIT.RESERVED_LOW;

/** Bits 63:32 of a field; 0 when the profile lacks it. */
function high(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word + 1] as number);
}

/** Bits 31:0 of a field; 0 when the profile lacks it (`word` -1). */
function low(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word] as number);
}

/** Bit `position` of `value` is 1. */
function on(value: number, position: number): boolean {
  return ((value >>> position) & 1) === 1;
}

/**
 * CR0 bits a VM exit leaves as they were (§28.5.1 "Loading Host Control Registers, Debug
 * Registers, MSRs"): ET (4), 15:6, 17, 28:19, NW (29), CD (30); bits 63:32 likewise.
 */
const CR0_KEPT = (1 << 4) | 0xffc0 | (1 << 17) | 0x1ff8_0000 | (1 << 29) | (1 << 30);
/** DR7 after a VM exit: 400H (bit 10 is reserved to 1). */
export const DR7_AFTER_EXIT = 0x400;
const LME_LMA = (1 << EFER_LME) | (1 << EFER_LMA);
/** VMX-abort indicator of a failed host PDPTE check (§28.7 "VMX Aborts"). */
const ABORT_HOST_PDPTES = 2;
const PDPTE_PRESENT = 1 << PDPTE_BIT_P;
const PDPTE_RESERVED_LO = PDPTE_BIT_RESERVED_LOW.reduce((mask: number, position: number) => mask | (1 << position), 0);

/**
 * Loads host state from the VMCS at `base` into the state row at `b`; 0, or the VMX-abort
 * indicator 2 when the host PDPTEs fail their check (the rest of the state is loaded either way).
 */
export function loadHostState(e: EntryFacts, x: ExitFacts, s: Int32Array, b: number, memory: PhysicalMemory, base: number): number {
  const v = memory.words;
  const w = e.words;
  const xw = x.words;
  const exit = low(v, base, w.PRIMARY_VM_EXIT_CONTROLS);
  const host64 = on(exit, EXIT_HOST_ADDRESS_SPACE_SIZE) ? 1 : 0;
  // §28.5.1: control and debug registers.
  const cr0 = ((low(v, base, w.HOST_CR0) & ~CR0_KEPT) | ((s[b + S_CR0_LO] as number) & CR0_KEPT)) | e.cr0Fixed0Lo;
  s[b + S_CR0_LO] = cr0;
  s[b + S_CR0_HI] = (s[b + S_CR0_HI] as number) | e.cr0Fixed0Hi;
  const cr4 = low(v, base, w.HOST_CR4) | e.cr4Fixed0Lo | (host64 << CR4_PAE);
  s[b + S_CR4_LO] = cr4;
  s[b + S_CR4_HI] = high(v, base, w.HOST_CR4) | e.cr4Fixed0Hi;
  const cr3Lo = low(v, base, w.HOST_CR3);
  s[b + S_CR3_LO] = cr3Lo;
  s[b + S_CR3_HI] = high(v, base, w.HOST_CR3);
  s[b + S_DR7_LO] = DR7_AFTER_EXIT;
  s[b + S_DR7_HI] = 0;
  // §28.5.1: MSRs.
  s[b + S_DEBUGCTL_LO] = 0;
  s[b + S_DEBUGCTL_HI] = 0;
  s[b + S_SYSENTER_CS] = low(v, base, xw.HOST_IA32_SYSENTER_CS);
  s[b + S_SYSENTER_ESP_LO] = low(v, base, xw.HOST_IA32_SYSENTER_ESP);
  s[b + S_SYSENTER_ESP_HI] = high(v, base, xw.HOST_IA32_SYSENTER_ESP);
  s[b + S_SYSENTER_EIP_LO] = low(v, base, xw.HOST_IA32_SYSENTER_EIP);
  s[b + S_SYSENTER_EIP_HI] = high(v, base, xw.HOST_IA32_SYSENTER_EIP);
  s[b + S_LMA] = host64;
  s[b + S_LME] = host64;
  if (on(exit, EXIT_LOAD_IA32_PERF_GLOBAL_CTRL)) {
    s[b + S_PERF_GLOBAL_CTRL_LO] = low(v, base, xw.HOST_IA32_PERF_GLOBAL_CTRL);
    s[b + S_PERF_GLOBAL_CTRL_HI] = high(v, base, xw.HOST_IA32_PERF_GLOBAL_CTRL);
  }
  if (on(exit, EXIT_LOAD_IA32_PAT)) {
    s[b + S_PAT_LO] = low(v, base, xw.HOST_IA32_PAT);
    s[b + S_PAT_HI] = high(v, base, xw.HOST_IA32_PAT);
  }
  if (on(exit, EXIT_LOAD_IA32_EFER)) {
    // LME and LMA equal "host address-space size" (a VM-entry check on this field).
    s[b + S_EFER_LO] = low(v, base, xw.HOST_IA32_EFER) & ~LME_LMA;
    s[b + S_EFER_HI] = high(v, base, xw.HOST_IA32_EFER);
  }
  if (on(exit, EXIT_CLEAR_IA32_BNDCFGS)) {
    s[b + S_BNDCFGS_LO] = 0;
    s[b + S_BNDCFGS_HI] = 0;
  }
  // §28.5.2, §28.5.3, §28.5.5.
  s[b + S_CSL] = host64;
  s[b + S_CPL] = 0;
  s[b + S_RIP_LO] = low(v, base, xw.HOST_RIP);
  s[b + S_RIP_HI] = high(v, base, xw.HOST_RIP);
  s[b + S_VM] = 0;
  s[b + S_FLAGS] = 0;
  s[b + S_MOV_SS] = 0;
  s[b + S_BLOCKING] = 0;
  s[b + S_IN_VMX] = 1;
  // §28.5.4: PAE paging after the exit.
  if (host64 === 0 && on(cr0, CR0_PG) && on(cr4, CR4_PAE) && hostPdptesBad(memory, cr3Lo, e.physicalHiBad)) return ABORT_HOST_PDPTES;
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
    if ((lo & PDPTE_PRESENT) !== 0 && ((lo & PDPTE_RESERVED_LO) !== 0 || (memory.read32(at + 4, 0) & hiReserved) !== 0)) return true;
  }
  return false;
}
