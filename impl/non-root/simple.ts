/**
 * The guest operations without register or memory state of their own: CPUID, HLT, INVD, WBINVD
 * and WBNOINVD, INVLPG, RDTSC, RDTSCP, RDPMC, PAUSE, MONITOR, MWAIT, XSETBV and GETSEC. Each makes, in order, the faults
 * that precede a VM exit (invalid opcode and privilege-based faults: SDM Vol. 3C, December 2023,
 * §26.1.1 "Relative Priority of Faults and VM Exits"), the VM exit its control asks for (§26.1.2
 * "Instructions That Cause VM Exits Unconditionally", §26.1.3 "Instructions That Cause VM Exits
 * Conditionally"), then the instruction's own faults and its completion (Vol. 2 instruction
 * pages). Exit qualification 0 except INVLPG (the linear address) and MWAIT (bit 0: the monitor
 * was armed), §28.2.1 "Basic VM-Exit Information".
 *
 * Choices where the SDM leaves the processor's model open (impl/README.md): RDTSCP exists where the
 * profile allows "enable RDTSCP"; RDPMC has 8 general-purpose and 3 fixed-function counters; XCR0
 * supports x87 and SSE state only as far as impl/ can tell (any other bit is unimplemented);
 * PAUSE-loop exiting, which depends on timing, is unimplemented.
 */
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { S_CR4_LO, S_MONITOR_ARMED, S_WIDE } from '../cpu-row.ts';
import { CR4_OSXSAVE, CR4_PCE, CR4_SMXE, CR4_TSD } from './bits.ts';
import type { GuestContext } from './context.ts';
import {
  CPUID_LENGTH,
  HLT_LENGTH,
  INVD_LENGTH,
  INVLPG_LENGTH,
  MONITOR_LENGTH,
  MWAIT_LENGTH,
  PAUSE_LENGTH,
  RDPMC_LENGTH,
  RDTSC_LENGTH,
  RDTSCP_LENGTH,
  WBINVD_LENGTH,
  XSETBV_LENGTH,
} from './lengths.ts';
import { GETSEC_LENGTH, WBNOINVD_LENGTH } from './system-exit-info.ts';

/** RDPMC counters (impl/ choice, matching the IA32_PERF_GLOBAL_CTRL bits of impl/README.md). */
const GENERAL_PURPOSE_COUNTERS = 8;
const FIXED_COUNTERS = 3;
/** ECX bit 30 selects the fixed-function counters (Vol. 2B "RDPMC"). */
const RDPMC_FIXED = 1 << 30;
/** XCR0 bits impl/ knows to be supported: x87 (0) and SSE (1); AVX (2) needs SSE. */
const XCR0_X87 = 1;
const XCR0_SSE = 2;
const XCR0_AVX = 4;

/** CPUID: a VM exit in VMX non-root operation, always (§26.1.2). */
export function cpuid(g: GuestContext, cpu: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.nonRoot(b)) return g.instructionExit(b, EXIT_REASON.CPUID, 0, 0, CPUID_LENGTH);
  return 0;
}

/** HLT: #GP(0) when privileged; "HLT exiting". The processor wakes before the next operation. */
export function hlt(g: GuestContext, cpu: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.privileged(b)) return g.gp(b);
  if (g.nonRoot(b) && g.primary(b, PRIMARY_CONTROL.HLT_EXITING)) return g.instructionExit(b, EXIT_REASON.HLT, 0, 0, HLT_LENGTH);
  return g.complete(b, HLT_LENGTH);
}

/** INVD: #GP(0) when privileged, then a VM exit in VMX non-root operation, always. */
export function invd(g: GuestContext, cpu: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.privileged(b)) return g.gp(b);
  if (g.nonRoot(b)) return g.instructionExit(b, EXIT_REASON.INVD, 0, 0, INVD_LENGTH);
  return 0;
}

/**
 * WBINVD, or WBNOINVD when `noInvalidate` (Vol. 2D "WBNOINVD—Write Back and Do Not Invalidate
 * Cache": the same checks; F3 0F 09, one byte longer): #GP(0) when privileged; "WBINVD exiting"
 * (secondary), reason 54 for both (§26.1.3).
 */
