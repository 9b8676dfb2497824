/**
 * Perturbations of a valid VMCS (vmcs-builder.ts) near one VM-entry check's boundary: the
 * changes (one field, or a gating field and one field) that make exactly that check fail, and
 * changes to the same fields that stay just on the passing side (failing no modelled rule).
 *
 * Candidates are the values one step from the valid one in the fields the catalogue entry names:
 * every single bit flipped (within the field's width), 0, all ones, one more and one less, and the
 * first address bit beyond the physical-address width. Where the model implements the check, each
 * candidate is judged by the model's rule itself (`evaluate`), so a failing perturbation is
 * known to fail that rule, and one that fails no other modelled rule is preferred. Where the
 * model does not implement it yet, the candidates are the catalogue's fields flipped one bit at a
 * time, unverified: the generator is written against the catalogue, not the model's progress.
 */
import { evaluate } from '../../model/vm-entry/check.ts';
import type { CheckEnvironment, EntryRule, VmcsView } from '../../model/vm-entry/check.ts';
import { controlsInEffect } from '../../model/vm-entry/derived.ts';
import { MODEL_ENTRY_RULES } from '../../model/vm-entry/rules.ts';
import { entryCheckById } from '../../spec/entry-checks/index.ts';
import { FIELD, fieldByEncoding, type FieldName } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import type { BuildOptions, VmcsValues } from './vmcs-builder.ts';

/** One VMWRITE of a perturbation. */
export interface FieldChange {
  field: FieldName;
  value: bigint;
}

/** The perturbations of one check over one built VMCS. */
export interface CheckPerturbations {
  /** Change lists that make the check fail (exact ones, failing no other modelled rule, first). */
  failing: readonly (readonly FieldChange[])[];
  /** Change lists that alter the check's fields but leave it passing. */
  passing: readonly (readonly FieldChange[])[];
  /** Whether the model's rule judged the candidates (false: unverified catalogue-field flips). */
  verified: boolean;
}

/** The model's rule for catalogue id `id`, when it implements one. */
export function modelRule(id: string): EntryRule | undefined {
  for (const rules of Object.values(MODEL_ENTRY_RULES)) {
    const found = rules?.find((each) => each.id === id);
    if (found !== undefined) return found;
  }
  return undefined;
}

const MODELLED: readonly EntryRule[] = Object.values(MODEL_ENTRY_RULES).flatMap((rules) => [...(rules ?? [])]);

/** Every rule the model implements. */
export function modelledRules(): readonly EntryRule[] {
  return MODELLED;
}

/** The VMCS region the VM-entry step group makes current (the link-pointer checks compare with it). */
export const BUILT_VMCS_POINTER = 0x2000n;

/**
 * The check environment of a built VMCS: the profile, physical memory reading as zeros, a
 * processor in IA-32e mode (4-level paging, not PAE paging) outside SMM, as sequences start
 * (spec/initial-state.ts), whose current VMCS is {@link BUILT_VMCS_POINTER}.
 */
export function builtEnvironment(profile: Profile): CheckEnvironment {
  return { profile, readMemory32: () => 0, inSmm: false, ia32eMode: true, currentVmcsPointer: BUILT_VMCS_POINTER, paePagingBeforeEntry: false };
}

/**
 * A view of `values` with `changes` applied, showing the controls in effect (secondary controls
 * read 0 when not activated, and so on), as the model's VM entry shows them to its checks.
 */
export function viewWith(values: VmcsValues, changes: readonly FieldChange[] = []): VmcsView {
  const changed = new Map(changes.map((c) => [c.field, c.value]));
  return controlsInEffect({ get: (field: FieldName) => (changed.has(field) ? changed.get(field) : values.get(field)) });
}

function widthBits(field: FieldName): number {
  const width = fieldByEncoding(FIELD[field])?.width;
  return width === 16 ? 16 : width === 32 ? 32 : 64;
}

/**
 * Values one step from `value` in `field`: single bits flipped, 0, all ones, ±1, the first bit
 * beyond the physical-address width, and (64-bit fields) the current VMCS pointer.
 */
