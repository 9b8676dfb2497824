/**
 * How a VM-entry check is written in the model, and how it is evaluated.
 *
 * Each check of the catalogue (spec/entry-checks/) is one {@link EntryRule}: the VMCS fields it
 * reads, an optional condition saying when it applies (with the fields that condition reads),
 * and the condition that must hold. Declaring the fields lets one evaluator serve both users:
 * the VM-entry instructions, over the model's VMCS (where a field never written is unknown), and
 * `explain`, over a dump (where a field the hypervisor did not print is unknown). A check whose
 * fields are unknown is `undecided`, never guessed. A check whose outcome depends on a processor
 * fact the profile does not record (the linear-address width, say) is `may-fail`: it fails on
 * some processors and passes on others, and the SDM allows both.
 *
 * Catalogue entries carry the SDM citation and the consequence; a rule carries only the id, so
 * the words live in one place (spec/) and the test that matches the two keeps them together.
 */
import { PRIMARY_CONTROL } from '../../spec/control-bits.ts';
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
  /**
   * Whether the logical processor is in system-management mode; absent when not known (a dump
   * read by `explain` does not say). The model's processors never are (model/state.ts).
   */
  readonly inSmm?: boolean;
  /**
   * Whether the processor making the VM entry is in IA-32e mode (IA32_EFER.LMA = 1); absent when
   * not known (a dump). The checks related to address-space size read it.
   */
  readonly ia32eMode?: boolean;
  /** The current-VMCS pointer of the processor entering, when known (the VMCS link-pointer checks). */
  readonly currentVmcsPointer?: bigint;
  /**
   * Whether the processor entering used PAE paging before the entry (the PDPTE checks with EPT
   * off); absent when not known.
   */
  readonly paePagingBeforeEntry?: boolean;
}

/** A condition the evaluator could not decide for lack of something other than a field. */
export interface Unknown {
  kind: 'unknown';
  /** What was missing, in words (for example "the VTPR byte of the virtual-APIC page"). */
  missing: string;
}

/** A check's condition: holds, does not hold, or cannot be known. */
export type Truth = boolean | Unknown;

/** The condition saying when a check applies: true, false, or cannot be known. */
export type Condition = Truth;

/** An {@link Unknown}. */
export function unknown(missing: string): Unknown {
  return { kind: 'unknown', missing };
}

/**
 * A condition the SDM lets a processor treat either way: where editions or Intel's own
 * statements disagree on what a check tests, or where the outcome depends on a processor fact
 * the profile does not record (the linear-address width for a canonical address: 48 or 57
 * bits), a processor may fail the entry on this value or go on. Unlike {@link Unknown},
 * everything the model needs is known; the freedom is architectural. The check's consequence
 * joins the allowed outcomes without being a certain failure (assess.ts).
 */
export interface MayFail {
  kind: 'may-fail';
  /** Why both outcomes are allowed, in words (for reports). */
  why: string;
}

/** A {@link MayFail}. */
export function mayFail(why: string): MayFail {
  return { kind: 'may-fail', why };
}

/** What a check's `holds` returns: a {@link Truth}, or a {@link MayFail}. */
export type Holds = Truth | MayFail;

/** The values of fields `O`, each `undefined` when unknown (see {@link EntryRule.optional}). */
export type OptionalFields<O extends FieldName> = { readonly [P in O]: bigint | undefined };

/** One VM-entry check of the model, named by its catalogue id. */
export interface EntryRule {
  /** The catalogue id (spec/entry-checks/), for example `exit-controls.msr-store-aligned`. */
  readonly id: string;
  /**
   * When present, the check applies only where `test` is true. A `may-fail` answer means the
   * check may apply or not (a processor fact decides): its failure is then only a possibility.
   */
  readonly when?: { readonly fields: readonly FieldName[]; test(f: Fields<FieldName>, env: CheckEnvironment): Holds };
  /** The fields `holds` reads. */
  readonly fields: readonly FieldName[];
  /** Fields the check reads only in some cases; they may be unknown without the check being undecided. */
  readonly optional?: readonly FieldName[];
  /** The check's condition; false means the VM entry fails this check. */
  holds(f: Fields<FieldName>, env: CheckEnvironment): Holds;
}

/**
 * Declares a check. Type parameters make each predicate see exactly the fields it declared, so
 * a predicate cannot read a field the evaluator did not check for.
 */
