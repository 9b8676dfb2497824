/**
 * Saving guest state at a VM exit (SDM Vol. 3C, December 2023, §28.3 "Saving Guest State").
 *
 * impl/ keeps the guest's state where VM entry loaded it from: the guest-state fields of the VMCS
 * hold RIP (advanced in place) and every register no guest operation can change (RSP, segment registers, GDTR/IDTR, the
 * bits of RFLAGS impl/ does not track, the VMX-preemption timer value, the PDPTEs), so saving
 * those is leaving the field as it is, after the saving rules that transform a value; the parts a
 * guest can change live in the processor row (impl/cpu-row.ts) and are written back here:
 *
 * - §28.3.1 "Saving Control Registers, Debug Registers, and MSRs": CR0, CR3, CR4,
 *   IA32_SYSENTER_CS (bits 31:0), IA32_SYSENTER_ESP and _EIP always; DR7 and IA32_DEBUGCTL with
 *   "save debug controls"; IA32_PAT with "save IA32_PAT"; IA32_EFER with "save IA32_EFER";
 *   IA32_PERF_GLOBAL_CTRL with "save IA32_PERF_GLOBAL_CTRL"; IA32_BNDCFGS when the processor
 *   supports "load IA32_BNDCFGS" or "clear IA32_BNDCFGS".
 * - §28.3.2 "Saving Segment Registers and Descriptor-Table Registers": bits 31:17 and 11:8 of
 *   every access-rights field are cleared and bit 16 says "unusable"; for an unusable register the
 *   base, limit and the rest of the access rights are undefined except as listed there: bits 63:32
 *   of the SS, DS and ES bases are 0, and the LDTR base is canonical (impl/ keeps the rest).
 * - §28.3.3 "Saving RIP, RSP, RFLAGS, and SSP": RIP of the exiting instruction, already in the
 *   guest-RIP field (completed guest instructions advance it there; a trap-like exit's caller
 *   advances it first); RFLAGS with the row's arithmetic flags and VM
 *   bit, and RF as the caller computed it (0 for instruction exits; for a fault-class exception,
 *   1, the value the IDT delivery would have pushed).
 * - §28.3.4 "Saving Non-Register State": the activity state before the VM exit (active for an
 *   instruction's exit; the state VM entry left for an exit before the first guest instruction,
 *   since "a return to the active state occurs only after the VM exit completes", §28.1
 *   "Architectural State before a VM Exit"); interruptibility: blocking by STI
 *   and by NMI from the row, blocking by MOV SS as it was before the exiting instruction, blocking
 *   by SMI and enclave interruption 0; pending debug exceptions cleared except for an MTF VM exit
 *   and an exit not caused by #DB under MOV-SS blocking, which save the value VM entry loaded
 *   (the SDM allows it when no instruction completed since the entry, and a completed
 *   instruction clears the row's copy); the
 *   VMX-preemption timer value unchanged (no time passes in impl/, so the saved value is the
 *   loaded one).
 */
import { EXIT_CONTROL } from '../../spec/control-bits.ts';
import { EFER, RFLAGS } from '../../spec/guest-state-bits.ts';
import { ARITHMETIC_FLAGS_MASK } from '../../spec/observations.ts';
import {
  S_ACTIVITY,
  S_BLOCKING,
  S_BNDCFGS_HI,
  S_BNDCFGS_LO,
  S_CR0_HI,
  S_CR0_LO,
  S_CR3_HI,
  S_CR3_LO,
  S_CR4_HI,
  S_CR4_LO,
  S_DEBUGCTL_HI,
  S_DEBUGCTL_LO,
  S_DR7_HI,
  S_DR7_LO,
  S_EFER_HI,
  S_EFER_LO,
  S_FLAGS,
  S_LMA,
  S_LME,
  S_PAT_HI,
  S_PAT_LO,
  S_PENDING_DEBUG_LO,
  S_PERF_GLOBAL_CTRL_HI,
  S_PERF_GLOBAL_CTRL_LO,
  S_SYSENTER_CS,
  S_SYSENTER_EIP_HI,
  S_SYSENTER_EIP_LO,
  S_SYSENTER_ESP_HI,
  S_SYSENTER_ESP_LO,
  S_VM,
} from '../cpu-row.ts';
import { SEG_ACCESS_RIGHTS, SEG_BASE, SEGMENT } from '../vm-entry/guest-facts.ts';
import type { ExitFacts } from './exit-facts.ts';

/** Access-rights bits a VM exit saves: 7:0, 15:12 and 16 (31:17 and 11:8 are cleared). */
const ACCESS_RIGHTS_SAVED = 0x1_f0ff;
const UNUSABLE = 1 << 16;
/** RFLAGS bits taken from the row or the caller: the arithmetic flags, RF (16), VM (17). */
const RF = 1 << 16;
const RFLAGS_TRACKED = ARITHMETIC_FLAGS_MASK | RF | (1 << RFLAGS.VM);
/** Pending-debug-exception bits that exist: B3-B0, enabled breakpoint (12), BS (14), RTM (16). */
const PENDING_DEBUG_DEFINED = 0xf | (1 << 12) | (1 << 14) | (1 << 16);
const EFER_LME = 1 << EFER.LME;
const EFER_LMA = 1 << EFER.LMA;

/**
 * Writes a 64-bit row value into a field. Every field written here exists: the unconditional ones
 * on every VMX processor, the others whenever their save control (or, for IA32_BNDCFGS, the
 * feature) is supported (Vol. 3D Appendix B "Field Encoding in VMCS").
 */