export function candidateValues(field: FieldName, value: bigint, profile: Profile): bigint[] {
  const bits = widthBits(field);
  const all = (1n << BigInt(bits)) - 1n;
  const found = new Set<bigint>();
  for (let b = 0; b < bits; b += 1) found.add(value ^ (1n << BigInt(b)));
  found.add(0n);
  found.add(all);
  found.add(value + 1n);
  found.add(value - 1n);
  if (profile.data.physicalAddressWidth < bits) found.add(value | (1n << BigInt(profile.data.physicalAddressWidth)));
  if (bits === 64) found.add(BUILT_VMCS_POINTER);
  found.delete(value);
  return [...found].filter((v) => v >= 0n && v <= all);
}

/** Most perturbations kept per side and check (enough variety; bounds the work per check). */
const MOST = 48;

const CACHE = new WeakMap<Profile, Map<string, CheckPerturbations>>();

/**
 * The perturbations of check `id` over `values` (built for `profile` with `options`). Memoized
 * per profile, options and check.
 */
export function perturbationsOf(profile: Profile, options: BuildOptions, values: VmcsValues, id: string): CheckPerturbations {
  let perProfile = CACHE.get(profile);
  if (perProfile === undefined) {
    perProfile = new Map();
    CACHE.set(profile, perProfile);
  }
  const key = `${JSON.stringify(options)}/${id}`;
  let found = perProfile.get(key);
  if (found === undefined) {
    found = compute(profile, values, id);
    perProfile.set(key, found);
  }
  return found;
}

function compute(profile: Profile, values: VmcsValues, id: string): CheckPerturbations {
  const entry = entryCheckById(id);
  if (entry === undefined) throw new Error(`no catalogue check ${id}`);
  const rule = modelRule(id);
  const present = (entry.fields as readonly FieldName[]).filter((field) => values.has(field));
  if (rule === undefined) {
    const failing = present.flatMap((field) => candidateValues(field, values.get(field) as bigint, profile).map((value) => [{ field, value }]));
    return { failing, passing: [], verified: false };
  }
  const env = builtEnvironment(profile);
  const judge = (changes: readonly FieldChange[]): string => evaluate(rule, viewWith(values, changes), env).kind;
  const singles = [...new Set([...(rule.when?.fields ?? []), ...rule.fields])]
    .filter((field) => values.has(field))
    .flatMap((field) => candidateValues(field, values.get(field) as bigint, profile).map((value): FieldChange[] => [{ field, value }]));
  const kinds = singles.map((changes) => judge(changes));
  let failing = singles.filter((_, i) => kinds[i] === 'fail');
  const passing = singles.filter((changes, i) => kinds[i] === 'pass' && failsNoOther(changes, rule, values, env));
  if (failing.length === 0 && rule.when !== undefined) failing = gatedFailures(rule, values, profile, judge);
  if (failing.length === 0) failing = pairFailures(rule, values, judge);
  return { failing: exactFirst(failing.slice(0, MOST), rule, values, env), passing: passing.slice(0, MOST), verified: true };
}

/**
 * For a check that does not apply to the built VMCS: gate changes (one change to a field its
 * condition reads, or to a control that decides what that field reads as, or two such changes)
 * that make it apply, each followed by one change to a field it reads (starting from the gated
 * value when it is the same field: an event made valid, then its type or vector changed).
 */
function gatedFailures(rule: EntryRule, values: VmcsValues, profile: Profile, judge: (changes: readonly FieldChange[]) => string): FieldChange[][] {
  const gateFields = [...new Set((rule.when?.fields ?? []).flatMap((field) => [field, ...sourcesOf(field)]))].filter((field) => values.has(field));
  const singles = gateFields.flatMap((field) => bitFlips(field, values.get(field) as bigint).map((value): FieldChange => ({ field, value })));
  let gates: FieldChange[][] = singles.map((gate) => [gate]).filter((gate) => judge(gate) !== 'not-applicable');
  if (gates.length === 0) {
    for (const [i, a] of singles.entries()) {
      for (const b of singles.slice(i + 1)) {
        // Two flips in one field are one change (an event made valid and given a type).
        const pair = a.field === b.field ? [{ field: a.field, value: a.value ^ b.value ^ (values.get(a.field) as bigint) }] : [a, b];
        if (judge(pair) !== 'not-applicable') gates.push(pair);
      }
    }
  }
  gates = gates.slice(0, 8);
  const found: FieldChange[][] = [];
  for (const gate of gates) {
    for (const field of rule.fields) {
      const start = gate.find((g) => g.field === field)?.value ?? values.get(field);
      if (start === undefined) continue;
      for (const value of candidateValues(field, start, profile)) {
        const changes = [...gate.filter((g) => g.field !== field), { field, value }];
        if (judge(changes) === 'fail') found.push(changes);
      }
    }
  }
  return found;
}

