/**
 * Loading guest state at a successful VM entry (SDM Vol. 3C, December 2023, §27.3.2 "Loading
 * Guest State") into a processor's state row (impl/cpu-row.ts), the parts impl/ tracks: CR0
 * (ET, NW and CD kept, §27.3.2.1 "Loading Guest Control Registers, Debug Registers, and MSRs"),
 * CR3, CR4; IA32_EFER.LMA from "IA-32e mode guest", LME from the guest IA32_EFER field with
 * "load IA32_EFER" = 1, else from "IA-32e mode guest" when guest CR0.PG = 1; CS.L from the CS
 * access rights, CPL = SS.DPL (§27.3.2.2 "Loading Guest Segment Registers and
 * Descriptor-Table Registers"); RFLAGS.VM and the arithmetic flags from the RFLAGS field
 * (§27.3.2.3 "Loading Guest RIP, RSP, RFLAGS, and SSP"); blocking by MOV SS from the
 * interruptibility state (§27.3.2.5 "Updating Non-Register State"); VMX non-root operation.
 * The caller recomputes its cached mode afterwards.
 *
 * {@link loadTrackedGuestState} loads the rest of what a VM exit saves (impl/vm-exit/; RIP stays
 * in the guest-RIP field, where guest instructions advance it): DR7
 * (bits 12 and 15:14 cleared, bit 10 set) and IA32_DEBUGCTL with "load debug controls";
 * IA32_SYSENTER_CS/ESP/EIP always; IA32_EFER's other bits with "load IA32_EFER"; IA32_PAT,
 * IA32_PERF_GLOBAL_CTRL and IA32_BNDCFGS with their "load" controls (§27.3.2.1); blocking by STI
 * and by NMI, and the pending debug exceptions (§27.3.2.5, §27.7.1 "Interruptibility State").
 */
import { ENTRY_CONTROL as ENTRY } from '../../spec/control-bits.ts';
import { CR0, EFER, INTERRUPTIBILITY, RFLAGS } from '../../spec/guest-state-bits.ts';
import { ARITHMETIC_FLAGS_MASK } from '../../spec/observations.ts';
import type { ExitFacts } from '../vm-exit/exit-facts.ts';
import type { EntryFacts } from './facts.ts';
import { assertLiterals } from '../literals.ts';
import type { GuestFacts } from './guest-facts.ts';
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
  S_PENDING_DEBUG_HI = 57,
  S_PENDING_DEBUG_LO = 56,
  S_PERF_GLOBAL_CTRL_HI = 52,
  S_PERF_GLOBAL_CTRL_LO = 51,
  S_SYSENTER_CS = 46,
  S_SYSENTER_EIP_HI = 50,
  S_SYSENTER_EIP_LO = 49,
  S_SYSENTER_ESP_HI = 48,
  S_SYSENTER_ESP_LO = 47,
  S_VM = 8,
  ENTRY_IA32E_MODE_GUEST = 9,
  ENTRY_LOAD_DEBUG_CONTROLS = 2,
  ENTRY_LOAD_IA32_BNDCFGS = 16,
  ENTRY_LOAD_IA32_EFER = 15,
  ENTRY_LOAD_IA32_PAT = 14,
  ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL = 13,
  CR0_CD = 30,
  CR0_NW = 29,
  CR0_PG = 31,
  EFER_LMA = 10,
  EFER_LME = 8,
  INTERRUPTIBILITY_BLOCKING_BY_MOV_SS = 1,
  INTERRUPTIBILITY_BLOCKING_BY_NMI = 3,
  INTERRUPTIBILITY_BLOCKING_BY_STI = 0,
  RFLAGS_VM = 17,
  /**
   * CR0 bits VM entry does not load (SDM Vol. 3C §27.3.2.1 "Loading Guest Control Registers,
   * Debug Registers, and MSRs"): ET (4), the reserved bits 15:6, 17 and 28:19, NW (29), CD (30).
   */
  CR0_KEPT = 0x7ffaffd0,
  AR_L = 13,
  /** DR7 bits VM entry always clears (12, 15:14) and sets (10) (§27.3.2.1). */
  DR7_CLEARED = 0xd000,
  DR7_SET = 0x400,
  /** Interruptibility bits kept in S_BLOCKING: blocking by STI (0) and by NMI (3). */
  BLOCKING_KEPT = 9,
  EFER_LME_LMA = 0x500,
}

