/**
 * Blocking by MOV SS lasts for one instruction. After MOV SS or POP SS, interrupts, debug
 * exceptions and single-step traps are inhibited until the instruction boundary after the next
 * instruction; other faults may still occur (SDM Vol. 3A "Masking Exceptions and Interrupts When
 * Switching Stacks", §6.8.3 in the 2016 edition, read there; its December 2023 number was not
 * checked). After a VM entry whose interruptibility-state field has
 * bit 1 set, "such blocking is cleared after the guest executes one instruction or incurs an
 * exception" (Vol. 3C §27.7.1 "Interruptibility State").
 *
 * So every instruction operation of a processor ends the blocking that was in effect before it,
 * whatever its outcome (completion, VMfail, a fault, a VM exit). The harness operations `set` and
 * `write-memory` are not instructions of the processor (`set` stands for a debugger; a memory
 * store stands for the harness preparing memory) and leave it alone. A VM entry can load new
 * blocking for the guest's first instruction; it never ends blocking that was in effect before it,
 * because VMLAUNCH and VMRESUME fail with VMfailValid(26) under MOV-SS blocking.
 *
 * Blocking by STI loaded by a VM entry (interruptibility-state bit 0) likewise "is cleared after
 * the guest executes one instruction or incurs an exception" (§27.7.1); the guest register file
 * (model/state.ts) holds it, and a VM exit saves what is in effect (§28.3.4).
 */
import { isInstruction } from '../spec/operations.ts';
import type { Operation } from '../spec/operations.ts';
import type { ModelState } from './state.ts';
import { cpuOf, withCpu } from './state.ts';
import type { Verdict } from './verdict.ts';

/** Interruptibility-state bit 0: blocking by STI, which also lasts for one guest instruction. */
const STI_BLOCKING = 1n;

/** `verdict` for `op` in `state`, with MOV-SS blocking ended on every branch when `op` is an instruction. */
export function endMovSsBlocking(state: ModelState, op: Operation, verdict: Verdict): Verdict {
  const before = cpuOf(state, op.cpu);
  const sti = ((before.guest?.interruptibility ?? 0n) & STI_BLOCKING) !== 0n;
  if (verdict.kind !== 'defined' || !isInstruction(op) || (before.movSsBlocking === 0 && !sti)) return verdict;
  return {
    kind: 'defined',
    branches: verdict.branches.map((branch) => ({
      ...branch,
      next: (actual) => endBlocking(branch.next(actual), op.cpu),
    })),
  };
}

/** Blocking by MOV SS and, for a guest, blocking by STI (§27.7.1) ended on processor `cpu`. */
function endBlocking(state: ModelState, cpu: number): ModelState {
  const guest = cpuOf(state, cpu).guest;
  if (guest === undefined || guest.interruptibility === undefined) return withCpu(state, cpu, { movSsBlocking: 0 });
  return withCpu(state, cpu, { movSsBlocking: 0, guest: { ...guest, interruptibility: guest.interruptibility & ~STI_BLOCKING } });
}