const PAIR_BUDGET = 1500;

/**
 * For a check whose condition ties two fields (an activity state and the SS DPL, blocking and
 * the activity state): one bit flipped in each of two of its fields. Stops after a few, or after
 * {@link PAIR_BUDGET} tries (the search is for conditions on low bits: states, DPLs, flags).
 */
function pairFailures(rule: EntryRule, values: VmcsValues, judge: (changes: readonly FieldChange[]) => string): FieldChange[][] {
  const fields = [...new Set([...(rule.when?.fields ?? []), ...rule.fields])].filter((field) => values.has(field));
  const flips = fields.map((field) => bitFlips(field, values.get(field) as bigint).map((value): FieldChange => ({ field, value })));
  const found: FieldChange[][] = [];
  let tries = 0;
  for (const [i, first] of flips.entries()) {
    for (const second of flips.slice(i + 1)) {
      for (const a of first) {
        for (const b of second) {
          if (judge([a, b]) === 'fail') found.push([a, b]);
          tries += 1;
          if (found.length >= 8 || tries >= PAIR_BUDGET) return found;
        }
      }
    }
  }
  return found;
}

/** The controls that decide what `field` reads as in the controls in effect. */
function sourcesOf(field: FieldName): FieldName[] {
  return (Object.keys(GATING) as FieldName[]).filter((source) => GATING[source]?.includes(field));
}

function bitFlips(field: FieldName, value: bigint): bigint[] {
  return Array.from({ length: widthBits(field) }, (_, b) => value ^ (1n << BigInt(b)));
}

/** Fields whose value decides what other fields read as in the controls in effect (model/vm-entry/derived.ts). */
const GATING: Partial<Record<FieldName, readonly FieldName[]>> = {
  PRIMARY_PROCESSOR_BASED_CONTROLS: ['SECONDARY_PROCESSOR_BASED_CONTROLS', 'TERTIARY_PROCESSOR_BASED_CONTROLS', 'VM_FUNCTION_CONTROLS'],
  SECONDARY_PROCESSOR_BASED_CONTROLS: ['VM_FUNCTION_CONTROLS'],
};

/** The modelled rules that read each field (directly, or through the controls in effect). */
const READERS = new Map<FieldName, EntryRule[]>();
for (const rule of MODELLED) {
  for (const field of new Set([...(rule.when?.fields ?? []), ...rule.fields])) READERS.set(field, [...(READERS.get(field) ?? []), rule]);
}

function readersOf(field: FieldName): Set<EntryRule> {
  return new Set([field, ...(GATING[field] ?? [])].flatMap((f) => READERS.get(f) ?? []));
}

/** True when `changes` make no modelled rule other than `target` fail (only rules reading a changed field can). */
function failsNoOther(changes: readonly FieldChange[], target: EntryRule, values: VmcsValues, env: CheckEnvironment): boolean {
  const view = viewWith(values, changes);
  const affected = new Set(changes.flatMap((c) => [...readersOf(c.field)]));
  return [...affected].every((rule) => rule.id === target.id || evaluate(rule, view, env).kind !== 'fail');
}

/** Orders `failing` so that change lists failing no other modelled rule come first. */
function exactFirst(failing: FieldChange[][], target: EntryRule, values: VmcsValues, env: CheckEnvironment): FieldChange[][] {
  const marked = failing.map((changes) => ({ changes, exact: failsNoOther(changes, target, values, env) }));
  return [...marked.filter((m) => m.exact), ...marked.filter((m) => !m.exact)].map((m) => m.changes);
}
