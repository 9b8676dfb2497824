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
import { assertLiterals } from '../literals.ts';
import type { ExitFacts } from './exit-facts.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  S_ACTIVITY = 59,
  S_BLOCKING = 55,
  S_BNDCFGS_HI = 54,
  S_BNDCFGS_LO = 53,
  S_CR0_HI = 2,
  S_CR0_LO = 1,
  S_CR3_HI = 23,
  S_CR3_LO = 22,
  S_CR4_HI = 4,
  S_CR4_LO = 3,
  S_DEBUGCTL_HI = 45,
  S_DEBUGCTL_LO = 44,
  S_DR7_HI = 36,
  S_DR7_LO = 35,
  S_EFER_HI = 41,
  S_EFER_LO = 40,
  S_FLAGS = 10,
  S_LMA = 5,
  S_LME = 21,
  S_PAT_HI = 43,
  S_PAT_LO = 42,
  S_PENDING_DEBUG_LO = 56,
  S_PERF_GLOBAL_CTRL_HI = 52,
  S_PERF_GLOBAL_CTRL_LO = 51,
  S_SYSENTER_CS = 46,
  S_SYSENTER_EIP_HI = 50,
  S_SYSENTER_EIP_LO = 49,
  S_SYSENTER_ESP_HI = 48,
  S_SYSENTER_ESP_LO = 47,
  S_VM = 8,
  SEG_ACCESS_RIGHTS = 3,
  SEG_BASE = 1,
  SEGMENT_ES = 0,
  SEGMENT_SS = 2,
  SEGMENT_DS = 3,
  SEGMENT_LDTR = 6,
  EXIT_CONTROL_SAVE_DEBUG_CONTROLS = 2,
  EXIT_CONTROL_SAVE_IA32_EFER = 20,
  EXIT_CONTROL_SAVE_IA32_PAT = 18,
  EXIT_CONTROL_SAVE_IA32_PERF_GLOBAL_CTRL = 30,
  EFER_BIT_LMA = 10,
  EFER_BIT_LME = 8,
  RFLAGS_VM = 17,
  /** Access-rights bits a VM exit saves: 7:0, 15:12 and 16 (31:17 and 11:8 are cleared). */
  ACCESS_RIGHTS_SAVED = 0x1f0ff,
  UNUSABLE = 0x10000,
  /** RFLAGS bits taken from the row or the caller: the arithmetic flags, RF (16), VM (17). */
  RF = 0x10000,
  RFLAGS_TRACKED = 0x308d5,
  /** Pending-debug-exception bits that exist: B3-B0, enabled breakpoint (12), BS (14), RTM (16). */
  PENDING_DEBUG_DEFINED = 0x1500f,
  EFER_LME = 0x100,
  EFER_LMA = 0x400,
}


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
  put(v, base, w.GUEST_CR0, s[b + K.S_CR0_LO] as number, s[b + K.S_CR0_HI] as number);
  put(v, base, w.GUEST_CR3, s[b + K.S_CR3_LO] as number, s[b + K.S_CR3_HI] as number);
  put(v, base, w.GUEST_CR4, s[b + K.S_CR4_LO] as number, s[b + K.S_CR4_HI] as number);
  v[base + w.GUEST_IA32_SYSENTER_CS] = s[b + K.S_SYSENTER_CS] as number;
  put(v, base, w.GUEST_IA32_SYSENTER_ESP, s[b + K.S_SYSENTER_ESP_LO] as number, s[b + K.S_SYSENTER_ESP_HI] as number);
  put(v, base, w.GUEST_IA32_SYSENTER_EIP, s[b + K.S_SYSENTER_EIP_LO] as number, s[b + K.S_SYSENTER_EIP_HI] as number);
  if (((exit >>> K.EXIT_CONTROL_SAVE_DEBUG_CONTROLS) & 1) === 1) {
    put(v, base, w.GUEST_DR7, s[b + K.S_DR7_LO] as number, s[b + K.S_DR7_HI] as number);
    put(v, base, w.GUEST_IA32_DEBUGCTL, s[b + K.S_DEBUGCTL_LO] as number, s[b + K.S_DEBUGCTL_HI] as number);
  }
  if (((exit >>> K.EXIT_CONTROL_SAVE_IA32_PAT) & 1) === 1) put(v, base, w.GUEST_IA32_PAT, s[b + K.S_PAT_LO] as number, s[b + K.S_PAT_HI] as number);
  if (((exit >>> K.EXIT_CONTROL_SAVE_IA32_EFER) & 1) === 1) {
    const efer = (s[b + K.S_EFER_LO] as number) | (s[b + K.S_LME] === 1 ? K.EFER_LME : 0) | (s[b + K.S_LMA] === 1 ? K.EFER_LMA : 0);
    put(v, base, w.GUEST_IA32_EFER, efer, s[b + K.S_EFER_HI] as number);
  }
  if (((exit >>> K.EXIT_CONTROL_SAVE_IA32_PERF_GLOBAL_CTRL) & 1) === 1) {
    put(v, base, w.GUEST_IA32_PERF_GLOBAL_CTRL, s[b + K.S_PERF_GLOBAL_CTRL_LO] as number, s[b + K.S_PERF_GLOBAL_CTRL_HI] as number);
  }
  if (x.bndcfgsSupported) put(v, base, w.GUEST_IA32_BNDCFGS, s[b + K.S_BNDCFGS_LO] as number, s[b + K.S_BNDCFGS_HI] as number);
  // §28.3.2
  saveSegments(x, v, base);
  // §28.3.3
  const rflags = ((v[base + w.GUEST_RFLAGS] as number) & ~K.RFLAGS_TRACKED) | (s[b + K.S_FLAGS] as number) | (rf === 1 ? K.RF : 0) | ((s[b + K.S_VM] as number) << K.RFLAGS_VM);
  v[base + w.GUEST_RFLAGS] = rflags;
  // §28.3.4
  // The activity state before the exit (HLT, shutdown or wait-for-SIPI for an exit before the
  // first guest instruction, impl/vm-entry/pending-events.ts); the processor is active after it.
  v[base + w.GUEST_ACTIVITY_STATE] = s[b + K.S_ACTIVITY] as number;
  s[b + K.S_ACTIVITY] = 0;
  v[base + w.GUEST_INTERRUPTIBILITY_STATE] = (s[b + K.S_BLOCKING] as number) | (movSsBlocked << 1);
  const pending = w.GUEST_PENDING_DEBUG_EXCEPTIONS;
  if (keepPendingDebug) {
    v[base + pending] = (s[b + K.S_PENDING_DEBUG_LO] as number) & K.PENDING_DEBUG_DEFINED;
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
    const arWord = segments[r * 4 + K.SEG_ACCESS_RIGHTS] as number;
    const ar = v[base + arWord] as number;
    v[base + arWord] = ar & K.ACCESS_RIGHTS_SAVED;
    if ((ar & K.UNUSABLE) === 0) continue;
    const baseWord = segments[r * 4 + K.SEG_BASE] as number;
    if (r === K.SEGMENT_SS || r === K.SEGMENT_DS || r === K.SEGMENT_ES) {
      v[base + baseWord + 1] = 0;
    } else if (r === K.SEGMENT_LDTR) {
      // Canonical: bits 63:47 copies of bit 47 (48 linear-address bits).
      v[base + baseWord + 1] = ((v[base + baseWord + 1] as number) << 16) >> 16;
    }
  }
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-exit/save-guest.ts', [
  [K.EXIT_CONTROL_SAVE_DEBUG_CONTROLS, EXIT_CONTROL.SAVE_DEBUG_CONTROLS],
  [K.EXIT_CONTROL_SAVE_IA32_EFER, EXIT_CONTROL.SAVE_IA32_EFER],
  [K.EXIT_CONTROL_SAVE_IA32_PAT, EXIT_CONTROL.SAVE_IA32_PAT],
  [K.EXIT_CONTROL_SAVE_IA32_PERF_GLOBAL_CTRL, EXIT_CONTROL.SAVE_IA32_PERF_GLOBAL_CTRL],
  [K.EFER_BIT_LMA, EFER.LMA],
  [K.EFER_BIT_LME, EFER.LME],
  [K.RFLAGS_VM, RFLAGS.VM],
  [K.RFLAGS_TRACKED, ARITHMETIC_FLAGS_MASK | K.RF | (1 << K.RFLAGS_VM)],
  [K.EFER_LME, 1 << K.EFER_BIT_LME],
  [K.EFER_LMA, 1 << K.EFER_BIT_LMA],
]);
