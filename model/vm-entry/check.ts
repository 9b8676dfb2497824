/**
 * How a VM-entry check is written in the model, and how it is evaluated.
 *
 * Each check of the catalogue (spec/entry-checks/) is one {@link EntryRule}: the VMCS fields it
 * reads, an optional condition saying when it applies (with the fields that condition reads),
 * and the condition that must hold. Declaring the fields lets one evaluator serve both users:
 * the VM-entry instructions, over the model's VMCS (where a field never written is unknown), and
 * `explain`, over a dump (where a field the hypervisor did not print is unknown). A check whose
 * fields are unknown is `undecided`, never guessed.
 *
 * Catalogue entries carry the SDM citation and the consequence; a rule carries only the id, so
 * the words live in one place (spec/) and the test that matches the two keeps them together.
 */
import type { FieldName } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';

/** The values of fields `K`, all known. */
export type Fields<K extends FieldName> = { readonly [P in K]: bigint };

/** What the evaluator knows of one VMCS: a field's value, or `undefined` when it is unknown. */
export interface VmcsView {
  get(field: FieldName): bigint | undefined;
}

/** What a check may read besides VMCS fields. */
export interface CheckEnvironment {
  readonly profile: Profile;
  /** A 32-bit word of physical memory (4-byte aligned address), or `undefined` when not known. */
  readMemory32(address: bigint): number | undefined;
}

/** A condition the evaluator could not decide for lack of something other than a field. */
export interface Unknown {
  kind: 'unknown';
  /** What was missing, in words (for example "the VTPR byte of the virtual-APIC page"). */
  missing: string;
}

/**
 * A condition whose truth depends on a fact about the processor that the profile does not record
 * (the linear-address width, MSRs a processor refuses for model-specific reasons): the SDM
 * allows the check to fail and allows it to pass.
 */
export interface MayFail {
  kind: 'may-fail';
  /** The processor fact the outcome depends on, in words. */
  because: string;
}

/** A check's condition: holds, does not hold, cannot be known, or may go either way. */
export type Truth = boolean | Unknown | MayFail;

/** An {@link Unknown}. */
export function unknown(missing: string): Unknown {
  return { kind: 'unknown', missing };
}

/** A {@link MayFail}. */
export function mayFail(because: string): MayFail {
  return { kind: 'may-fail', because };
}

/** One VM-entry check of the model, named by its catalogue id. */
export interface EntryRule {
  /** The catalogue id (spec/entry-checks/), for example `exit-controls.msr-store-aligned`. */
  readonly id: string;
  /** When present, the check applies only where `test` is true. */
  readonly when?: { readonly fields: readonly FieldName[]; test(f: Fields<FieldName>, env: CheckEnvironment): Truth };
  /** The fields `holds` reads. */
  readonly fields: readonly FieldName[];
  /**
   * Fields the predicates read only in some cases (for example the secondary controls, which
   * matter only when "activate secondary controls" is 1): passed as `undefined` when unknown,
   * and a predicate that needs one then answers {@link unknown} with the field's name.
   */
  readonly optional?: readonly FieldName[];
  /** The check's condition; false means the VM entry fails this check. */
  holds(f: Fields<FieldName>, env: CheckEnvironment): Truth;
}

/** The values of fields `O`, each `undefined` when unknown (see {@link EntryRule.optional}). */
export type OptionalFields<O extends FieldName> = { readonly [P in O]: bigint | undefined };

/**
 * Declares a check. Type parameters make each predicate see exactly the fields it declared, so
 * a predicate cannot read a field the evaluator did not check for.
 */
export function check<const W extends FieldName, const K extends FieldName, const O extends FieldName = never>(
  id: string,
  spec: {
    when?: { fields: readonly W[]; test(f: Fields<W> & OptionalFields<O>, env: CheckEnvironment): Truth };
    fields: readonly K[];
    optional?: readonly O[];
    holds(f: Fields<K> & OptionalFields<O>, env: CheckEnvironment): Truth;
  },
): EntryRule {
  const rule: EntryRule = { id, fields: spec.fields, holds: spec.holds as EntryRule['holds'] };
  const withOptional = spec.optional === undefined ? rule : { ...rule, optional: spec.optional };
  return spec.when === undefined ? withOptional : { ...withOptional, when: spec.when as NonNullable<EntryRule['when']> };
}

/** The result of evaluating one check. */
export type CheckResult =
  | { kind: 'pass' }
  /** The check's condition for applying is false. */
  | { kind: 'not-applicable' }
  /** The check fails; `values` are the fields it read, for reports. */
  | { kind: 'fail'; values: ReadonlyMap<FieldName, bigint> }
  /** The check fails on some processors and passes on others (see {@link MayFail}). */
  | { kind: 'may-fail'; because: string; values: ReadonlyMap<FieldName, bigint> }
  /** The evaluator lacked fields or other facts; `missing` names them. */
  | { kind: 'undecided'; missing: readonly string[] };

/** Evaluates `rule` over `view` and `env`. */
export function evaluate(rule: EntryRule, view: VmcsView, env: CheckEnvironment): CheckResult {
  const optional = rule.optional ?? [];
  let mayFailBecause: string | undefined;
  if (rule.when !== undefined) {
    const gate = read(view, rule.when.fields, optional);
    if (gate.missing.length > 0) return { kind: 'undecided', missing: gate.missing };
    const applies = rule.when.test(gate.values, env);
    if (typeof applies !== 'boolean' && applies.kind === 'unknown') return { kind: 'undecided', missing: [applies.missing] };
    if (applies === false) return { kind: 'not-applicable' };
    // A condition for applying that may or may not hold: where it does not, the check passes.
    if (applies !== true) mayFailBecause = applies.because;
  }
  const body = read(view, rule.fields, optional);
  if (body.missing.length > 0) return { kind: 'undecided', missing: body.missing };
  const holds = rule.holds(body.values, env);
  if (typeof holds !== 'boolean' && holds.kind === 'unknown') return { kind: 'undecided', missing: [holds.missing] };
  if (holds === true) return { kind: 'pass' };
  const values = new Map<FieldName, bigint>();
  for (const field of [...(rule.when?.fields ?? []), ...rule.fields, ...optional]) {
    const value = view.get(field);
    if (value !== undefined) values.set(field, value);
  }
  if (holds !== false) return { kind: 'may-fail', because: holds.because, values };
  if (mayFailBecause !== undefined) return { kind: 'may-fail', because: mayFailBecause, values };
  return { kind: 'fail', values };
}

function read(
  view: VmcsView,
  fields: readonly FieldName[],
  optional: readonly FieldName[],
): { values: Fields<FieldName>; missing: string[] } {
  const values: Partial<Record<FieldName, bigint>> = {};
  const missing: string[] = [];
  for (const field of fields) {
    const value = view.get(field);
    if (value === undefined) missing.push(field);
    else values[field] = value;
  }
  for (const field of optional) if (!fields.includes(field)) values[field] = view.get(field);
  return { values: values as Fields<FieldName>, missing };
}
