/**
 * The model's VMCS as the VM-entry checks see it: a field is known when every bit of it was
 * written (by VMWRITE, or by the processor) since the region was initialized; otherwise it is
 * unknown, and the checks that read it are undecided (see check.ts).
 */
import { FIELD } from '../../spec/fields.ts';
import type { FieldName } from '../../spec/fields.ts';
import { cpuOf } from '../state.ts';
import type { ModelState, VmcsContent } from '../state.ts';
import { knownFieldValue } from '../vmcs-fields.ts';
import type { CheckEnvironment, VmcsView } from './check.ts';
import { readWord } from '../memory.ts';
import { bitOf } from '../non-root.ts';
import { CR0, CR4 } from '../../spec/guest-state-bits.ts';

/**
 * Guest CS fields whose bits a VM exit may leave undefined (the access rights and base of an
 * unusable CS: SDM Vol. 3C, December 2023, §28.3.2.2 "Saving Segment Registers and
 * Descriptor-Table Registers"). Unlike SS, DS, ES, FS and GS, the checks on CS apply whether or not
 * CS is usable (§27.3.1.2 "Checks on Guest Segment Registers": the CS type, S, DPL, P and
 * granularity checks have no "if usable" condition), so undefined bits there decide an entry and
 * the field reads as unknown.
 */
const ALWAYS_CHECKED: ReadonlySet<FieldName> = new Set<FieldName>(['GUEST_CS_ACCESS_RIGHTS', 'GUEST_CS_BASE']);

/** A view of `content`. */
export function viewOf(content: VmcsContent): VmcsView {
  return {
    get: (field: FieldName) => {
      if (ALWAYS_CHECKED.has(field) && (content.fields.get(FIELD[field])?.unknownBits ?? 0n) !== 0n) return undefined;
      return knownFieldValue(content, FIELD[field]);
    },
  };
}

/**
 * What the checks may read of `state` besides the VMCS: the profile and physical memory, and,
 * given the processor `cpu` entering, whether it is in SMM and in IA-32e mode, its current-VMCS
 * pointer and whether it uses PAE paging (CR0.PG = 1, CR4.PAE = 1, IA32_EFER.LMA = 0: Vol. 3A
 * §4.1 "Paging Modes and Control Bits").
 */
export function environmentOf(state: ModelState, cpu: number): CheckEnvironment {
  const processor = cpuOf(state, cpu);
  const paePaging = bitOf(processor.cr0, CR0.PG) && bitOf(processor.cr4, CR4.PAE) && processor.eferLma === 0;
  return {
    profile: state.profile,
    readMemory32: (address: bigint) => readWord(state, address),
    inSmm: processor.inSmm,
    ia32eMode: processor.eferLma === 1,
    currentVmcsPointer: processor.currentVmcs,
    paePagingBeforeEntry: paePaging,
  };
}