export function wbinvd(g: GuestContext, cpu: number, noInvalidate = false): number {
  const b = g.hooks.instruction(cpu);
  const length = noInvalidate ? WBNOINVD_LENGTH : WBINVD_LENGTH;
  if (g.privileged(b)) return g.gp(b);
  if (g.nonRoot(b) && g.secondary(b, SECONDARY_CONTROL.WBINVD_EXITING)) {
    return g.instructionExit(b, EXIT_REASON.WBINVD_OR_WBNOINVD, 0, 0, length);
  }
  return g.complete(b, length);
}

/**
 * GETSEC (Vol. 2D chapter 7 "Safer Mode Extensions Reference"): #UD when CR4.SMXE = 0; otherwise
 * a VM exit in VMX non-root operation whatever the CPL and leaf (§26.1.2 "Instructions That Cause
 * VM Exits Unconditionally"; basic exit reason 11, Appendix C). Its leaf functions outside a
 * guest are not modelled (unimplemented).
 */
export function getsec(g: GuestContext, cpu: number): number {
  const b = g.hooks.instruction(cpu);
  if (((g.s[b + S_CR4_LO] as number) & CR4_SMXE) === 0) return g.ud(b);
  if (g.nonRoot(b)) return g.instructionExit(b, EXIT_REASON.GETSEC, 0, 0, GETSEC_LENGTH);
  return g.unimplemented('GETSEC leaf functions (Safer Mode Extensions) outside VMX non-root operation');
}

/**
 * INVLPG m: #GP(0) when privileged; "INVLPG exiting", with the linear address as the exit
 * qualification (bits 63:32 cleared outside 64-bit mode). A non-canonical address does not fault.
 */
export function invlpg(g: GuestContext, cpu: number, addressLo: number, addressHi: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.privileged(b)) return g.gp(b);
  if (g.nonRoot(b) && g.primary(b, PRIMARY_CONTROL.INVLPG_EXITING)) {
    return g.instructionExit(b, EXIT_REASON.INVLPG, addressLo, g.s[b + S_WIDE] === 1 ? addressHi : 0, INVLPG_LENGTH);
  }
  return g.complete(b, INVLPG_LENGTH);
}

/** RDTSC and RDTSCP fault with #GP(0) when CR4.TSD = 1 outside CPL 0 (Vol. 2B). */
function timeStampDisabled(g: GuestContext, b: number): boolean {
  return ((g.s[b + S_CR4_LO] as number) & CR4_TSD) !== 0 && g.privileged(b);
}

/** RDTSC: #GP(0) for CR4.TSD outside CPL 0; "RDTSC exiting". */
export function rdtsc(g: GuestContext, cpu: number): number {
  const b = g.hooks.instruction(cpu);
  if (timeStampDisabled(g, b)) return g.gp(b);
  if (g.nonRoot(b) && g.primary(b, PRIMARY_CONTROL.RDTSC_EXITING)) return g.instructionExit(b, EXIT_REASON.RDTSC, 0, 0, RDTSC_LENGTH);
  return g.complete(b, RDTSC_LENGTH);
}

/**
 * RDTSCP: #UD where the processor lacks it and, in VMX non-root operation, when "enable RDTSCP" is
 * 0 (§26.3 "Changes to Instruction Behavior in VMX Non-Root Operation"); #GP(0) for CR4.TSD; a
 * VM exit (reason 51) under "RDTSC exiting".
 */
export function rdtscp(g: GuestContext, cpu: number): number {
  const b = g.hooks.instruction(cpu);
  const nonRoot = g.nonRoot(b);
  if (!g.profile.supportsControl('secondary', SECONDARY_CONTROL.ENABLE_RDTSCP)) return g.ud(b);
  if (nonRoot && !g.secondary(b, SECONDARY_CONTROL.ENABLE_RDTSCP)) return g.ud(b);
  if (timeStampDisabled(g, b)) return g.gp(b);
  if (nonRoot && g.primary(b, PRIMARY_CONTROL.RDTSC_EXITING)) return g.instructionExit(b, EXIT_REASON.RDTSCP, 0, 0, RDTSCP_LENGTH);
  return g.complete(b, RDTSCP_LENGTH);
}

/**
 * RDPMC: #GP(0) outside CPL 0 with CR4.PCE = 0 (privilege-based, before the exit); "RDPMC
 * exiting"; then #GP(0) for a counter the processor lacks.
 */
