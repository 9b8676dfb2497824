/**
 * Every VMCS field as data: name, encoding, width, type, and what makes it exist.
 *
 * Which fields a processor has depends on the controls it supports: Appendix B marks many fields
 * "exists only on processors that support the 1-setting of ..." one control, or "either ... or"
 * two controls (a VM-entry control that loads a guest MSR and the VM-exit control that saves or
 * clears it). `requires` lists those controls, and any one of them suffices. Fields without such
 * a note exist on every VMX processor.
 *
 * A handful of fields belong to features that no profile here models (the Intel TDX module's
 * SEAM mode, FRED, and a few features described only outside the December 2023 SDM). They are
 * listed for completeness with an `{ unsupported }` requirement saying why; they never exist in
 * our profiles, so VMREAD and VMWRITE of them fail as for any unsupported field.
 *
 * Source: SDM Vol. 3D, December 2023, Appendix B "Field Encoding in VMCS".
 */
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';
import type { FieldType, FieldWidth } from './field-encoding.ts';
import { FIELDS_16_BIT } from './fields-16.ts';
import { FIELDS_32_BIT } from './fields-32.ts';
import { FIELDS_64_BIT } from './fields-64.ts';
import { FIELDS_NATURAL_WIDTH } from './fields-natural.ts';
import type { ControlSet } from './profile.ts';

export { FIELD } from './field-names.ts';
export type { FieldName } from './field-names.ts';
export type { FieldType, FieldWidth } from './field-encoding.ts';

/** Where the field table comes from. */
export const FIELDS_CITATION: Citation = sdm('Appendix B', 'Field Encoding in VMCS', '3D');

/** The field exists on processors that support the 1-setting of control `bit` of `controls`. */
export interface ControlRequirement {
  controls: ControlSet;
  bit: number;
}

/** The field belongs to a feature no profile here models; it never exists. `unsupported` says why. */
export interface UnsupportedRequirement {
  unsupported: string;
}

/** One condition under which a field exists. */
export type FieldRequirement = ControlRequirement | UnsupportedRequirement;

/** One VMCS field. */
export interface VmcsField {
  /** Name as Appendix B gives it. */
  name: string;
  /** Full encoding (access type 0); a 64-bit field's high half is `encoding + 1`. */
  encoding: number;
  width: FieldWidth;
  type: FieldType;
  /** Any one of these suffices; empty means the field exists on every VMX processor. */
  requires: readonly FieldRequirement[];
  /** Anything a reader of the table should know. */
  note?: string;
}

/** Every VMCS field this project knows, ordered by width then type as in Appendix B. */
export const VMCS_FIELDS: readonly VmcsField[] = [
  ...FIELDS_16_BIT,
  ...FIELDS_64_BIT,
  ...FIELDS_32_BIT,
  ...FIELDS_NATURAL_WIDTH,
];

/**
 * The field whose full encoding is `encoding` (access type 0), or `undefined` for an encoding no
 * field has. High-half encodings are not accepted here: use `encoding & ~1` and check the width.
 */
export function fieldByEncoding(encoding: number): VmcsField | undefined {
  return VMCS_FIELDS.find((field) => field.encoding === encoding);
}

/** True for a requirement naming a control (as opposed to an unmodelled feature). */
export function isControlRequirement(requirement: FieldRequirement): requirement is ControlRequirement {
  return 'controls' in requirement;
}

/**
 * True when a field with this 32-bit encoding exists, given which controls the processor
 * supports: a known field one of whose requirements is met (or that has none), accessed either
 * in full or, for a 64-bit field, as its high half. Encodings with reserved bits set, and
 * numbers that are not 32-bit unsigned integers, name no field.
 *
 * This is the rule behind `Profile.fieldExists`; it is here so that profile validation can use
 * it before a profile exists.
 */
export function fieldExistsWith(
  encoding: number,
  supportsControl: (set: ControlSet, bit: number) => boolean,
): boolean {
  if (!Number.isInteger(encoding) || encoding < 0 || encoding > 0xffff_ffff) return false;
  const accessHigh = (encoding & 1) === 1;
  const field = fieldByEncoding(accessHigh ? encoding - 1 : encoding);
  if (field === undefined) return false;
  if (accessHigh && field.width !== 64) return false;
  if (field.requires.length === 0) return true;
  return field.requires.some(
    (requirement) => isControlRequirement(requirement) && supportsControl(requirement.controls, requirement.bit),
  );
}
