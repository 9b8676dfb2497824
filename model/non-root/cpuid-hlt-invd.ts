/**
 * CPUID, HLT, INVD, WBINVD, INVLPG and XSETBV, in and out of VMX non-root operation.
 *
 * Each function is a flat list of rules in the order the SDM decides them: first the faults that
 * take priority over a VM exit (#UD and privilege faults, Vol. 3C §26.1.1 "Relative Priority of
 * Faults and VM Exits"), then, in VMX non-root operation, the exit condition (§26.1.2
 * "Instructions That Cause VM Exits Unconditionally", §26.1.3 "Instructions That Cause VM Exits
 * Conditionally"), then the instruction's own faults and its completion (Vol. 2 pages).
 *
 * Exit qualifications (§28.2.1 "Basic VM-Exit Information"): INVLPG reports its linear-address
 * operand (bits 63:32 cleared outside 64-bit mode); WBINVD reports 0 (1 would be WBNOINVD);
 * CPUID, HLT, INVD and XSETBV clear it.
 */
import { sdm } from '../../spec/citation.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { linearAddressQualification } from '../../spec/exit-qualification.ts';
import type { CpuidOp, HltOp, InvdOp, InvlpgOp, WbinvdOp, XsetbvOp } from '../../spec/guest-operations.ts';
import { operand } from '../input.ts';
import { in64BitMode } from '../modes.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { notModelled } from '../verdict.ts';
import { atCplZero, completed, controlBit, controlsUnknown, gp, instructionExit, primaryControls, secondaryControls, ud } from './guest.ts';

const UNCONDITIONAL = sdm('26.1.2', 'Instructions That Cause VM Exits Unconditionally');
const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const CPUID_PAGE = sdm('3.3', 'CPUID—CPU Identification', '2A');
const HLT_PAGE = sdm('3.3', 'HLT—Halt', '2A');
const INVD_PAGE = sdm('3.3', 'INVD—Invalidate Internal Caches', '2A');
const WBINVD_PAGE = sdm('6.1', 'WBINVD—Write Back and Invalidate Cache', '2D');
const INVLPG_PAGE = sdm('3.3', 'INVLPG—Invalidate TLB Entries', '2A');
const XSETBV_PAGE = sdm('6.1', 'XSETBV—Set Extended Control Register', '2D');

/**
 * The exit qualification of a WBNOINVD exit: bit 0 = 1 (§28.2.1 "Basic VM-Exit Information"; 0 for
 * WBINVD). On a processor without WBNOINVD the F3H prefix is ignored and the instruction is WBINVD
 * (Vol. 2D "WBNOINVD—Write Back and Do Not Invalidate Cache"); profiles do not say which processors
 * have it, so the model leaves the qualification of a WBNOINVD exit open (`undefined`): both are
 * allowed.
 */
const WBNOINVD_QUALIFICATION: bigint | undefined = undefined;

/** CR4.OSXSAVE (bit 18, Vol. 3A §2.5 "Control Registers"); spec/control-registers.ts does not name it. */
const CR4_OSXSAVE = 1n << 18n;

/** The decision points of CPUID, HLT, INVD, WBINVD, INVLPG and XSETBV. */
export const CPUID_HLT_INVD_RULES = {
  cpuidExit: rule('cpuid.vm-exit', 'CPUID', UNCONDITIONAL, 'in VMX non-root operation CPUID causes a VM exit (reason 10)'),
  cpuidOk: rule('cpuid.ok', 'CPUID', CPUID_PAGE, 'CPUID completes (the leaves it returns are not compared)'),
  hltCpl: rule('hlt.gp-cpl', 'HLT', HLT_PAGE, '#GP(0) when CPL > 0 (before any VM exit)'),
  hltExit: rule('hlt.vm-exit', 'HLT', CONDITIONAL, 'in VMX non-root operation with "HLT exiting" = 1: VM exit (reason 12)'),
  hltOk: rule('hlt.ok', 'HLT', HLT_PAGE, 'HLT halts; the processor is woken before its next operation and continues after the HLT'),
  invdCpl: rule('invd.gp-cpl', 'INVD', INVD_PAGE, '#GP(0) when CPL > 0 (before the VM exit)'),
  invdExit: rule('invd.vm-exit', 'INVD', UNCONDITIONAL, 'in VMX non-root operation INVD causes a VM exit (reason 13)'),
  invdOk: rule('invd.ok', 'INVD', INVD_PAGE, 'INVD invalidates the caches'),
  wbinvdCpl: rule('wbinvd.gp-cpl', 'WBINVD', WBINVD_PAGE, '#GP(0) when CPL > 0 (before any VM exit)'),
  wbinvdExit: rule('wbinvd.vm-exit', 'WBINVD', CONDITIONAL, 'in VMX non-root operation with "WBINVD exiting" = 1: VM exit (reason 54), qualification 0 (WBINVD) or 1 (WBNOINVD)'),
  wbinvdOk: rule('wbinvd.ok', 'WBINVD', WBINVD_PAGE, 'WBINVD writes back and invalidates the caches'),
  invlpgCpl: rule('invlpg.gp-cpl', 'INVLPG', INVLPG_PAGE, '#GP(0) when CPL > 0 (before any VM exit)'),
  invlpgExit: rule('invlpg.vm-exit', 'INVLPG', CONDITIONAL, 'in VMX non-root operation with "INVLPG exiting" = 1: VM exit (reason 14), qualification the linear address'),
  invlpgOk: rule('invlpg.ok', 'INVLPG', INVLPG_PAGE, 'INVLPG invalidates the TLB entries of the page (a non-canonical address is a no-op)'),
  xsetbvUd: rule('xsetbv.ud-osxsave', 'XSETBV', XSETBV_PAGE, '#UD when CR4.OSXSAVE = 0 (before the VM exit)'),
  xsetbvCpl: rule('xsetbv.gp-cpl', 'XSETBV', XSETBV_PAGE, '#GP(0) when CPL > 0 (before the VM exit)'),
  xsetbvExit: rule('xsetbv.vm-exit', 'XSETBV', UNCONDITIONAL, 'in VMX non-root operation XSETBV causes a VM exit (reason 55)'),
  xsetbvRegister: rule('xsetbv.gp-register', 'XSETBV', XSETBV_PAGE, '#GP(0) when ECX names an XCR other than XCR0 (XCR1 cannot be written)'),
  xsetbvX87: rule('xsetbv.gp-x87-clear', 'XSETBV', XSETBV_PAGE, '#GP(0) when the value clears XCR0 bit 0 (x87 state)'),
  xsetbvAvx: rule('xsetbv.gp-avx-without-sse', 'XSETBV', XSETBV_PAGE, '#GP(0) when the value sets XCR0 bit 2 (AVX) with bit 1 (SSE) clear'),
  xsetbvFeatures: rule(
    'xsetbv.features-not-modelled',
    'XSETBV',
    XSETBV_PAGE,
    'a value setting XCR0 bits beyond x87 and SSE: which are reserved depends on CPUID leaf 0DH, which the profile does not record; not modelled',
  ),
  xsetbvOk: rule('xsetbv.ok', 'XSETBV', XSETBV_PAGE, 'XCR0 takes the value (x87 and SSE state components only)'),
} as const;

