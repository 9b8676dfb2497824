/**
 * Helpers for the VM-entry tests: a VMCS made current, with chosen fields written by VMWRITE.
 */
import { FIELD } from '../../../spec/fields.ts';
import type { FieldName } from '../../../spec/fields.ts';
import type { ModelState } from '../../../model/index.ts';
import type { Profile } from '../../../spec/profile.ts';
import { withCurrent, write } from '../helpers.ts';

/** `state` after VMWRITEs of `fields` (each must succeed). */
export function writeFields(state: ModelState, fields: Partial<Record<FieldName, bigint>>): ModelState {
  let next = state;
  for (const [name, value] of Object.entries(fields)) next = write(next, FIELD[name as FieldName], value as bigint);
  return next;
}

/** A current VMCS on processor 0 with `fields` written. */
export function vmcsWith(fields: Partial<Record<FieldName, bigint>>, profile?: Profile): ModelState {
  return writeFields(withCurrent(profile), fields);
}
