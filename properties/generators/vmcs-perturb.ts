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
import type { FieldName } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import { BUILT_VMCS_POINTER, candidateValues, widthBits, type FieldChange, type Perturbation, type PreEntryStep, type ProviderContext, type ProviderTable } from './perturbation-provider.ts';
import { CONTROL_PERTURBATIONS } from './vmcs-perturb-controls.ts';
import { GUEST_PERTURBATIONS, guestCheckPerturbations, isGuestCheck } from './vmcs-perturb-guest.ts';
import { HOST_PERTURBATIONS } from './vmcs-perturb-host.ts';
import type { BuildOptions, VmcsValues } from './vmcs-builder.ts';

export type { FieldChange, Perturbation, PreEntryStep } from './perturbation-provider.ts';

/**
 * The perturbation providers (perturbation-provider.ts explains how to write one), by check id or
 * group. To contribute, export a {@link ProviderTable} from your file and add it here.
 */
const PROVIDER_TABLES: readonly ProviderTable[] = [CONTROL_PERTURBATIONS, HOST_PERTURBATIONS, GUEST_PERTURBATIONS];

/** The perturbations of one check over one built VMCS. */
export interface CheckPerturbations {
  /** Perturbations that make the check fail (exact ones, failing no other modelled rule, first). */
  failing: readonly Perturbation[];
  /** Perturbations that reach the check (alter its fields, open its gate) but leave it passing. */
  passing: readonly Perturbation[];
  /** How many of `failing` (its first ones) are exact: they fail no other modelled rule. */
  exact: number;
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

export { BUILT_VMCS_POINTER };

/**
 * The check environment of a built VMCS: the profile, physical memory reading as zeros, a
 * processor in IA-32e mode (4-level paging, not PAE paging) outside SMM, as sequences start
 * (spec/initial-state.ts), whose current VMCS is {@link BUILT_VMCS_POINTER}; with `before`, the
 * memory stores and `efer.lma` of a perturbation's steps before the VMLAUNCH applied.
 */
export function builtEnvironment(profile: Profile, before: readonly PreEntryStep[] = []): CheckEnvironment {
  const memory = new Map<bigint, number>();
  let ia32eMode = true;
  for (const step of before) {
    if (step.kind === 'write-memory') memory.set(step.address & ~3n, Number(step.value & 0xffff_ffffn));
    else if (step.what === 'efer.lma') ia32eMode = step.value === 1;
  }
  return { profile, readMemory32: (address) => memory.get(address & ~3n) ?? 0, inSmm: false, ia32eMode, currentVmcsPointer: BUILT_VMCS_POINTER, paePagingBeforeEntry: false };
}

/**
 * A view of `values` with `changes` applied, showing the controls in effect (secondary controls
 * read 0 when not activated, and so on), as the model's VM entry shows them to its checks.
 */
export function viewWith(values: VmcsValues, changes: readonly FieldChange[] = []): VmcsView {
  const changed = new Map(changes.map((c) => [c.field, c.value]));
  return controlsInEffect({ get: (field: FieldName) => (changed.has(field) ? changed.get(field) : values.get(field)) });
}

export { candidateValues };

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
    found = compute(profile, options, values, id);
    perProfile.set(key, found);
  }
  return found;
}