/** S_IN_VMX value of a processor in VMX non-root operation (1 is root, 0 outside VMX). */
export const IN_VMX_NON_ROOT = 2;

/** Loads the guest state of the VMCS at `base` into the state row at `b`. */
export function loadGuestState(e: EntryFacts, g: GuestFacts, s: Int32Array, b: number, v: Int32Array, base: number): void {
  const w = g.words;
  const cr0 = (v[base + w.GUEST_CR0] as number);
  s[b + K.S_CR0_LO] = (cr0 & ~K.CR0_KEPT) | ((s[b + K.S_CR0_LO] as number) & K.CR0_KEPT);
  s[b + K.S_CR0_HI] = (v[base + w.GUEST_CR0 + 1] as number);
  s[b + K.S_CR4_LO] = (v[base + w.GUEST_CR4] as number);
  s[b + K.S_CR4_HI] = (v[base + w.GUEST_CR4 + 1] as number);
  s[b + K.S_CR3_LO] = (v[base + w.GUEST_CR3] as number);
  s[b + K.S_CR3_HI] = (v[base + w.GUEST_CR3 + 1] as number);
  const entry = (v[base + e.words.VM_ENTRY_CONTROLS] as number);
  const ia32e = on(entry, K.ENTRY_IA32E_MODE_GUEST) ? 1 : 0;
  s[b + K.S_LMA] = ia32e;
  if (on(entry, K.ENTRY_LOAD_IA32_EFER)) s[b + K.S_LME] = on(low(v, base, w.GUEST_IA32_EFER), K.EFER_LME) ? 1 : 0;
  else if (on(cr0, K.CR0_PG)) s[b + K.S_LME] = ia32e;
  s[b + K.S_CSL] = on((v[base + w.GUEST_CS_ACCESS_RIGHTS] as number), K.AR_L) ? 1 : 0;
  s[b + K.S_CPL] = ((v[base + w.GUEST_SS_ACCESS_RIGHTS] as number) >>> 5) & 3;
  const rflags = (v[base + w.GUEST_RFLAGS] as number);
  s[b + K.S_VM] = on(rflags, K.RFLAGS_VM) ? 1 : 0;
  s[b + K.S_FLAGS] = rflags & ARITHMETIC_FLAGS_MASK;
  s[b + K.S_MOV_SS] = on((v[base + w.GUEST_INTERRUPTIBILITY_STATE] as number), K.INTERRUPTIBILITY_BLOCKING_BY_MOV_SS) ? 1 : 0;
  s[b + K.S_IN_VMX] = IN_VMX_NON_ROOT;
}


