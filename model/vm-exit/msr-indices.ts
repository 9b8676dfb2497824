/**
 * The indices of the MSRs VM entries and VM exits load, save and clear (SDM Vol. 4, December 2023,
 * Chapter 2 "Model-Specific Registers (MSRs)", Table 2-2 "IA-32 Architectural MSRs"; which of them
 * a VM exit touches: Vol. 3C §28.3.1 "Saving Control Registers, Debug Registers, and MSRs" and
 * §28.5.1 "Loading Host Control Registers, Debug Registers, MSRs").
 *
 * Kept here until spec/ names MSR indices; `CpuState.msrs` is keyed by these numbers.
 */

/** Architectural MSR indices, by the SDM's names without the IA32_ prefix. */
export const MSR = {
  SYSENTER_CS: 0x174,
  SYSENTER_ESP: 0x175,
  SYSENTER_EIP: 0x176,
  DEBUGCTL: 0x1d9,
  PAT: 0x277,
  PERF_GLOBAL_CTRL: 0x38f,
  RTIT_CTL: 0x570,
  S_CET: 0x6a2,
  INTERRUPT_SSP_TABLE_ADDR: 0x6a8,
  PKRS: 0x6e1,
  XSS: 0xda0,
  BNDCFGS: 0xd90,
  LBR_CTL: 0x14ce,
  EFER: 0xc000_0080,
  FS_BASE: 0xc000_0100,
  GS_BASE: 0xc000_0101,
} as const;
