/**
 * The documented JSON form of a VMCS for `explain`:
 *
 * ```json
 * {
 *   "format": "vmx-conformance-vmcs/1",
 *   "fields": { "GUEST_CR0": "0x80000031", "0x6802": "0x1000" },
 *   "msrLoadArea": [{ "msr": "0xc0000080", "value": "0x500" }]
 * }
 * ```
 *
 * `fields` maps field names (keys of `FIELD` in spec/field-names.ts, as `vmx-conformance spec
 * fields` prints them) or field encodings (hexadecimal strings) to values (hexadecimal strings).
 * A field left out is unknown, not 0. `msrLoadArea` (optional) lists the VM-entry MSR-load area's
 * entries in order.
 */
import { z } from 'zod';
import { FIELD } from '../../spec/fields.ts';
import type { FieldName } from '../../spec/fields.ts';
import { isHex, parseHex } from '../../spec/hex.ts';
import { describeIssues } from '../../spec/schemas.ts';
import type { VmcsDump } from './vmcs-dump.ts';
import { DumpParseError, emptyDump, setDumpField } from './vmcs-dump.ts';

/** The `format` value of the JSON form. */
export const VMCS_JSON_FORMAT = 'vmx-conformance-vmcs/1';

const hex = z.string().refine(isHex, 'a hexadecimal string such as "0x1f"');

const schema = z
  .object({
    format: z.literal(VMCS_JSON_FORMAT),
    fields: z.record(z.string(), hex),
    msrLoadArea: z.array(z.object({ msr: hex, value: hex }).strict()).optional(),
  })
  .strict();

const NAME_BY_ENCODING = new Map<number, FieldName>(Object.entries(FIELD).map(([name, encoding]) => [encoding, name as FieldName]));

/** Reads the JSON form; errors name the key or the JSON problem. */
export function readJsonDump(text: string): VmcsDump {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DumpParseError(undefined, `not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new DumpParseError(undefined, `not a ${VMCS_JSON_FORMAT} document:\n  ${describeIssues(parsed.error).join('\n  ')}`);
  }
  const dump = emptyDump('json');
  for (const [key, value] of Object.entries(parsed.data.fields)) {
    setDumpField(dump, fieldNamed(key), parseHex(value), lineOfKey(text, key));
  }
  if (parsed.data.msrLoadArea !== undefined) {
    dump.msrLoadArea = parsed.data.msrLoadArea.map((entry, position) => ({ position, msr: parseHex(entry.msr), value: parseHex(entry.value) }));
  }
  return dump;
}

function fieldNamed(key: string): FieldName {
  if (Object.hasOwn(FIELD, key)) return key as FieldName;
  if (isHex(key)) {
    const encoding = Number(parseHex(key));
    const name = NAME_BY_ENCODING.get(encoding);
    if (name !== undefined) return name;
    if (NAME_BY_ENCODING.has(encoding & ~1)) {
      throw new DumpParseError(undefined, `fields.${key}: give the full encoding of a 64-bit field (${'0x' + (encoding & ~1).toString(16)}) with its whole value, not its high half`);
    }
    throw new DumpParseError(undefined, `fields.${key}: no VMCS field has encoding ${key} (vmx-conformance spec fields lists them)`);
  }
  throw new DumpParseError(undefined, `fields.${key}: not a VMCS field name or encoding (vmx-conformance spec fields lists them)`);
}

/** The line of `"key"` in the text, for messages; 1 when it cannot be found. */
function lineOfKey(text: string, key: string): number {
  const at = text.indexOf(JSON.stringify(key));
  return at < 0 ? 1 : text.slice(0, at).split('\n').length;
}
