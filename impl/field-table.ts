/**
 * Per-profile lookup table for VMREAD and VMWRITE, and impl/'s layout of a VMCS region; built
 * once and shared by every machine made for the same profile.
 *
 * Trick 1: deciding "does this encoding name a supported field, of which width, is it
 * read-only, where is it stored" from spec/fields.ts means a search of about 200 entries plus a
 * look at the capability MSRs on every access. Here it is one Int16Array load indexed by
 * encoding bits 14:0 (bits 31:15 are reserved, so any encoding outside 0..7FFFH is unsupported
 * without a look-up). Each entry packs `(word << 3) | (readOnly << 2) | access`, or -1 for "no
 * such field on this processor" (unknown encoding, reserved bit 12, a field whose enabling
 * control the profile lacks, or the high half of a field that is not 64 bits wide).
 *
 * Trick 2: `word` is the field's word offset in the VMCS region, and VMREAD/VMWRITE work on the
 * region in memory, so VMPTRLD, VMCLEAR and VMXOFF copy nothing (impl/machine/vmcs-pointers.ts).
 *
 * The layout (implementation-specific per SDM Vol. 3C, December 2023, §25.2 "Format of the VMCS
 * Region"): word 0 revision identifier and shadow-VMCS indicator, word 1 VMX-abort indicator
 * (both owned by software and never written back), word 2 launch state, word 3 reserved, then
 * every field the profile supports in spec/fields.ts order: one word for 16- and 32-bit fields
 * (a 16-bit field in the low half), two words (bits 31:0 first) for 64-bit and natural-width
 * fields, whose full and high encodings share them.
 */
import { FIELD, VMCS_FIELDS } from '../spec/fields.ts';
import type { Profile } from '../spec/profile.ts';

/** Access kinds in bits 1:0 of a table entry. */
export const ACCESS_16 = 0;
export const ACCESS_32 = 1;
/** A 64-bit or natural-width field accessed in full (natural width is 64 bits on Intel 64). */
export const ACCESS_64 = 2;
/** The high access type of a 64-bit field: bits 63:32 as a 32-bit field. */
export const ACCESS_HIGH = 3;
/** Bit 2 of a table entry: a VM-exit information field (read-only unless IA32_VMX_MISC[29]). */
export const READ_ONLY = 4;

/** Word offsets of the region header in impl/'s VMCS layout. */
export const REGION_REVISION_WORD = 0;
export const REGION_ABORT_WORD = 1;
export const REGION_LAUNCH_WORD = 2;
const REGION_HEADER_WORDS = 4;

/** Value of the launch-state word meaning "launched"; every other value reads as "clear". */
export const LAUNCH_STATE_LAUNCHED = 1;

/** Lookup table and region layout of one profile. */
export interface FieldTable {
  /** Encoding bits 14:0 -> packed entry, -1 when unsupported. */
  readonly entry: Int16Array;
  /** Words of the region the layout uses (header included). */
  readonly regionWords: number;
  /** Word offset of the VM-instruction error field, which VMfailValid writes. */
  readonly errorWord: number;
}

const cache = new WeakMap<Profile, FieldTable>();

/** The table for `profile`, built on first use. Throws when impl/'s layout cannot fit the region. */
export function fieldTableFor(profile: Profile): FieldTable {
  let table = cache.get(profile);
  if (table === undefined) {
    table = buildFieldTable(profile);
    cache.set(profile, table);
  }
  return table;
}

function buildFieldTable(profile: Profile): FieldTable {
  const entry = new Int16Array(0x8000).fill(-1);
  let word = REGION_HEADER_WORDS;
  let fields = 0;
  for (const field of VMCS_FIELDS) {
    if (!profile.fieldExists(field.encoding)) continue;
    fields++;
    const wide = field.width === 64 || field.width === 'natural';
    const readOnly = field.type === 'exit-information' ? READ_ONLY : 0;
    const access = field.width === 16 ? ACCESS_16 : field.width === 32 ? ACCESS_32 : ACCESS_64;
    entry[field.encoding & 0x7fff] = (word << 3) | readOnly | access;
    if (field.width === 64 && profile.fieldExists(field.encoding + 1)) {
      entry[(field.encoding + 1) & 0x7fff] = (word << 3) | readOnly | ACCESS_HIGH;
    }
    word += wide ? 2 : 1;
  }
  if (word * 4 > profile.regionSize) {
    throw new Error(
      `impl/ stores ${fields} fields in ${word * 4} bytes of the VMCS region, ` +
        `but profile ${profile.name} reports a region size of ${profile.regionSize} bytes (IA32_VMX_BASIC[44:32])`,
    );
  }
  const error = entry[FIELD.VM_INSTRUCTION_ERROR] as number;
  if (error < 0) {
    throw new Error(`profile ${profile.name} lacks the VM-instruction error field, which every VMX processor has`);
  }
  return { entry, regionWords: word, errorWord: error >> 3 };
}

/**
 * Reads the field described by table entry `entry` from the VMCS words starting at `base` of
 * `words` into `result` as (bits 31:0, bits 63:32), the way VMREAD returns it: a 16-bit field's
 * word masked (memory written behind the processor's back may hold anything in its upper half),
 * a 64-bit field's high half only with a 64-bit operand (`wide` = 1), a "high" access the upper
 * word. Shared by VMREAD of the current VMCS and of a shadow VMCS.
 */
export function readFieldInto(words: Int32Array, base: number, entry: number, wide: number, result: Int32Array): void {
  const at = base + (entry >> 3);
  switch (entry & 3) {
    case ACCESS_16:
      result[0] = (words[at] as number) & 0xffff;
      result[1] = 0;
      break;
    case ACCESS_32:
      result[0] = words[at] as number;
      result[1] = 0;
      break;
    case ACCESS_64:
      result[0] = words[at] as number;
      result[1] = wide === 1 ? (words[at + 1] as number) : 0;
      break;
    default:
      result[0] = words[at + 1] as number;
      result[1] = 0;
      break;
  }
}

/**
 * Writes (`valueLo`, `valueHi`) into the field described by table entry `entry` of the VMCS words
 * starting at `base`, the way VMWRITE stores it: a 16-bit field keeps bits 15:0, a 64-bit field's
 * high half comes from the operand only with a 64-bit operand (`wide` = 1) and is cleared
 * otherwise, a "high" access writes the upper word. Shared by VMWRITE of the current VMCS and of
 * a shadow VMCS.
 */
export function writeFieldFrom(words: Int32Array, base: number, entry: number, wide: number, valueLo: number, valueHi: number): void {
  const at = base + (entry >> 3);
  switch (entry & 3) {
    case ACCESS_16:
      words[at] = valueLo & 0xffff;
      break;
    case ACCESS_32:
      words[at] = valueLo;
      break;
    case ACCESS_64:
      words[at] = valueLo;
      words[at + 1] = wide === 1 ? valueHi : 0;
      break;
    default:
      words[at + 1] = valueLo;
      break;
  }
}

/**
 * The word-offset finder of the per-profile layout objects (impl/vm-entry/facts.ts,
 * guest-facts.ts, impl/vm-exit/exit-facts.ts, impl/non-root/words.ts): the word offset of a field
 * in impl/'s VMCS region layout, -1 when the profile lacks it (such a field reads 0).
 */
export function wordLocator(entry: Int16Array): (name: keyof typeof FIELD) => number {
  return (name) => {
    const packed = entry[FIELD[name] & 0x7fff] as number;
    return packed < 0 ? -1 : packed >> 3;
  };
}
