/**
 * How a VM exit writes VMCS fields in the model: a known value, a value with some bits the SDM
 * leaves undefined, or nothing known at all. VMREAD then expects exactly the known bits
 * (model/vmcs-fields.ts). The processor writes these fields itself, as VMfailValid writes the
 * VM-instruction error (SDM Vol. 3C, December 2023, §28.2 "Recording VM-Exit Information and
 * Updating VM-Entry Control Fields", §28.3 "Saving Guest State").
 */
import { decodeFieldEncoding } from '../../spec/field-encoding.ts';
import { FIELD } from '../../spec/fields.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { FieldContent, VmcsContent } from '../state.ts';

const LOW32 = 0xffff_ffffn;

/**
 * `content` with field `name` holding `value` (cut to the field's width), except the bits of
 * `undefinedBits`, which become unknown; `value` undefined makes the whole field unknown.
 */
export function put(content: VmcsContent, name: FieldName, value: bigint | undefined, undefinedBits = 0n): VmcsContent {
  const encoding = FIELD[name];
  const width = decodeFieldEncoding(encoding).width;
  const fields = new Map(content.fields);
  if (value === undefined) {
    fields.delete(encoding);
    return { ...content, fields };
  }
  const mask = width === 16 ? 0xffffn : LOW32;
  const wide = width === 64 || width === 'natural';
  const field: FieldContent = {
    low: value & mask,
    high: wide ? (value >> 32n) & LOW32 : undefined,
    ...(undefinedBits === 0n ? {} : { unknownBits: undefinedBits & (wide ? 0xffff_ffff_ffff_ffffn : mask) }),
  };
  fields.set(encoding, field);
  return { ...content, fields };
}

/** `content` with every field of `names` unknown. */
export function forget(content: VmcsContent, names: readonly FieldName[]): VmcsContent {
  return names.reduce((each, name) => put(each, name, undefined), content);
}
