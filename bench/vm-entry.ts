/**
 * Benchmark of VM entry with the valid VMCS (test/impl/vm-entry-vmcs.ts, a 32-bit PAE guest whose
 * PDPTEs are read from memory), on the emulator's fast API and on the reference model:
 *
 * (a) the full VM-entry check: every check on the controls and the host-state area and every
 *     check on the guest-state area (SDM Vol. 3C, December 2023, §27.2, §27.3.1), measured on its
 *     own through `ImplMachine.checkVmEntry`, which makes exactly the checks VMLAUNCH makes after
 *     its basic checks (the same functions) and changes nothing, so it can be repeated. The
 *     VM-entry MSR-load area of the valid VMCS is empty (its checks are the count and address
 *     checks among the control checks). The call is a method call the loop cannot hoist (it is
 *     not inlined whole), and every iteration's verdict is checked.
 * (b) a VMLAUNCH that enters the guest (checks, MSR loading with the empty area, guest-state
 *     loading): VMLAUNCH changes state (the VMCS becomes launched, the processor runs the guest),
 *     so each round is VMCLEAR, VMPTRLD, VMLAUNCH, then the guest's VMCALL (a VM exit back to the
 *     host); the same round without VMLAUNCH and VMCALL is timed too and subtracted, so the figure
 *     is VMLAUNCH plus the VM exit of one VMCALL.
 *
 * Each figure is the median over batches, in wall-clock time and in process CPU time (user +
 * system, `process.cpuUsage`), which on a shared machine leaves out the time other processes ran.
 * The model's `step` does not change its state, so its VMLAUNCH (checks and guest-state loading)
 * is timed alone, on the state after the same set-up; it is the model's figure for (a) and (b).
 */
import { createImplEngine, createImplMachine, STATUS_VMENTRY, STATUS_VMEXIT } from '../impl/index.ts';
import { createModelState, matches, step } from '../model/index.ts';
import { FIELD } from '../spec/fields.ts';
import type { Operation } from '../spec/operations.ts';
import type { Profile } from '../spec/profile.ts';
import { loadVmcsOperations, validVmcs } from '../test/impl/vm-entry-vmcs.ts';

/** What {@link benchVmEntry} measured (medians over batches, nanoseconds per operation). */
export interface VmEntryFigures {
  /** (a) The full VM-entry check of the valid VMCS (ImplMachine.checkVmEntry), wall clock. */
  checkNs: number;
  /** (a) The same in process CPU time. */
  checkCpuNs: number;
  /** (b) A successful VMLAUNCH (with the guest's VM exit), wall clock. */
  implNs: number;
  /** (b) The same in process CPU time. */
  implCpuNs: number;
  /** The model's VMLAUNCH step, wall clock. */
  modelNs: number;
  /** The same in process CPU time. */
  modelCpuNs: number;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const now = (): bigint => process.hrtime.bigint();
/** Process CPU time (user + system) in nanoseconds. */
const cpuNow = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) * 1000;
};

/** Times `batches` batches of `perBatch` VMLAUNCHes on each side; figures are medians over batches. */
export function benchVmEntry(profile: Profile, batches = 21, perBatch = 20_000): VmEntryFigures {
  const fields = validVmcs(profile);
  const machine = createImplMachine({ profile: profile.data, logicalProcessors: 1 });
  const rev = profile.revisionId;
  machine.writeMemory(0, 0x1000, 0, rev);
  machine.writeMemory(0, 0x2000, 0, rev);
  let setup = machine.vmxon(0, 0x1000, 0) | machine.vmclear(0, 0x2000, 0) | machine.vmptrld(0, 0x2000, 0);
  for (const [name, value] of fields) {
    setup |= machine.vmwrite(0, FIELD[name], 0, Number(value & 0xffff_ffffn), Number(value >> 32n));
  }
  if (setup !== 0 || machine.vmlaunch(0) !== STATUS_VMENTRY || machine.vmcall(0) !== STATUS_VMEXIT) {
    throw new Error('bench: the valid VMCS does not enter the guest');
  }

  // The model, brought to the same state along the branches the emulator's observations take.
  const engine = createImplEngine({ profile: profile.data, logicalProcessors: 1 });
  let state = createModelState(profile, 1);
  for (const op of loadVmcsOperations(profile, fields, 0n, false)) {
    const verdict = step(state, op);
    const seen = engine.step(op);
    const branch = verdict.kind === 'defined' ? verdict.branches.find((b) => matches(b.expected, seen)) : undefined;
    if (branch === undefined) throw new Error(`bench: the model does not follow ${JSON.stringify(op)}`);
    state = branch.next(seen);
  }
  const launch: Operation = { kind: 'vmlaunch', cpu: 0 };
  const modelPerBatch = Math.max(1, Math.floor(perBatch / 50));

  const checkNs: number[] = [];
  const checkCpuNs: number[] = [];
  const implNs: number[] = [];
  const implCpuNs: number[] = [];
  const modelNs: number[] = [];
  const modelCpuNs: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    let check = 0;
    // (a) the checks alone, on the VMCS left clear by the rounds below (or by the set-up)
    machine.vmclear(0, 0x2000, 0);
    machine.vmptrld(0, 0x2000, 0);
    let cpu = cpuNow();
    let start = now();
    for (let i = 0; i < perBatch; i++) check |= machine.checkVmEntry(0);
    checkNs.push(Number(now() - start) / perBatch);
    checkCpuNs.push((cpuNow() - cpu) / perBatch);
    if (check !== 0) throw new Error('bench: the valid VMCS fails a VM-entry check');
    // (b) VMLAUNCH entering the guest, minus the VMCLEAR + VMPTRLD that make it launchable again
    cpu = cpuNow();
    start = now();
    for (let i = 0; i < perBatch; i++) {
      check |= machine.vmclear(0, 0x2000, 0) | machine.vmptrld(0, 0x2000, 0);
      check |= (machine.vmlaunch(0) ^ STATUS_VMENTRY) | (machine.vmcall(0) ^ STATUS_VMEXIT);
    }
    const round = Number(now() - start) / perBatch;
    const roundCpu = (cpuNow() - cpu) / perBatch;
    cpu = cpuNow();
    start = now();
    for (let i = 0; i < perBatch; i++) check |= machine.vmclear(0, 0x2000, 0) | machine.vmptrld(0, 0x2000, 0);
    implNs.push(round - Number(now() - start) / perBatch);
    implCpuNs.push(roundCpu - (cpuNow() - cpu) / perBatch);
    if (check !== 0) throw new Error('bench: a VMLAUNCH did not enter the guest');
    cpu = cpuNow();
    start = now();
    for (let i = 0; i < modelPerBatch; i++) step(state, launch);
    modelNs.push(Number(now() - start) / modelPerBatch);
    modelCpuNs.push((cpuNow() - cpu) / modelPerBatch);
  }
  return {
    checkNs: median(checkNs),
    checkCpuNs: median(checkCpuNs),
    implNs: median(implNs),
    implCpuNs: median(implCpuNs),
    modelNs: median(modelNs),
    modelCpuNs: median(modelCpuNs),
  };
}