export function check<const W extends FieldName, const K extends FieldName, const O extends FieldName = never>(
  id: string,
  spec: {
    when?: { fields: readonly W[]; test(f: Fields<W> & OptionalFields<O>, env: CheckEnvironment): Holds };
    fields: readonly K[];
    optional?: readonly O[];
    holds(f: Fields<K> & OptionalFields<O>, env: CheckEnvironment): Holds;
  },
): EntryRule {
  const rule: EntryRule = { id, fields: spec.fields, holds: spec.holds as EntryRule['holds'] };
  const withOptional: EntryRule = spec.optional === undefined ? rule : { ...rule, optional: spec.optional };
  return spec.when === undefined ? withOptional : { ...withOptional, when: spec.when as EntryRule['when'] };
}

/** The result of evaluating one check. */
export type CheckResult =
  | { kind: 'pass' }
  /** The check's condition for applying is false. */
  | { kind: 'not-applicable' }
  /** The check fails; `values` are the fields it read, for reports. */
  | { kind: 'fail'; values: ReadonlyMap<FieldName, bigint> }
  /** The SDM allows the check to fail or to pass on these values (see {@link MayFail}). */
  | { kind: 'may-fail'; why: string; values: ReadonlyMap<FieldName, bigint> }
  /** The evaluator lacked fields or other facts; `missing` names them. */
  | { kind: 'undecided'; missing: readonly string[] };

/** Evaluates `rule` over `view` and `env`. */
export function evaluate(rule: EntryRule, view: VmcsView, env: CheckEnvironment): CheckResult {
  const optional = rule.optional ?? [];
  let mayApplyWhy: string | undefined;
  if (rule.when !== undefined) {
    const gate = read(view, rule.when.fields, optional);
    if (gate.missing.length > 0) return { kind: 'undecided', missing: gate.missing };
    const applies = rule.when.test(gate.values, env);
    if (applies === false) return { kind: 'not-applicable' };
    if (typeof applies !== 'boolean') {
      if (applies.kind === 'unknown') return { kind: 'undecided', missing: [applies.missing] };
      mayApplyWhy = applies.why;
    }
  }
  const body = read(view, rule.fields, optional);
  if (body.missing.length > 0) return { kind: 'undecided', missing: body.missing };
  const holds = rule.holds(body.values, env);
  if (holds === true) return { kind: 'pass' };
  if (holds !== false && holds.kind === 'unknown') return { kind: 'undecided', missing: [holds.missing] };
  const values = valuesRead(rule, view);
  if (holds !== false) return { kind: 'may-fail', why: holds.why, values };
  if (mayApplyWhy !== undefined) return { kind: 'may-fail', why: mayApplyWhy, values };
  return { kind: 'fail', values };
}

/** The fields `rule` read, with their values, for reports. */
function valuesRead(rule: EntryRule, view: VmcsView): Map<FieldName, bigint> {
  const values = new Map<FieldName, bigint>();
  for (const field of [...(rule.when?.fields ?? []), ...rule.fields, ...(rule.optional ?? [])]) {
    const value = valueFor(view, field);
    if (value !== undefined) values.set(field, value);
  }
  return values;
}

/**
 * The value a check sees for `field`. A secondary processor-based control counts as 0 while
 * "activate secondary controls" (primary bit 31) is 0 (SDM Vol. 3C, December 2023, §25.6.2
 * "Processor-Based VM-Execution Controls": the processor "operates as if" they were all 0), so
 * then an unknown or nonexistent secondary-controls field does not leave a check undecided.
 */
function valueFor(view: VmcsView, field: FieldName): bigint | undefined {
  const value = view.get(field);
  if (value !== undefined || field !== 'SECONDARY_PROCESSOR_BASED_CONTROLS') return value;
  const primary = view.get('PRIMARY_PROCESSOR_BASED_CONTROLS');
  if (primary === undefined) return undefined;
  const activated = ((primary >> BigInt(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS)) & 1n) === 1n;
  return activated ? undefined : 0n;
}

function read(view: VmcsView, fields: readonly FieldName[], optional: readonly FieldName[]): { values: Fields<FieldName>; missing: string[] } {
  const values: Partial<Record<FieldName, bigint>> = {};
  const missing: string[] = [];
  for (const field of fields) {
    const value = valueFor(view, field);
    if (value === undefined) missing.push(field);
    else values[field] = value;
  }
  for (const field of optional) {
    if (!fields.includes(field)) {
      const value = valueFor(view, field);
      if (value !== undefined) values[field] = value;
    }
  }
  return { values: values as Fields<FieldName>, missing };
}
