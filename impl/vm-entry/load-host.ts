/**
 * Loading host state, for a VM-entry failure after the guest-state checks began (SDM Vol. 3C,
 * December 2023, §27.8 "VM-Entry Failures During or After Loading Guest State") and for a VM exit
 * (§28.5 "Loading Host State"), on a processor's state row (impl/cpu-row.ts): CR0, CR3 and CR4
 * from the host-state area with the bits VM exits do not modify kept and the VMX fixed bits set,
 * IA32_EFER.LME and LMA and CS.L from "host address-space size", CPL 0, RFLAGS = 2 (arithmetic
 * flags clear, VM clear), no blocking by MOV SS, VMX root operation. impl/ tracks only those
 * parts of the processor; the caller recomputes its cached mode afterwards.
 *
 * Also writes the exit reason and exit qualification fields, as both cases do (§27.8, §28.2).
 */
import { EXIT_CONTROL as EXIT } from '../../spec/control-bits.ts';
import { S_CPL, S_CR0_HI, S_CR0_LO, S_CR3_HI, S_CR3_LO, S_CR4_HI, S_CR4_LO, S_CSL, S_FLAGS, S_IN_VMX, S_LMA, S_LME, S_MOV_SS, S_VM } from '../cpu-row.ts';
import type { EntryFacts } from './facts.ts';
import type { GuestFacts } from './guest-facts.ts';
import { high, low, on } from './vmcs-words.ts';

/**
 * CR0 bits a VM exit leaves as they were (§28.5.1 "Loading Host Control Registers, Debug
 * Registers, MSRs"): ET (4), 15:6, 17, 28:19, NW (29), CD (30); bits 63:32 likewise.
 */
const CR0_KEPT = (1 << 4) | 0xffc0 | (1 << 17) | 0x1ff8_0000 | (1 << 29) | (1 << 30);

/** Writes the exit reason and qualification (lo, hi) into the VMCS at `base`. */
export function writeExitInformation(g: GuestFacts, v: Int32Array, base: number, reason: number, qualLo: number, qualHi: number): void {
  const w = g.words;
  if (w.EXIT_REASON >= 0) v[base + w.EXIT_REASON] = reason;
  if (w.EXIT_QUALIFICATION >= 0) {
    v[base + w.EXIT_QUALIFICATION] = qualLo;
    v[base + w.EXIT_QUALIFICATION + 1] = qualHi;
  }
}

/** Loads host state from the VMCS at `base` into the state row at `b`. */
export function loadHostState(e: EntryFacts, s: Int32Array, b: number, v: Int32Array, base: number): void {
  const w = e.words;
  const cr0 = ((low(v, base, w.HOST_CR0) & ~CR0_KEPT) | ((s[b + S_CR0_LO] as number) & CR0_KEPT)) | e.cr0Fixed0Lo;
  s[b + S_CR0_LO] = cr0;
  s[b + S_CR0_HI] = (s[b + S_CR0_HI] as number) | e.cr0Fixed0Hi;
  s[b + S_CR4_LO] = low(v, base, w.HOST_CR4) | e.cr4Fixed0Lo;
  s[b + S_CR4_HI] = high(v, base, w.HOST_CR4) | e.cr4Fixed0Hi;
  s[b + S_CR3_LO] = low(v, base, w.HOST_CR3);
  s[b + S_CR3_HI] = high(v, base, w.HOST_CR3);
  const host64 = on(low(v, base, w.PRIMARY_VM_EXIT_CONTROLS), EXIT.HOST_ADDRESS_SPACE_SIZE) ? 1 : 0;
  s[b + S_LMA] = host64;
  s[b + S_LME] = host64;
  s[b + S_CSL] = host64;
  s[b + S_CPL] = 0;
  s[b + S_VM] = 0;
  s[b + S_FLAGS] = 0;
  s[b + S_MOV_SS] = 0;
  s[b + S_IN_VMX] = 1;
}
