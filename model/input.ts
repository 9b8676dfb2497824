/**
 * Checks on the operations a case hands the model. A malformed operation (a processor that does
 * not exist, a hexadecimal value that is not one, an unaligned memory write) is a bug in the
 * case, not architecture, so it is thrown as a {@link ModelInputError} with a message saying what
 * to fix. Architectural outcomes are never exceptions.
 */
import { isHex } from '../spec/hex.ts';
import type { Hex } from '../spec/hex.ts';
import type { OperandForm } from '../spec/operations.ts';
import type { ModelState } from './state.ts';
import { ModelInputError } from './state.ts';

/** The value of hexadecimal operand `name` of an operation. */
export function operand(text: Hex, name: string, kind: string): bigint {
  if (!isHex(text)) {
    throw new ModelInputError(`${kind}: ${name} must be a hexadecimal value of at most 64 bits such as "0x1000", got ${JSON.stringify(text)}`);
  }
  return BigInt(text);
}

/** Checks that `cpu` names one of the machine's logical processors. */
export function checkCpu(state: ModelState, cpu: number, kind: string): void {
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= state.cpus.length) {
    throw new ModelInputError(
      `${kind}: cpu must be an integer from 0 to ${state.cpus.length - 1} (the machine has ${state.cpus.length} logical processors), got ${cpu}`,
    );
  }
}

/** The operand form, with its default, checked. */
export function formOf(form: OperandForm | undefined, fallback: OperandForm, kind: string): OperandForm {
  if (form === undefined) return fallback;
  if (form !== 'memory' && form !== 'register') {
    throw new ModelInputError(`${kind}: form must be "memory" or "register", got ${JSON.stringify(form)}`);
  }
  return form;
}