const R = CPUID_HLT_INVD_RULES;

/** CPUID: never faults; exits unconditionally in VMX non-root operation. */
export function cpuid(state: ModelState, op: CpuidOp): Verdict {
  operand(op.eax, 'eax', 'cpuid');
  operand(op.ecx, 'ecx', 'cpuid');
  if (cpuOf(state, op.cpu).vmx === 'non-root') return instructionExit(state, op.cpu, op, R.cpuidExit, EXIT_REASON.CPUID, 0n);
  return completed(state, op.cpu, op, R.cpuidOk);
}

/** HLT. */
export function hlt(state: ModelState, op: HltOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (!atCplZero(cpu)) return gp(state, c, R.hltCpl);
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    if (controlBit(primary, PRIMARY_CONTROL.HLT_EXITING)) return instructionExit(state, c, op, R.hltExit, EXIT_REASON.HLT, 0n);
  }
  return completed(state, c, op, R.hltOk);
}

/** INVD. */
export function invd(state: ModelState, op: InvdOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (!atCplZero(cpu)) return gp(state, c, R.invdCpl);
  if (cpu.vmx === 'non-root') return instructionExit(state, c, op, R.invdExit, EXIT_REASON.INVD, 0n);
  return completed(state, c, op, R.invdOk);
}

/** WBINVD. */
export function wbinvd(state: ModelState, op: WbinvdOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (!atCplZero(cpu)) return gp(state, c, R.wbinvdCpl);
  if (cpu.vmx === 'non-root') {
    const secondary = secondaryControls(state, c);
    if (secondary === undefined) return controlsUnknown();
    if (controlBit(secondary, SECONDARY_CONTROL.WBINVD_EXITING)) {
      return instructionExit(state, c, op, R.wbinvdExit, EXIT_REASON.WBINVD_OR_WBNOINVD, op.variant === 'wbnoinvd' ? WBNOINVD_QUALIFICATION : 0n);
    }
  }
  return completed(state, c, op, R.wbinvdOk);
}

/** INVLPG m (the memory form; the register form is #UD and not an operation of the contract). */
export function invlpg(state: ModelState, op: InvlpgOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const address = operand(op.address, 'address', 'invlpg');
  if (!atCplZero(cpu)) return gp(state, c, R.invlpgCpl);
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    if (controlBit(primary, PRIMARY_CONTROL.INVLPG_EXITING)) {
      return instructionExit(state, c, op, R.invlpgExit, EXIT_REASON.INVLPG, linearAddressQualification(address, in64BitMode(cpu)));
    }
  }
  return completed(state, c, op, R.invlpgOk);
}

/** XSETBV. XCR0 is not tracked: its value is not observed by any operation of the contract. */
export function xsetbv(state: ModelState, op: XsetbvOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const register = operand(op.ecx, 'ecx', 'xsetbv') & 0xffff_ffffn;
  const value = operand(op.value, 'value', 'xsetbv');
  if ((cpu.cr4 & CR4_OSXSAVE) === 0n) return ud(state, c, R.xsetbvUd);
  if (!atCplZero(cpu)) return gp(state, c, R.xsetbvCpl);
  if (cpu.vmx === 'non-root') return instructionExit(state, c, op, R.xsetbvExit, EXIT_REASON.XSETBV, 0n);
  if (register !== 0n) return gp(state, c, R.xsetbvRegister);
  if ((value & 1n) === 0n) return gp(state, c, R.xsetbvX87);
  if ((value & 4n) !== 0n && (value & 2n) === 0n) return gp(state, c, R.xsetbvAvx);
  if (value > 3n) return notModelled(R.xsetbvFeatures);
  return completed(state, c, op, R.xsetbvOk);
}
