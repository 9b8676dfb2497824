/**
 * The guest operations of case formats 4 and 5 (spec/guest-operations.ts, spec/system-instruction-operations.ts): one function per operation,
 * in the files of model/non-root/ by instruction family, each a flat list of rules in the order
 * the SDM decides (Vol. 3C, December 2023, §26.1 "Instructions That Cause VM Exits", §26.2
 * "Other Causes of VM Exits", §26.3 "Changes to Instruction Behavior in VMX Non-Root Operation",
 * and each instruction's Vol. 2 page). Read in this order:
 *
 * - non-root/guest.ts — privilege level, controls, an instruction's VM exit, completion (RIP);
 *   exit qualifications, bitmaps and interruption information come from spec/ (exit-qualification.ts,
 *   exit-bitmaps.ts, exit-interruption-information.ts);
 * - non-root/exceptions.ts — the exception bitmap (every fault in a guest goes through it);
 * - non-root/cpuid-hlt-invd.ts, timestamps.ts, monitor-mwait-pause.ts — the simple exits;
 * - non-root/control-registers.ts, cr0-cr4-masks.ts — MOV CR, CLTS, LMSW, masks and shadows;
 * - non-root/debug-registers.ts, msr-access.ts, io.ts — MOV DR, RDMSR/WRMSR, I/O;
 * - (case format 5) non-root/random.ts, invpcid.ts, descriptor-tables.ts, getsec-xsaves.ts —
 *   RDRAND/RDSEED, INVPCID, SGDT ... LTR, GETSEC, XSAVES/XRSTORS; their exit information in
 *   non-root/operand-exits.ts.
 *
 * MOV to CR0/CR4 and IA32_FEATURE_CONTROL writes (operations of earlier formats) reach the
 * guest's rules here when the processor is in VMX non-root operation and the fields they consult
 * are known; otherwise mov-cr0.ts, mov-cr4.ts and processor-state-ops.ts answer as before.
 */
import type { GuestOperation } from '../spec/guest-operations.ts';
import type { MovCr0Op, MovCr4Op, WriteFeatureControlOp } from '../spec/operations.ts';
import { MSR } from '../spec/capability-msrs.ts';
import { toHex } from '../spec/hex.ts';
import { movCr0 } from './mov-cr0.ts';
import { movCr4 } from './mov-cr4.ts';
import { CONTROL_REGISTER_RULES, movCr3, movCr8, movFromCr } from './non-root/control-registers.ts';
import { clts, CR0_CR4_MASK_RULES, lmsw, movCr0InGuest, movCr4InGuest } from './non-root/cr0-cr4-masks.ts';
import { cpuid, CPUID_HLT_INVD_RULES, hlt, invd, invlpg, wbinvd, xsetbv } from './non-root/cpuid-hlt-invd.ts';
import { DEBUG_REGISTER_RULES, movDr } from './non-root/debug-registers.ts';
import { exception, EXCEPTION_RULES } from './non-root/exceptions.ts';
import { io, IO_RULES } from './non-root/io.ts';
import { monitor, MONITOR_MWAIT_PAUSE_RULES, mwait, pause } from './non-root/monitor-mwait-pause.ts';
import { MSR_ACCESS_RULES, msrAccessExits, rdmsr, wrmsr } from './non-root/msr-access.ts';
import { rdpmc, rdtsc, rdtscp, TIMESTAMP_RULES } from './non-root/timestamps.ts';
import { writeFeatureControl } from './processor-state-ops.ts';
import type { Rule } from './rule.ts';
import type { ModelState } from './state.ts';
import { cpuOf } from './state.ts';
import type { Verdict } from './verdict.ts';
import { EFER_WRITE_RULES } from './non-root/efer-write.ts';
import { DESCRIPTOR_TABLE_RULES, descriptorTable } from './non-root/descriptor-tables.ts';
import { getsec, GETSEC_XSAVES_RULES, xsavesXrstors } from './non-root/getsec-xsaves.ts';
import { invpcid, INVPCID_RULES } from './non-root/invpcid.ts';
import { RANDOM_RULES, randomInstruction } from './non-root/random.ts';

