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

/** Every rule the model implements. */
export function modelledRules(): EntryRule[] {
  return Object.values(MODEL_ENTRY_RULES).flatMap((rules) => [...(rules ?? [])]);
}

/** The check environment of a built VMCS: the profile, and physical memory reading as zeros. */
export function builtEnvironment(profile: Profile): CheckEnvironment {
  return { profile, readMemory32: () => 0 };
}

/** A view of `values` with `changes` applied. */
export function viewWith(values: VmcsValues, changes: readonly FieldChange[] = []): VmcsView {
  const changed = new Map(changes.map((c) => [c.field, c.value]));
  return { get: (field: FieldName) => (changed.has(field) ? changed.get(field) : values.get(field)) };
}

function widthBits(field: FieldName): number {
  const width = fieldByEncoding(FIELD[field])?.width;
  return width === 16 ? 16 : width === 32 ? 32 : 64;
}

/** Values one step from `value` in `field`: single bits flipped, 0, all ones, ±1, the first bit beyond the physical-address width. */
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
  found.delete(value);
  return [...found].filter((v) => v >= 0n && v <= all);
}

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
  let failing = singles.filter((changes) => judge(changes) === 'fail');
  const passing = singles.filter((changes) => judge(changes) === 'pass' && failsNoOther(changes, rule, values, env));
  if (failing.length === 0 && rule.when !== undefined) failing = gatedFailures(rule, values, profile, judge);
  return { failing: exactFirst(failing, rule, values, env), passing, verified: true };
}

/** Pairs: a change to a gating field that makes the check apply, then a change to one of its fields that fails it. */
function gatedFailures(rule: EntryRule, values: VmcsValues, profile: Profile, judge: (changes: readonly FieldChange[]) => string): FieldChange[][] {
  const gates = (rule.when?.fields ?? [])
    .filter((field) => values.has(field))
    .flatMap((field) => candidateValues(field, values.get(field) as bigint, profile).map((value) => ({ field, value })))
    .filter((gate) => judge([gate]) !== 'not-applicable')
    .slice(0, 8);
  const pairs: FieldChange[][] = [];
  for (const gate of gates) {
    for (const field of rule.fields) {
      if (!values.has(field) || field === gate.field) continue;
      for (const value of candidateValues(field, values.get(field) as bigint, profile)) {
        const changes = [gate, { field, value }];
        if (judge(changes) === 'fail') pairs.push(changes);
      }
    }
  }
  return pairs;
}

/** True when `changes` make no modelled rule other than `target` fail. */
function failsNoOther(changes: readonly FieldChange[], target: EntryRule, values: VmcsValues, env: CheckEnvironment): boolean {
  return modelledRules().every((rule) => rule.id === target.id || evaluate(rule, viewWith(values, changes), env).kind !== 'fail');
}

/** Orders `failing` so that change lists failing no other modelled rule come first. */
function exactFirst(failing: FieldChange[][], target: EntryRule, values: VmcsValues, env: CheckEnvironment): FieldChange[][] {
  const marked = failing.map((changes) => ({ changes, exact: failsNoOther(changes, target, values, env) }));
  return [...marked.filter((m) => m.exact), ...marked.filter((m) => !m.exact)].map((m) => m.changes);
}
