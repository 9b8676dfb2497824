/**
 * Benchmark of a VM exit and the VMRESUME that re-enters the guest: with the valid VMCS
 * (test/impl/vm-entry-vmcs.ts, a 32-bit PAE guest) launched, each round trip is the guest's
 * VMCALL (a VM exit: exit information recorded, guest state saved, host state loaded; SDM Vol. 3C,
 * December 2023, chapter 28 "VM Exits") followed by the host's VMRESUME (every VM-entry check and
 * guest-state loading, chapter 27 "VM Entries"). `implNs` is the median time of one round trip on
 * the emulator's fast API.
 *
 * The model is timed on the same two steps where it can follow them: VMCALL from the state after
 * VMLAUNCH, and VMRESUME from the state after that VM exit. Where its branch after the exit does
 * not follow the processor (a model that stops tracking it at a VM exit), `modelNs` is NaN and
 * only the emulator's figure is reported.
 */
import { createImplEngine, createImplMachine, STATUS_VMENTRY, STATUS_VMEXIT } from '../impl/index.ts';
import { createModelState, matches, step } from '../model/index.ts';
import { FIELD } from '../spec/fields.ts';
import type { Operation } from '../spec/operations.ts';
import type { Profile } from '../spec/profile.ts';
import { loadVmcsOperations, validVmcs } from '../test/impl/vm-entry-vmcs.ts';

/** What {@link benchVmExit} measured. */
export interface VmExitFigures {
  /** Median nanoseconds per VMCALL VM exit + VMRESUME round trip on the emulator's fast API. */
  implNs: number;
  /**
   * The same round trip in process CPU time (user + system) per round trip, median over batches:
   * on a loaded machine the wall-clock figure counts the time other processes ran, this one does not.
   */
  implCpuNs: number;
  /** Median nanoseconds of the model's VMCALL and VMRESUME steps, NaN when it cannot follow them. */
  modelNs: number;
  /** The same in process CPU time, NaN when the model cannot follow them. */
  modelCpuNs: number;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const now = (): bigint => process.hrtime.bigint();

type ModelState = ReturnType<typeof createModelState>;

/** The model's states in the guest (after VMLAUNCH) and back in the host (after the VMCALL exit), if it follows both. */
function modelStates(profile: Profile, ops: readonly Operation[]): { guest: ModelState; host: ModelState } | undefined {
  const engine = createImplEngine({ profile: profile.data, logicalProcessors: 1 });
  let state = createModelState(profile, 1);
  let guest: ModelState | undefined;
  for (const op of ops) {
    const verdict = step(state, op);
    const seen = engine.step(op);
    const branch = verdict.kind === 'defined' ? verdict.branches.find((b) => matches(b.expected, seen)) : undefined;
    if (branch === undefined) return undefined;
    if (op.kind === 'vmcall') guest = state;
    state = branch.next(seen);
  }
  // The model must judge a VMRESUME from the state after the exit, not answer "not modelled".
  const resume = step(state, { kind: 'vmresume', cpu: 0 });
  if (guest === undefined || resume.kind !== 'defined') return undefined;
  return { guest, host: state };
}

/** Times `batches` batches of `perBatch` round trips; figures are medians over batches. */
export function benchVmExit(profile: Profile, batches = 21, perBatch = 20_000): VmExitFigures {
  const fields = validVmcs(profile);
  const machine = createImplMachine({ profile: profile.data, logicalProcessors: 1 });
  const rev = profile.revisionId;
  machine.writeMemory(0, 0x1000, 0, rev);
  machine.writeMemory(0, 0x2000, 0, rev);
  let setup = machine.vmxon(0, 0x1000, 0) | machine.vmclear(0, 0x2000, 0) | machine.vmptrld(0, 0x2000, 0);
  for (const [name, value] of fields) {
    setup |= machine.vmwrite(0, FIELD[name], 0, Number(value & 0xffff_ffffn), Number(value >> 32n));
  }
  if (setup !== 0 || machine.vmlaunch(0) !== STATUS_VMENTRY || machine.vmcall(0) !== STATUS_VMEXIT || machine.vmresume(0) !== STATUS_VMENTRY) {
    throw new Error('bench: the valid VMCS does not enter, exit and re-enter the guest');
  }

  const ops: Operation[] = [...loadVmcsOperations(profile, fields, 0n, false), { kind: 'vmlaunch', cpu: 0 }, { kind: 'vmcall', cpu: 0 }];
  const model = modelStates(profile, ops);
  const vmcall: Operation = { kind: 'vmcall', cpu: 0 };
  const vmresume: Operation = { kind: 'vmresume', cpu: 0 };
  const modelPerBatch = Math.max(1, Math.floor(perBatch / 50));

  const implNs: number[] = [];
  const implCpuNs: number[] = [];
  const modelNs: number[] = [];
  const modelCpuNs: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    let check = 0;
    const cpuStart = process.cpuUsage();
    const start = now();
    for (let i = 0; i < perBatch; i++) check |= (machine.vmcall(0) ^ STATUS_VMEXIT) | (machine.vmresume(0) ^ STATUS_VMENTRY);
    implNs.push(Number(now() - start) / perBatch);
    const cpu = process.cpuUsage(cpuStart);
    implCpuNs.push(((cpu.user + cpu.system) * 1000) / perBatch);
    if (check !== 0) throw new Error('bench: a round trip did not exit and re-enter');
    if (model !== undefined) {
      const modelCpu = process.cpuUsage();
      const modelStart = now();
      for (let i = 0; i < modelPerBatch; i++) {
        step(model.guest, vmcall);
        step(model.host, vmresume);
      }
      modelNs.push(Number(now() - modelStart) / modelPerBatch);
      const used = process.cpuUsage(modelCpu);
      modelCpuNs.push(((used.user + used.system) * 1000) / modelPerBatch);
    }
  }
  return {
    implNs: median(implNs),
    implCpuNs: median(implCpuNs),
    modelNs: model === undefined ? Number.NaN : median(modelNs),
    modelCpuNs: model === undefined ? Number.NaN : median(modelCpuNs),
  };
}