export function rdpmc(g: GuestContext, cpu: number, ecx: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.privileged(b) && ((g.s[b + S_CR4_LO] as number) & CR4_PCE) === 0) return g.gp(b);
  if (g.nonRoot(b) && g.primary(b, PRIMARY_CONTROL.RDPMC_EXITING)) return g.instructionExit(b, EXIT_REASON.RDPMC, 0, 0, RDPMC_LENGTH);
  const index = ecx & ~RDPMC_FIXED;
  if ((index >>> 0) >= ((ecx & RDPMC_FIXED) !== 0 ? FIXED_COUNTERS : GENERAL_PURPOSE_COUNTERS)) return g.gp(b);
  return g.complete(b, RDPMC_LENGTH);
}

/**
 * PAUSE: "PAUSE exiting" (§26.1.3). With it 0 and "PAUSE-loop exiting" 1 at CPL 0, whether a VM
 * exit occurs depends on the time between executions, which impl/ does not model.
 */
export function pause(g: GuestContext, cpu: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.nonRoot(b)) {
    if (g.primary(b, PRIMARY_CONTROL.PAUSE_EXITING)) return g.instructionExit(b, EXIT_REASON.PAUSE, 0, 0, PAUSE_LENGTH);
    if (g.secondary(b, SECONDARY_CONTROL.PAUSE_LOOP_EXITING) && g.privilegeLevel(b) === 0) {
      return g.unimplemented('PAUSE with "PAUSE-loop exiting" = 1 (the VM exit depends on the time between PAUSEs)');
    }
  }
  return g.complete(b, PAUSE_LENGTH);
}

/** MONITOR: #UD outside CPL 0 (Vol. 2B "MONITOR"); "MONITOR exiting"; arms the monitor. */
export function monitor(g: GuestContext, cpu: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.privileged(b)) return g.ud(b);
  if (g.nonRoot(b) && g.primary(b, PRIMARY_CONTROL.MONITOR_EXITING)) return g.instructionExit(b, EXIT_REASON.MONITOR, 0, 0, MONITOR_LENGTH);
  g.s[b + S_MONITOR_ARMED] = 1;
  return g.complete(b, MONITOR_LENGTH);
}

/**
 * MWAIT: #UD outside CPL 0; "MWAIT exiting", exit qualification bit 0 = the monitor is armed;
 * otherwise it waits and is woken (the monitor is no longer armed).
 */
export function mwait(g: GuestContext, cpu: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.privileged(b)) return g.ud(b);
  if (g.nonRoot(b) && g.primary(b, PRIMARY_CONTROL.MWAIT_EXITING)) {
    return g.instructionExit(b, EXIT_REASON.MWAIT, g.s[b + S_MONITOR_ARMED] as number, 0, MWAIT_LENGTH);
  }
  g.s[b + S_MONITOR_ARMED] = 0;
  return g.complete(b, MWAIT_LENGTH);
}

/**
 * XSETBV: #UD with CR4.OSXSAVE = 0, #GP(0) when privileged, then a VM exit in VMX non-root
 * operation, always (§26.1.2). Otherwise #GP(0) for ECX not 0, XCR0.x87 = 0 or AVX without SSE;
 * other state components are model-specific (unimplemented).
 */
export function xsetbv(g: GuestContext, cpu: number, ecxLo: number, valueLo: number, valueHi: number): number {
  const b = g.hooks.instruction(cpu);
  if (((g.s[b + S_CR4_LO] as number) & CR4_OSXSAVE) === 0) return g.ud(b);
  if (g.privileged(b)) return g.gp(b);
  if (g.nonRoot(b)) return g.instructionExit(b, EXIT_REASON.XSETBV, 0, 0, XSETBV_LENGTH);
  if (ecxLo !== 0 || (valueLo & XCR0_X87) === 0 || ((valueLo & XCR0_AVX) !== 0 && (valueLo & XCR0_SSE) === 0)) return g.gp(b);
  if ((valueLo & ~(XCR0_X87 | XCR0_SSE)) !== 0 || valueHi !== 0) {
    return g.unimplemented('XSETBV of XCR0 state components beyond x87 and SSE (which are supported is model-specific)');
  }
  return 0;
}
