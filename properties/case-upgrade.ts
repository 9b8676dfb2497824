/**
 * Reading case files of earlier formats so that they mean what they meant when they were written.
 *
 * Formats `vmx-conformance-case/1` and `/2` kept MOV-SS blocking (`set mov-ss-blocking 1`) in
 * effect until the next `set mov-ss-blocking`. From `/3` on, blocking lasts for one instruction,
 * as the SDM says (spec/operations.ts). An old case is upgraded by inserting
 * `set mov-ss-blocking 1` before each instruction of a processor on which the old meaning had
 * blocking in effect and the new meaning would not (so the first instruction after the original
 * `set` needs nothing inserted). Nothing else changed between the formats' operations.
 */
import { isInstruction } from '../spec/operations.ts';
import type { Operation } from '../spec/operations.ts';

/** The operations of an old-format case (formats 1 and 2), rewritten for format 3. */
export function upgradeMovSsBlocking(operations: readonly Operation[]): Operation[] {
  /** Blocking in effect per processor under the old meaning (until the next `set`). */
  const persistent = new Map<number, number>();
  /** Blocking in effect per processor under the new meaning (until the next instruction). */
  const live = new Map<number, number>();
  const upgraded: Operation[] = [];
  for (const op of operations) {
    if (op.kind === 'set' && op.what === 'mov-ss-blocking') {
      persistent.set(op.cpu, op.value);
      live.set(op.cpu, op.value);
    } else if (isInstruction(op)) {
      if (persistent.get(op.cpu) === 1 && live.get(op.cpu) !== 1) {
        upgraded.push({ kind: 'set', cpu: op.cpu, what: 'mov-ss-blocking', value: 1 });
      }
      live.set(op.cpu, 0);
    }
    upgraded.push(op);
  }
  return upgraded;
}