function compute(profile: Profile, options: BuildOptions, values: VmcsValues, id: string): CheckPerturbations {
  const entry = entryCheckById(id);
  if (entry === undefined) throw new Error(`no catalogue check ${id}`);
  const rule = modelRule(id);
  const present = (entry.fields as readonly FieldName[]).filter((field) => values.has(field));
  if (rule === undefined) {
    const failing = present.flatMap((field) => candidateValues(field, values.get(field) as bigint, profile).map((value) => ({ changes: [{ field, value }] })));
    return { failing, passing: [], exact: 0, verified: false };
  }
  const env = builtEnvironment(profile);
  const judgeAll = (p: Perturbation): string => evaluate(rule, viewWith(values, p.changes), p.before === undefined ? env : builtEnvironment(profile, p.before)).kind;
  const judge = (changes: readonly FieldChange[]): string => evaluate(rule, viewWith(values, changes), env).kind;
  // The guest-state provider searches one-field, memory and gated candidates itself, each judged
  // against every modelled rule over the memory the built VMCS needs: its lists are final.
  // When it finds no failing one (a PDPTE field check on a guest without EPT), the generic search
  // below still looks for coordinated changes that fail it.
  const guest = isGuestCheck(id) ? guestCheckPerturbations(profile, options, values, id) : undefined;
  if (guest !== undefined && guest.failing.length > 0) return { ...guest, verified: true };
  const provided = guest ?? fromProviders(profile, options, values, rule, judgeAll);
  const singles = [...new Set([...(rule.when?.fields ?? []), ...rule.fields])]
    .filter((field) => values.has(field))
    .flatMap((field) => candidateValues(field, values.get(field) as bigint, profile).map((value): FieldChange[] => [{ field, value }]));
  const kinds = singles.map((changes) => judge(changes));
  let failing = singles.filter((_, i) => kinds[i] === 'fail');
  const passing = singles.filter((changes, i) => kinds[i] === 'pass' && failsNoOther({ changes }, rule, values, profile));
  if (failing.length === 0 && provided.failing.length === 0 && rule.when !== undefined) failing = gatedFailures(rule, values, profile, judge);
  if (failing.length === 0 && provided.failing.length === 0) failing = pairFailures(rule, values, judge);
  const allFailing = [...provided.failing, ...failing.slice(0, MOST).map((changes) => ({ changes }))];
  const allPassing = [...provided.passing.filter((p) => failsNoOther(p, rule, values, profile)), ...passing.slice(0, MOST).map((changes) => ({ changes }))];
  return { ...exactFirst(allFailing, rule, values, profile), passing: allPassing, verified: true };
}

/** The providers' perturbations for `rule`, each kept only when the rule judges it on the side claimed. */
function fromProviders(profile: Profile, options: BuildOptions, values: VmcsValues, rule: EntryRule, judge: (p: Perturbation) => string): { failing: Perturbation[]; passing: Perturbation[] } {
  const group = rule.id.slice(0, rule.id.indexOf('.'));
  const context: ProviderContext = { id: rule.id, profile, options, values, judge: judge as ProviderContext['judge'] };
  const failing: Perturbation[] = [];
  const passing: Perturbation[] = [];
  for (const table of PROVIDER_TABLES) {
    for (const provider of [table[rule.id], table[group]]) {
      if (provider === undefined) continue;
      // A check that can only may-fail (the profile does not say) is failed by what the engine
      // does: certain failures first, then those the SDM lets the processor fail.
      const judged = (provider.failing?.(context) ?? []).map((p) => ({ p, kind: judge(p) }));
      failing.push(...judged.filter((j) => j.kind === 'fail').map((j) => j.p), ...judged.filter((j) => j.kind === 'may-fail').map((j) => j.p));
      passing.push(...(provider.passing?.(context) ?? []).filter((p) => judge(p) === 'pass'));
    }
  }
  return { failing, passing };
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
    search: for (const [i, a] of singles.entries()) {
      for (const b of singles.slice(i + 1)) {
        // Two flips in one field are one change (an event made valid and given a type).
        const pair = a.field === b.field ? [{ field: a.field, value: a.value ^ b.value ^ (values.get(a.field) as bigint) }] : [a, b];
        if (judge(pair) !== 'not-applicable') gates.push(pair);
        if (gates.length >= 8) break search;
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

/** True when `p` makes no modelled rule other than `target` fail (only rules reading a changed field, or memory, can). */
function failsNoOther(p: Perturbation, target: EntryRule, values: VmcsValues, profile: Profile): boolean {
  const view = viewWith(values, p.changes);
  const env = builtEnvironment(profile, p.before);
  const affected = p.before !== undefined && p.before.length > 0 ? MODELLED : [...new Set(p.changes.flatMap((c) => [...readersOf(c.field)]))];
  return affected.every((rule) => rule.id === target.id || evaluate(rule, view, env).kind !== 'fail');
}

/** `failing` with the perturbations that fail no other modelled rule first, and how many those are. */
function exactFirst(failing: Perturbation[], target: EntryRule, values: VmcsValues, profile: Profile): { failing: Perturbation[]; exact: number } {
  const marked = failing.map((p) => ({ p, exact: failsNoOther(p, target, values, profile) }));
  const exact = marked.filter((m) => m.exact);
  return { failing: [...exact, ...marked.filter((m) => !m.exact)].map((m) => m.p), exact: exact.length };
}
