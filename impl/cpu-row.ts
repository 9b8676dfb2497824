/**
 * The layout of a logical processor's state row: one Int32Array row per processor, `STRIDE`
 * words, at offset `cpu * STRIDE` of ImplMachine's state array (so the whole machine's processor
 * state is one typed array, copied in one call by snapshot()). 64-bit registers take two words,
 * low half first. mov-cr.ts imports these; machine.ts and impl/machine/ keep local copies for speed (see impl/machine/base.ts),
 * and test/impl/cpu-row.test.ts checks they agree.
 */

/** 0 outside VMX operation, 1 in VMX root operation, 2 in VMX non-root operation. */
export const S_IN_VMX = 0;
export const S_CR0_LO = 1;
export const S_CR0_HI = 2;
export const S_CR4_LO = 3;
export const S_CR4_HI = 4;
/** IA32_EFER.LMA. */
export const S_LMA = 5;
export const S_CSL = 6;
export const S_CPL = 7;
/** RFLAGS.VM. */
export const S_VM = 8;
export const S_MOV_SS = 9;
/** Arithmetic flags of RFLAGS. */
export const S_FLAGS = 10;
/** IA32_FEATURE_CONTROL. */
export const S_FC_LO = 11;
export const S_FC_HI = 12;
/** VMXON pointer, all ones outside VMX operation. */
export const S_VMXON_LO = 13;
export const S_VMXON_HI = 14;
/** Current-VMCS pointer, all ones (FFFFFFFF_FFFFFFFFH) when invalid. */
export const S_CUR_LO = 15;
export const S_CUR_HI = 16;
/** Offset of the current VMCS's region in the memory slab, -1 when there is no current VMCS. */
export const S_CUR_BASE = 17;
/** Cached preamble outcome of the VMX instructions: 0, STATUS_UD or STATUS_GP (impl/machine/core.ts). */
export const S_GATE = 18;
/** Cached "in 64-bit mode" (IA32_EFER.LMA = 1 and CS.L = 1): register operands are 64 bits. */
export const S_WIDE = 19;
/** Shadow-VMCS indicator read by the VMPTRLD that made the current VMCS current. */
export const S_CUR_SHADOW = 20;
/** IA32_EFER.LME. */
export const S_LME = 21;
/** CR3 bits 31:0 and 63:32 (the `set` operation gives bits 31:0). */
export const S_CR3_LO = 22;
export const S_CR3_HI = 23;
/** DR0..DR3 as (lo, hi) pairs: DRn at S_DR0_LO + 2n (impl/non-root/debug-registers.ts); DR7 is S_DR7_LO. */
export const S_DR0_LO = 24;
/** DR6 halves. */
export const S_DR6_LO = 32;
export const S_DR6_HI = 33;
/** CR8 (the task-priority register), bits 3:0 (impl/non-root/control-registers.ts). */
export const S_CR8 = 34;
/** DR7 (400H after reset and after every VM exit). */
export const S_DR7_LO = 35;
export const S_DR7_HI = 36;
/** 1 while the address-range monitor is armed by MONITOR (MWAIT's exit qualification reports it). */
export const S_MONITOR_ARMED = 37;
/**
 * RIP in VMX root operation (the host RIP a VM exit loads). In VMX non-root operation the guest
 * RIP lives in the current VMCS's guest-RIP field, where VM entry found it: guest instructions
 * that complete advance it there (impl/vm-exit/index.ts advanceGuestRip), so a VM exit finds the
 * RIP of the exiting instruction in place (§28.3.3).
 */
export const S_RIP_LO = 38;
export const S_RIP_HI = 39;
/**
 * IA32_EFER apart from LME (bit 8) and LMA (bit 10), which live in S_LME and S_LMA: bits 31:0
 * with those two bits always 0 here, and bits 63:32.
 */
export const S_EFER_LO = 40;
export const S_EFER_HI = 41;
/** IA32_PAT. */
export const S_PAT_LO = 42;
export const S_PAT_HI = 43;
/** IA32_DEBUGCTL. */
export const S_DEBUGCTL_LO = 44;
export const S_DEBUGCTL_HI = 45;
/** IA32_SYSENTER_CS (bits 31:0; bits 63:32 are 0 after every load impl/ performs). */
export const S_SYSENTER_CS = 46;
/** IA32_SYSENTER_ESP. */
export const S_SYSENTER_ESP_LO = 47;
export const S_SYSENTER_ESP_HI = 48;
/** IA32_SYSENTER_EIP. */
export const S_SYSENTER_EIP_LO = 49;
export const S_SYSENTER_EIP_HI = 50;
/** IA32_PERF_GLOBAL_CTRL. */
export const S_PERF_GLOBAL_CTRL_LO = 51;
export const S_PERF_GLOBAL_CTRL_HI = 52;
/** IA32_BNDCFGS. */
export const S_BNDCFGS_LO = 53;
export const S_BNDCFGS_HI = 54;
/**
 * Guest blocking other than by MOV SS, in the bit positions of the interruptibility-state field:
 * bit 0 blocking by STI (until a guest instruction completes), bit 3 blocking by NMI (or
 * virtual-NMI blocking). Blocking by MOV SS is S_MOV_SS.
 */
export const S_BLOCKING = 55;
/** Guest pending debug exceptions loaded at VM entry (cleared when a guest instruction completes). */
export const S_PENDING_DEBUG_LO = 56;
export const S_PENDING_DEBUG_HI = 57;
/** 0 while the processor runs; the nonzero VMX-abort indicator after a VMX abort shut it down. */
export const S_SHUTDOWN = 58;
/**
 * The guest activity state (SDM Vol. 3C §25.4.2 "Guest Non-Register State" values: 0 active, 1
 * HLT, 2 shutdown, 3 wait-for-SIPI) a VM entry left the processor in (impl/vm-entry/pending-events.ts);
 * a VM exit saves it and makes the processor active again.
 */
export const S_ACTIVITY = 59;
/* Words 60-63 are spare (the row is a multiple of eight words). */
/** Words per processor row. */
export const STRIDE = 64;