function put(v: Int32Array, base: number, word: number, lo: number, hi: number): void {
  v[base + word] = lo;
  v[base + word + 1] = hi;
}

/**
 * Saves the guest state of the row at `b` into the VMCS at `base`. `movSsBlocked` is the
 * blocking by MOV SS in force before the exiting instruction, `rf` the RFLAGS.RF value to save;
 * `keepPendingDebug` says the exit is one that does not clear the pending debug exceptions (an
 * MTF VM exit, or an exit not caused by #DB under MOV-SS blocking).
 */
export function saveGuestState(x: ExitFacts, s: Int32Array, b: number, v: Int32Array, base: number, movSsBlocked: number, rf: number, keepPendingDebug: boolean): void {
  const w = x.words;
  const exit = v[base + w.PRIMARY_VM_EXIT_CONTROLS] as number;
  // §28.3.1
  put(v, base, w.GUEST_CR0, s[b + S_CR0_LO] as number, s[b + S_CR0_HI] as number);
  put(v, base, w.GUEST_CR3, s[b + S_CR3_LO] as number, s[b + S_CR3_HI] as number);
  put(v, base, w.GUEST_CR4, s[b + S_CR4_LO] as number, s[b + S_CR4_HI] as number);
  v[base + w.GUEST_IA32_SYSENTER_CS] = s[b + S_SYSENTER_CS] as number;
  put(v, base, w.GUEST_IA32_SYSENTER_ESP, s[b + S_SYSENTER_ESP_LO] as number, s[b + S_SYSENTER_ESP_HI] as number);
  put(v, base, w.GUEST_IA32_SYSENTER_EIP, s[b + S_SYSENTER_EIP_LO] as number, s[b + S_SYSENTER_EIP_HI] as number);
  if (((exit >>> EXIT_CONTROL.SAVE_DEBUG_CONTROLS) & 1) === 1) {
    put(v, base, w.GUEST_DR7, s[b + S_DR7_LO] as number, s[b + S_DR7_HI] as number);
    put(v, base, w.GUEST_IA32_DEBUGCTL, s[b + S_DEBUGCTL_LO] as number, s[b + S_DEBUGCTL_HI] as number);
  }
  if (((exit >>> EXIT_CONTROL.SAVE_IA32_PAT) & 1) === 1) put(v, base, w.GUEST_IA32_PAT, s[b + S_PAT_LO] as number, s[b + S_PAT_HI] as number);
  if (((exit >>> EXIT_CONTROL.SAVE_IA32_EFER) & 1) === 1) {
    const efer = (s[b + S_EFER_LO] as number) | (s[b + S_LME] === 1 ? EFER_LME : 0) | (s[b + S_LMA] === 1 ? EFER_LMA : 0);
    put(v, base, w.GUEST_IA32_EFER, efer, s[b + S_EFER_HI] as number);
  }
  if (((exit >>> EXIT_CONTROL.SAVE_IA32_PERF_GLOBAL_CTRL) & 1) === 1) {
    put(v, base, w.GUEST_IA32_PERF_GLOBAL_CTRL, s[b + S_PERF_GLOBAL_CTRL_LO] as number, s[b + S_PERF_GLOBAL_CTRL_HI] as number);
  }
  if (x.bndcfgsSupported) put(v, base, w.GUEST_IA32_BNDCFGS, s[b + S_BNDCFGS_LO] as number, s[b + S_BNDCFGS_HI] as number);
  // §28.3.2
  saveSegments(x, v, base);
  // §28.3.3
  const rflags = ((v[base + w.GUEST_RFLAGS] as number) & ~RFLAGS_TRACKED) | (s[b + S_FLAGS] as number) | (rf === 1 ? RF : 0) | ((s[b + S_VM] as number) << RFLAGS.VM);
  v[base + w.GUEST_RFLAGS] = rflags;
  // §28.3.4
  // The activity state before the exit (HLT, shutdown or wait-for-SIPI for an exit before the
  // first guest instruction, impl/vm-entry/pending-events.ts); the processor is active after it.
  v[base + w.GUEST_ACTIVITY_STATE] = s[b + S_ACTIVITY] as number;
  s[b + S_ACTIVITY] = 0;
  v[base + w.GUEST_INTERRUPTIBILITY_STATE] = (s[b + S_BLOCKING] as number) | (movSsBlocked << 1);
  const pending = w.GUEST_PENDING_DEBUG_EXCEPTIONS;
  if (keepPendingDebug) {
    v[base + pending] = (s[b + S_PENDING_DEBUG_LO] as number) & PENDING_DEBUG_DEFINED;
    v[base + pending + 1] = 0;
  } else {
    v[base + pending] = 0;
    v[base + pending + 1] = 0;
  }
}

/** §28.3.2 on the segment fields as VM entry loaded them. */
function saveSegments(x: ExitFacts, v: Int32Array, base: number): void {
  const segments = x.segments;
  for (let r = 0; r < 8; r++) {
    const arWord = segments[r * 4 + SEG_ACCESS_RIGHTS] as number;
    const ar = v[base + arWord] as number;
    v[base + arWord] = ar & ACCESS_RIGHTS_SAVED;
    if ((ar & UNUSABLE) === 0) continue;
    const baseWord = segments[r * 4 + SEG_BASE] as number;
    if (r === SEGMENT.SS || r === SEGMENT.DS || r === SEGMENT.ES) {
      v[base + baseWord + 1] = 0;
    } else if (r === SEGMENT.LDTR) {
      // Canonical: bits 63:47 copies of bit 47 (48 linear-address bits).
      v[base + baseWord + 1] = ((v[base + baseWord + 1] as number) << 16) >> 16;
    }
  }
}