/** The decision points of the guest operations, by family in reading order. */
export const GUEST_OPERATION_RULES: readonly Rule[] = [
  ...Object.values(EXCEPTION_RULES),
  ...Object.values(CPUID_HLT_INVD_RULES),
  ...Object.values(TIMESTAMP_RULES),
  ...Object.values(MONITOR_MWAIT_PAUSE_RULES),
  ...Object.values(CONTROL_REGISTER_RULES),
  ...Object.values(CR0_CR4_MASK_RULES),
  ...Object.values(DEBUG_REGISTER_RULES),
  ...Object.values(MSR_ACCESS_RULES),
  ...Object.values(EFER_WRITE_RULES),
  ...Object.values(IO_RULES),
  ...Object.values(RANDOM_RULES),
  ...Object.values(INVPCID_RULES),
  ...Object.values(DESCRIPTOR_TABLE_RULES),
  ...Object.values(GETSEC_XSAVES_RULES),
];

/** One guest operation. */
export function guestOperation(state: ModelState, op: GuestOperation): Verdict {
  switch (op.kind) {
    case 'cpuid':
      return cpuid(state, op);
    case 'hlt':
      return hlt(state, op);
    case 'invd':
      return invd(state, op);
    case 'wbinvd':
      return wbinvd(state, op);
    case 'invlpg':
      return invlpg(state, op);
    case 'rdtsc':
      return rdtsc(state, op);
    case 'rdtscp':
      return rdtscp(state, op);
    case 'rdpmc':
      return rdpmc(state, op);
    case 'pause':
      return pause(state, op);
    case 'mov-from-cr':
      return movFromCr(state, op);
    case 'mov-cr3':
      return movCr3(state, op);
    case 'mov-cr8':
      return movCr8(state, op);
    case 'clts':
      return clts(state, op);
    case 'lmsw':
      return lmsw(state, op);
    case 'mov-dr':
      return movDr(state, op);
    case 'rdmsr':
      return rdmsr(state, op);
    case 'wrmsr':
      return wrmsr(state, op);
    case 'io':
      return io(state, op);
    case 'xsetbv':
      return xsetbv(state, op);
    case 'monitor':
      return monitor(state, op);
    case 'mwait':
      return mwait(state, op);
    case 'exception':
      return exception(state, op);
    case 'rdrand':
    case 'rdseed':
      return randomInstruction(state, op);
    case 'invpcid':
      return invpcid(state, op);
    case 'descriptor-table':
      return descriptorTable(state, op);
    case 'getsec':
      return getsec(state, op);
    case 'xsaves':
    case 'xrstors':
      return xsavesXrstors(state, op);
  }
}

/** MOV to CR0: the guest's rules in VMX non-root operation when the mask and shadow are known. */
export function movToCr0(state: ModelState, op: MovCr0Op): Verdict {
  return (cpuOf(state, op.cpu).vmx === 'non-root' ? movCr0InGuest(state, op) : undefined) ?? movCr0(state, op);
}

/** MOV to CR4: the guest's rules in VMX non-root operation when the mask and shadow are known. */
export function movToCr4(state: ModelState, op: MovCr4Op): Verdict {
  return (cpuOf(state, op.cpu).vmx === 'non-root' ? movCr4InGuest(state, op) : undefined) ?? movCr4(state, op);
}

/** WRMSR of IA32_FEATURE_CONTROL: in VMX non-root operation a WRMSR like any other when its exit is decidable. */
export function featureControlWrite(state: ModelState, op: WriteFeatureControlOp): Verdict {
  const index = BigInt(MSR.IA32_FEATURE_CONTROL);
  if (cpuOf(state, op.cpu).vmx === 'non-root' && msrAccessExits(state, op.cpu, index, 'write') !== undefined) {
    return wrmsr(state, { kind: 'wrmsr', cpu: op.cpu, ecx: toHex(index), value: op.value });
  }
  return writeFeatureControl(state, op);
}
