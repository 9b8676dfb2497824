/**
 * The layout of a logical processor's state row: one Int32Array row per processor, `STRIDE`
 * words, at offset `cpu * STRIDE` of ImplMachine's state array (so the whole machine's processor
 * state is one typed array, copied in one call by snapshot()). 64-bit registers take two words,
 * low half first. mov-cr.ts imports these; machine.ts keeps local copies for speed (see there),
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
/** Cached preamble outcome of the VMX instructions: 0, STATUS_UD or STATUS_GP (machine.ts). */
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
/** CR8 (the task-priority register), bits 3:0 (impl/non-root/control-registers.ts). */
export const S_CR8 = 24;
/** DR0..DR3 as (lo, hi) pairs: DRn at S_DR0_LO + 2n (impl/non-root/debug-registers.ts). */
export const S_DR0_LO = 25;
/** DR6 and DR7 halves. */
export const S_DR6_LO = 33;
export const S_DR6_HI = 34;
export const S_DR7_LO = 35;
export const S_DR7_HI = 36;
/** 1 while the address-range monitor is armed by MONITOR (MWAIT's exit qualification reports it). */
export const S_MONITOR_ARMED = 37;
/** Words per processor row. */
export const STRIDE = 38;
