/**
 * The model's VMCS as the VM-entry checks see it: a field is known when every bit of it was
 * written (by VMWRITE, or by the processor) since the region was initialized; otherwise it is
 * unknown, and the checks that read it are undecided (see check.ts).
 */
import { FIELD } from '../../spec/fields.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { ModelState, VmcsContent } from '../state.ts';
import { knownFieldValue } from '../vmcs-fields.ts';
import type { CheckEnvironment, VmcsView } from './check.ts';
import { readWord } from '../memory.ts';

/** A view of `content`. */
export function viewOf(content: VmcsContent): VmcsView {
  return { get: (field: FieldName) => knownFieldValue(content, FIELD[field]) };
}

/**
 * What the checks may read of `state` besides the VMCS: the profile and physical memory, and,
 * given the processor `cpu` entering, its current-VMCS pointer.
 */
export function environmentOf(state: ModelState, cpu?: number): CheckEnvironment {
  const base = { profile: state.profile, readMemory32: (address: bigint) => readWord(state, address) };
  const pointer = cpu === undefined ? undefined : state.cpus[cpu]?.currentVmcs;
  return pointer === undefined ? base : { ...base, currentVmcsPointer: pointer };
}
