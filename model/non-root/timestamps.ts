/**
 * RDTSC, RDTSCP and RDPMC, in and out of VMX non-root operation.
 *
 * Order (Vol. 3C §26.1.1 "Relative Priority of Faults and VM Exits"): #UD first (RDTSCP with
 * "enable RDTSCP" = 0, §26.3 "Changes to Instruction Behavior in VMX Non-Root Operation"), then
 * the privilege faults (CR4.TSD = 1 or CR4.PCE = 0 at CPL > 0), then the exit controls (§26.1.3
 * "Instructions That Cause VM Exits Conditionally": RDTSC and RDTSCP by "RDTSC exiting", RDPMC by
 * "RDPMC exiting"), then the instruction's own faults. The counter values are not compared
 * ("use TSC offsetting" and TSC scaling change only the value); the exit qualification is cleared.
 *
 * RDTSCP outside VMX non-root operation: whether the processor has it is a CPUID fact
 * (CPUID.80000001H:EDX[27]) the profile does not record; the model assumes it does when the
 * profile allows "enable RDTSCP" = 1 and says not-modelled otherwise.
 */
import { sdm } from '../../spec/citation.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { RdpmcOp, RdtscOp, RdtscpOp } from '../../spec/guest-operations.ts';
import { fault } from '../conventions.ts';
import { operand } from '../input.ts';
import { rule } from '../rule.ts';
import type { CpuState, ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { atCplZero, completed, completes, controlBit, controlsUnknown, gp, instructionExit, primaryControls, secondaryControls, ud } from './guest.ts';

const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const CHANGES = sdm('26.3', 'Changes to Instruction Behavior in VMX Non-Root Operation');
const RDTSC_PAGE = sdm('4.3', 'RDTSC—Read Time-Stamp Counter', '2B');
const RDTSCP_PAGE = sdm('4.3', 'RDTSCP—Read Time-Stamp Counter and Processor ID', '2B');
const RDPMC_PAGE = sdm('4.3', 'RDPMC—Read Performance-Monitoring Counters', '2B');

/** CR4.TSD (bit 2) and CR4.PCE (bit 8), Vol. 3A §2.5 "Control Registers". */
const CR4_TSD = 1n << 2n;
const CR4_PCE = 1n << 8n;

/** The decision points of RDTSC, RDTSCP and RDPMC. */
export const TIMESTAMP_RULES = {
  rdtscTsd: rule('rdtsc.gp-tsd', 'RDTSC', RDTSC_PAGE, '#GP(0) when CR4.TSD = 1 and CPL > 0 (before any VM exit)'),
  rdtscExit: rule('rdtsc.vm-exit', 'RDTSC', CONDITIONAL, 'in VMX non-root operation with "RDTSC exiting" = 1: VM exit (reason 16)'),
  rdtscOk: rule('rdtsc.ok', 'RDTSC', RDTSC_PAGE, 'RDTSC loads the time-stamp counter into EDX:EAX (value not compared)'),
  rdtscpSupport: rule('rdtscp.support-unknown', 'RDTSCP', RDTSCP_PAGE, 'outside VMX non-root operation on a profile without "enable RDTSCP": whether RDTSCP exists (#UD or not) is not recorded'),
  rdtscpDisabled: rule('rdtscp.ud-not-enabled', 'RDTSCP', CHANGES, 'in VMX non-root operation with "enable RDTSCP" = 0: #UD'),
  rdtscpTsd: rule('rdtscp.gp-tsd', 'RDTSCP', RDTSCP_PAGE, '#GP(0) when CR4.TSD = 1 and CPL > 0 (before any VM exit)'),
  rdtscpExit: rule('rdtscp.vm-exit', 'RDTSCP', CONDITIONAL, 'in VMX non-root operation with "RDTSC exiting" = 1: VM exit (reason 51)'),
  rdtscpOk: rule('rdtscp.ok', 'RDTSCP', RDTSCP_PAGE, 'RDTSCP loads the time-stamp counter and IA32_TSC_AUX (values not compared)'),
  rdpmcPce: rule('rdpmc.gp-pce', 'RDPMC', RDPMC_PAGE, '#GP(0) when CR4.PCE = 0 and CPL > 0 (before any VM exit)'),
  rdpmcExit: rule('rdpmc.vm-exit', 'RDPMC', CONDITIONAL, 'in VMX non-root operation with "RDPMC exiting" = 1: VM exit (reason 15), whatever ECX names'),
  rdpmcCounter: rule(
    'rdpmc.counter-model-specific',
    'RDPMC',
    RDPMC_PAGE,
    'which ECX values name a counter depends on CPUID leaf 0AH, which the profile does not record: the read (value not compared) or #GP(0)',
  ),
} as const;

const R = TIMESTAMP_RULES;

/** True when CR4.TSD forbids reading the time-stamp counter here. */
function tsdForbids(cpu: CpuState): boolean {
  return (cpu.cr4 & CR4_TSD) !== 0n && !atCplZero(cpu);
}

/** RDTSC. */
export function rdtsc(state: ModelState, op: RdtscOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (tsdForbids(cpu)) return gp(state, c, R.rdtscTsd);
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    if (controlBit(primary, PRIMARY_CONTROL.RDTSC_EXITING)) return instructionExit(state, c, op, R.rdtscExit, EXIT_REASON.RDTSC, 0n);
  }
  return completed(state, c, op, R.rdtscOk);
}

/** RDTSCP. */
export function rdtscp(state: ModelState, op: RdtscpOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  let primary = 0n;
  if (cpu.vmx === 'non-root') {
    const secondary = secondaryControls(state, c);
    const known = primaryControls(state, c);
    if (secondary === undefined || known === undefined) return controlsUnknown();
    if (!controlBit(secondary, SECONDARY_CONTROL.ENABLE_RDTSCP)) return ud(state, c, R.rdtscpDisabled);
    primary = known;
  } else if (!state.profile.supportsControl('secondary', SECONDARY_CONTROL.ENABLE_RDTSCP)) {
    return notModelled(R.rdtscpSupport);
  }
  if (tsdForbids(cpu)) return gp(state, c, R.rdtscpTsd);
  if (controlBit(primary, PRIMARY_CONTROL.RDTSC_EXITING)) return instructionExit(state, c, op, R.rdtscpExit, EXIT_REASON.RDTSCP, 0n);
  return completed(state, c, op, R.rdtscpOk);
}

/** RDPMC. */
export function rdpmc(state: ModelState, op: RdpmcOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  operand(op.ecx, 'ecx', 'rdpmc');
  if ((cpu.cr4 & CR4_PCE) === 0n && !atCplZero(cpu)) return gp(state, c, R.rdpmcPce);
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    if (controlBit(primary, PRIMARY_CONTROL.RDPMC_EXITING)) return instructionExit(state, c, op, R.rdpmcExit, EXIT_REASON.RDPMC, 0n);
  }
  return defined(completes(state, c, op, R.rdpmcCounter), fault(state, c, R.rdpmcCounter, 'GP'));
}