/** Loads the guest state a VM exit saves besides what {@link loadGuestState} loads. */
export function loadTrackedGuestState(x: ExitFacts, s: Int32Array, b: number, v: Int32Array, base: number): void {
  const w = x.words;
  const entry = (v[base + w.VM_ENTRY_CONTROLS] as number);
  if (on(entry, K.ENTRY_LOAD_DEBUG_CONTROLS)) {
    s[b + K.S_DR7_LO] = ((v[base + w.GUEST_DR7] as number) & ~K.DR7_CLEARED) | K.DR7_SET;
    s[b + K.S_DR7_HI] = (v[base + w.GUEST_DR7 + 1] as number);
    s[b + K.S_DEBUGCTL_LO] = (v[base + w.GUEST_IA32_DEBUGCTL] as number);
    s[b + K.S_DEBUGCTL_HI] = (v[base + w.GUEST_IA32_DEBUGCTL + 1] as number);
  }
  s[b + K.S_SYSENTER_CS] = (v[base + w.GUEST_IA32_SYSENTER_CS] as number);
  s[b + K.S_SYSENTER_ESP_LO] = (v[base + w.GUEST_IA32_SYSENTER_ESP] as number);
  s[b + K.S_SYSENTER_ESP_HI] = (v[base + w.GUEST_IA32_SYSENTER_ESP + 1] as number);
  s[b + K.S_SYSENTER_EIP_LO] = (v[base + w.GUEST_IA32_SYSENTER_EIP] as number);
  s[b + K.S_SYSENTER_EIP_HI] = (v[base + w.GUEST_IA32_SYSENTER_EIP + 1] as number);
  if (on(entry, K.ENTRY_LOAD_IA32_EFER)) {
    s[b + K.S_EFER_LO] = low(v, base, w.GUEST_IA32_EFER) & ~K.EFER_LME_LMA;
    s[b + K.S_EFER_HI] = high(v, base, w.GUEST_IA32_EFER);
  }
  if (on(entry, K.ENTRY_LOAD_IA32_PAT)) {
    s[b + K.S_PAT_LO] = low(v, base, w.GUEST_IA32_PAT);
    s[b + K.S_PAT_HI] = high(v, base, w.GUEST_IA32_PAT);
  }
  if (on(entry, K.ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL)) {
    s[b + K.S_PERF_GLOBAL_CTRL_LO] = low(v, base, w.GUEST_IA32_PERF_GLOBAL_CTRL);
    s[b + K.S_PERF_GLOBAL_CTRL_HI] = high(v, base, w.GUEST_IA32_PERF_GLOBAL_CTRL);
  }
  if (on(entry, K.ENTRY_LOAD_IA32_BNDCFGS)) {
    s[b + K.S_BNDCFGS_LO] = low(v, base, w.GUEST_IA32_BNDCFGS);
    s[b + K.S_BNDCFGS_HI] = high(v, base, w.GUEST_IA32_BNDCFGS);
  }
  s[b + K.S_BLOCKING] = (v[base + w.GUEST_INTERRUPTIBILITY_STATE] as number) & K.BLOCKING_KEPT;
  s[b + K.S_PENDING_DEBUG_LO] = (v[base + w.GUEST_PENDING_DEBUG_EXCEPTIONS] as number);
  s[b + K.S_PENDING_DEBUG_HI] = (v[base + w.GUEST_PENDING_DEBUG_EXCEPTIONS + 1] as number);
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-entry/load-guest.ts', [
  [K.ENTRY_IA32E_MODE_GUEST, ENTRY.IA32E_MODE_GUEST],
  [K.ENTRY_LOAD_DEBUG_CONTROLS, ENTRY.LOAD_DEBUG_CONTROLS],
  [K.ENTRY_LOAD_IA32_BNDCFGS, ENTRY.LOAD_IA32_BNDCFGS],
  [K.ENTRY_LOAD_IA32_EFER, ENTRY.LOAD_IA32_EFER],
  [K.ENTRY_LOAD_IA32_PAT, ENTRY.LOAD_IA32_PAT],
  [K.ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL, ENTRY.LOAD_IA32_PERF_GLOBAL_CTRL],
  [K.CR0_CD, CR0.CD],
  [K.CR0_NW, CR0.NW],
  [K.CR0_PG, CR0.PG],
  [K.EFER_LMA, EFER.LMA],
  [K.EFER_LME, EFER.LME],
  [K.INTERRUPTIBILITY_BLOCKING_BY_MOV_SS, INTERRUPTIBILITY.BLOCKING_BY_MOV_SS],
  [K.INTERRUPTIBILITY_BLOCKING_BY_NMI, INTERRUPTIBILITY.BLOCKING_BY_NMI],
  [K.INTERRUPTIBILITY_BLOCKING_BY_STI, INTERRUPTIBILITY.BLOCKING_BY_STI],
  [K.RFLAGS_VM, RFLAGS.VM],
  [K.CR0_KEPT, (1 << 4) | 0xffc0 | (1 << 17) | 0x1ff80000 | (1 << K.CR0_NW) | (1 << K.CR0_CD)],
  [K.BLOCKING_KEPT, (1 << K.INTERRUPTIBILITY_BLOCKING_BY_STI) | (1 << K.INTERRUPTIBILITY_BLOCKING_BY_NMI)],
  [K.EFER_LME_LMA, (1 << K.EFER_LME) | (1 << K.EFER_LMA)],
]);
