/**
 * Benchmark of a full successful VM entry (every phase: the checks on the controls and the
 * host-state area, the guest-state checks, MSR loading with an empty area, guest-state loading):
 * the median time of a VMLAUNCH of the valid VMCS (test/impl/vm-entry-vmcs.ts, a 32-bit PAE
 * guest whose PDPTEs are read from memory) on the emulator's fast API and on the reference model,
 * and their ratio.
 *
 * The emulator's VMLAUNCH changes state (the VMCS becomes launched, the processor runs the
 * guest), so each emulator round is VMCLEAR, VMPTRLD, VMLAUNCH, then the guest's VMCALL (a VM
 * exit back to the host); the same round without VMLAUNCH and VMCALL is timed too and subtracted,
 * so `implNs` is VMLAUNCH plus the VM exit of one VMCALL. The model's `step` does not change its
 * state, so its VMLAUNCH is timed alone, on the state after the same set-up.
 */
import { createImplEngine, createImplMachine, STATUS_VMENTRY, STATUS_VMEXIT } from '../impl/index.ts';
import { createModelState, matches, step } from '../model/index.ts';
import { FIELD } from '../spec/fields.ts';
import type { Operation } from '../spec/operations.ts';
import type { Profile } from '../spec/profile.ts';
import { loadVmcsOperations, validVmcs } from '../test/impl/vm-entry-vmcs.ts';

/** What {@link benchVmEntry} measured. */
export interface VmEntryFigures {
  /** Median nanoseconds per successful VMLAUNCH (with the guest's VM exit) on the emulator's fast API. */
  implNs: number;
  /** Median nanoseconds per VMLAUNCH step of the model. */
  modelNs: number;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const now = (): bigint => process.hrtime.bigint();

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
  for (const op of loadVmcsOperations(profile, fields)) {
    const verdict = step(state, op);
    const seen = engine.step(op);
    const branch = verdict.kind === 'defined' ? verdict.branches.find((b) => matches(b.expected, seen)) : undefined;
    if (branch === undefined) throw new Error(`bench: the model does not follow ${JSON.stringify(op)}`);
    state = branch.next(seen);
  }
  const launch: Operation = { kind: 'vmlaunch', cpu: 0 };
  const modelPerBatch = Math.max(1, Math.floor(perBatch / 50));

  const implNs: number[] = [];
  const modelNs: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    let check = 0;
    let start = now();
    for (let i = 0; i < perBatch; i++) {
      check |= machine.vmclear(0, 0x2000, 0) | machine.vmptrld(0, 0x2000, 0);
      check |= (machine.vmlaunch(0) ^ STATUS_VMENTRY) | (machine.vmcall(0) ^ STATUS_VMEXIT);
    }
    const round = Number(now() - start) / perBatch;
    start = now();
    for (let i = 0; i < perBatch; i++) check |= machine.vmclear(0, 0x2000, 0) | machine.vmptrld(0, 0x2000, 0);
    const baseline = Number(now() - start) / perBatch;
    implNs.push(round - baseline);
    if (check !== 0) throw new Error('bench: a VMLAUNCH did not enter the guest');
    start = now();
    for (let i = 0; i < modelPerBatch; i++) step(state, launch);
    modelNs.push(Number(now() - start) / modelPerBatch);
  }
  return { implNs: median(implNs), modelNs: median(modelNs) };
}
