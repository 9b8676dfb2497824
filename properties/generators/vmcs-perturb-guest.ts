/**
 * Perturbations near the boundary of each guest-state VM-entry check (the groups of SDM Vol. 3C,
 * December 2023, §27.3.1 "Checks on the Guest State Area"; 2016: §26.3.1): control registers,
 * segment registers, descriptor tables, RIP/RFLAGS, non-register state, PDPTEs.
 *
 * A perturbation is field changes and, where the check reads memory (the PDPTEs at guest CR3
 * with EPT off, the header of the region the VMCS link pointer references), 32-bit stores made
 * before the VM entry. Candidates, each judged by the model's own rule for the check:
 * 1. one field of the check changed: the one-step values of vmcs-perturb.ts (every bit flipped,
 *    0, all ones, ±1) and the wider boundaries of guest-boundary-values.ts (every segment type,
 *    every DPL and RPL, granularity limits, canonical and 32-bit addresses, each activity state,
 *    each blocking combination, one event of each type);
 * 2. the memory the check reads changed (a reserved bit in a present PDPTE, a wrong revision or
 *    shadow indicator in the link region's header);
 * 3. where 1 and 2 reach no failure or no applicable pass: a gate (an activity state, blocking,
 *    an injected event, RFLAGS.IF/TF, virtual NMIs, a "load ..." control), alone and followed by
 *    one change of step 1.
 * A candidate the rule judges `fail` is a failing perturbation; where none is (the check's
 * failure is one the SDM leaves to the processor), `may-fail` candidates take their place, so
 * the engine decides. Failing perturbations that fail no other modelled rule come first;
 * passing ones fail no modelled rule at all.
 */
import { evaluate } from '../../model/vm-entry/check.ts';
import type { CheckEnvironment, EntryRule, VmcsView } from '../../model/vm-entry/check.ts';
import { controlsInEffect } from '../../model/vm-entry/derived.ts';
import { MODEL_ENTRY_RULES } from '../../model/vm-entry/rules.ts';
import type { EntryCheckGroup } from '../../spec/entry-checks/index.ts';
import { entryCheckById } from '../../spec/entry-checks/index.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import { boundaryValues, ENTERED_VMCS_POINTER, gates, oneStepValues } from './guest-boundary-values.ts';
import type { FieldChange, Perturbation, PerturbationProvider, PreEntryStep, ProviderContext, ProviderTable } from './perturbation-provider.ts';
import { buildMemory, BUILD_ADDRESSES, memoryReader, type BuildOptions, type MemoryWrite, type VmcsValues } from './vmcs-builder.ts';

/** Every rule the model implements (vmcs-perturb.ts has the same list; a provider does not import it). */
const MODELLED: readonly EntryRule[] = Object.values(MODEL_ENTRY_RULES).flatMap((rules) => [...(rules ?? [])]);


/** A view of `values` with `changes` applied, with the controls in effect (as VM entry shows them to its checks). */
function viewWith(values: VmcsValues, changes: readonly FieldChange[]): VmcsView {
  const changed = new Map(changes.map((c) => [c.field, c.value]));
  return controlsInEffect({ get: (field: FieldName) => (changed.has(field) ? changed.get(field) : values.get(field)) });
}

/** The check groups this file perturbs. */
export const GUEST_GROUPS: readonly EntryCheckGroup[] = [
  'guest-control-registers',
  'guest-segment-registers',
  'guest-descriptor-tables',
  'guest-rip-rflags',
  'guest-non-register-state',
  'guest-pdptes',
];

/** True when catalogue check `id` is in one of {@link GUEST_GROUPS}. */
export function isGuestCheck(id: string): boolean {
  const group = entryCheckById(id)?.group;
  return group !== undefined && GUEST_GROUPS.includes(group);
}

/** One perturbation: VMWRITEs, and 32-bit stores to physical memory made before the VM entry. */
export interface GuestPerturbation {
  changes: readonly FieldChange[];
  memory: readonly MemoryWrite[];
}

/** The perturbations of one guest check over one built VMCS. */
export interface GuestCheckPerturbations {
  /** Perturbations the check's rule judges `fail` (or, where none does, `may-fail`); exact ones first. */
  failing: readonly GuestPerturbation[];
  /** Perturbations the rule judges `pass` (the check applies) that fail no modelled rule. */
  passing: readonly GuestPerturbation[];
  /** How many of `failing` (its first ones) fail no other modelled rule. */
  exactFailing: number;
}

/**
 * The check environment of a VMCS built with `options` after `memory` is stored: physical memory
 * reading as zeros but for the header of the current VMCS (the revision identifier), {@link buildMemory}'s stores, then
 * `memory`: a processor in IA-32e mode outside SMM (as sequences start), whose current VMCS is
 * {@link ENTERED_VMCS_POINTER}.
 */
export function guestEnvironment(profile: Profile, options: BuildOptions, memory: readonly MemoryWrite[] = []): CheckEnvironment {
  const vmcsHeader: MemoryWrite = { address: ENTERED_VMCS_POINTER, value: BigInt(profile.revisionId) };
  const readMemory32 = memoryReader([vmcsHeader, ...buildMemory(profile, options), ...memory]);
  return { profile, readMemory32, inSmm: false, ia32eMode: true, currentVmcsPointer: ENTERED_VMCS_POINTER, paePagingBeforeEntry: false };
}

/** Most perturbations kept per side and check. */
const MOST = 48;
/** Most gated candidates found per side before the search stops. */
const GATED_ENOUGH = 8;

const CACHE = new WeakMap<Profile, Map<string, GuestCheckPerturbations>>();

/** The perturbations of guest check `id` over `values` (built for `profile` with `options`); memoized. */
export function guestPerturbationsOf(profile: Profile, options: BuildOptions, values: VmcsValues, id: string): GuestCheckPerturbations {
  let perProfile = CACHE.get(profile);
  if (perProfile === undefined) {
    perProfile = new Map();
    CACHE.set(profile, perProfile);
  }
  const key = `${JSON.stringify(options)} ${id}`;
  let found = perProfile.get(key);
  if (found === undefined) {
    const rule = MODELLED.find((each) => each.id === id);
    found = rule === undefined ? { failing: [], passing: [], exactFailing: 0 } : search(profile, options, values, rule);
    perProfile.set(key, found);
  }
  return found;
}

type Kind = ReturnType<typeof evaluate>['kind'];

function search(profile: Profile, options: BuildOptions, values: VmcsValues, rule: EntryRule): GuestCheckPerturbations {
  const built = guestEnvironment(profile, options);
  const envOf = (p: GuestPerturbation): CheckEnvironment => (p.memory.length === 0 ? built : guestEnvironment(profile, options, p.memory));
  const judge = (p: GuestPerturbation): Kind => evaluate(rule, viewWith(values, p.changes), envOf(p)).kind;
  const exact = (p: GuestPerturbation): boolean => failsNoOther(p, rule, values, envOf(p));
  const singles = [...fieldCandidates(rule, values, profile), ...memoryCandidates(rule, profile, options, values)];
  const kinds = singles.map(judge);
  const firstFailing = exactFirst(singles.filter((_, i) => kinds[i] === 'fail'), exact);
  let failing = firstFailing.list;
  let exactFailing = firstFailing.exact;
  let passing = firstExact(singles.filter((_, i) => kinds[i] === 'pass'), exact);
  // No single change fails the check alone (a virtual-8086 check reached by setting RFLAGS.VM
  // fails every virtual-8086 check): look behind the gates too, and keep what fails it alone.
  const haveExact = exactFailing > 0;
  if (!haveExact || passing.length === 0) {
    const gated = gatedCandidates(rule, values, profile, judge, exact, { fail: !haveExact, pass: passing.length === 0 });
    if (!haveExact) {
      const found = exactFirst(gated.failing, exact);
      failing = [...found.list.slice(0, found.exact), ...failing, ...found.list.slice(found.exact)].slice(0, MOST);
      exactFailing = Math.min(found.exact, MOST);
    }
    if (passing.length === 0) passing = gated.passing;
    // Where the SDM leaves the failure to the processor: the candidates it may fail, those that fail nothing else first.
    if (failing.length === 0) {
      const mayFail = exactFirst([...singles.filter((_, i) => kinds[i] === 'may-fail'), ...gated.mayFail], exact);
      failing = mayFail.list;
      exactFailing = mayFail.exact;
    }
  }
  return { failing, passing, exactFailing };
}

/**
 * Up to {@link MOST} of `failing`, those that fail no other modelled rule first (in their order),
 * and how many of those there are; stops judging once {@link MOST} such are found.
 */
function exactFirst(failing: readonly GuestPerturbation[], exact: (p: GuestPerturbation) => boolean): { list: GuestPerturbation[]; exact: number } {
  const exactOnes: GuestPerturbation[] = [];
  const others: GuestPerturbation[] = [];
  for (const p of failing) {
    if (exactOnes.length >= MOST) break;
    if (exact(p)) exactOnes.push(p);
    else others.push(p);
  }
  return { list: [...exactOnes, ...others].slice(0, MOST), exact: exactOnes.length };
}

/** The first {@link MOST} of `candidates` that fail no other modelled rule. */
function firstExact(candidates: readonly GuestPerturbation[], exact: (p: GuestPerturbation) => boolean): GuestPerturbation[] {
  const found: GuestPerturbation[] = [];
  for (const p of candidates) {
    if (found.length >= MOST) break;
    if (exact(p)) found.push(p);
  }
  return found;
}

/** The fields `rule` reads (its condition's and its own) that the built VMCS has. */
function fieldsOf(rule: EntryRule, values: VmcsValues): FieldName[] {
  return [...new Set([...(rule.when?.fields ?? []), ...rule.fields])].filter((field) => values.has(field));
}

/** Step 1: one field changed to a one-step or a boundary value. */
function fieldCandidates(rule: EntryRule, values: VmcsValues, profile: Profile, from: ReadonlyMap<FieldName, bigint> = values): GuestPerturbation[] {
  return fieldsOf(rule, values).flatMap((field) => {
    const value = from.get(field) as bigint;
    const tried = new Set([...oneStepValues(field, value, profile), ...boundaryValues(field, value, profile)]);
    tried.delete(value);
    return [...tried].map((v): GuestPerturbation => ({ changes: [{ field, value: v }], memory: [] }));
  });
}

/** Step 2: the memory the check reads, changed (PDPTEs at guest CR3; the link region's header). */
function memoryCandidates(rule: EntryRule, profile: Profile, options: BuildOptions, values: VmcsValues): GuestPerturbation[] {
  const pdpte = /^guest-pdptes\.pdpte(\d)-in-memory$/.exec(rule.id);
  if (pdpte !== null) {
    const address = BUILD_ADDRESSES.guestCr3 + 8n * BigInt(pdpte[1] ?? 0);
    const width = profile.data.physicalAddressWidth;
    const low = [0x3n, 0x5n, 0x21n, 0x41n, 0x81n, 0x101n, 0x6n, 0x1e0n, 0x1001n].map((value) => [{ address, value }]);
    const high = width < 64 ? [[{ address, value: 1n }, { address: address + 4n, value: 1n << BigInt(width - 32) }]] : [];
    // A guest with 32-bit paging (CR4.PAE = 0, not IA-32e) made a PAE guest, so that the PDPTEs are read.
    const cr4 = values.get('GUEST_CR4') ?? 0n;
    const pae: FieldChange[] = options.guest === '32-bit' || options.guest === 'v8086' ? [{ field: 'GUEST_CR4', value: cr4 | (1n << 5n) }] : [];
    return [...low, ...high].map((memory) => ({ changes: pae, memory }));
  }
  const revision = BigInt(profile.revisionId);
  if (rule.id === 'guest-non-register-state.link-pointer-aligned') {
    // An unaligned link pointer whose (4-byte-aligned) header holds what the other link checks want.
    const pointer = BUILD_ADDRESSES.linkRegion | 0x800n;
    const header = revision | (options.link === 'shadow' ? 1n << 31n : 0n);
    return [{ changes: [{ field: 'VMCS_LINK_POINTER', value: pointer }], memory: [{ address: pointer, value: header }] }];
  }
  if (rule.id !== 'guest-non-register-state.link-pointer-revision' && rule.id !== 'guest-non-register-state.link-pointer-shadow-indicator') return [];
  const headers = [revision, revision | (1n << 31n), revision ^ 1n, revision + 1n, 0n, (revision ^ 1n) | (1n << 31n)];
  const inUse = values.get('VMCS_LINK_POINTER') === BUILD_ADDRESSES.linkRegion;
  const link: FieldChange[] = inUse ? [] : [{ field: 'VMCS_LINK_POINTER', value: BUILD_ADDRESSES.linkRegion }];
  return headers.map((value) => ({ changes: link, memory: [{ address: BUILD_ADDRESSES.linkRegion, value }] }));
}

/**
 * Step 3: each gate alone, then followed by one change of step 1 (started from the gate's value
 * when it changes the same field), until {@link GATED_ENOUGH} are found on each side wanted
 * (failing ones counted only when they fail no other modelled rule).
 */
function gatedCandidates(
  rule: EntryRule,
  values: VmcsValues,
  profile: Profile,
  judge: (p: GuestPerturbation) => Kind,
  exact: (p: GuestPerturbation) => boolean,
  want: { fail: boolean; pass: boolean },
): { failing: GuestPerturbation[]; passing: GuestPerturbation[]; mayFail: GuestPerturbation[] } {
  const failing: GuestPerturbation[] = [];
  const passing: GuestPerturbation[] = [];
  const mayFailExact: GuestPerturbation[] = [];
  const mayFailOther: GuestPerturbation[] = [];
  let exactFailures = 0;
  // A check the SDM lets the processor fail (may-fail) is reached failing by a candidate that fails nothing else.
  const enough = (): boolean => (!want.fail || exactFailures + mayFailExact.length >= GATED_ENOUGH) && (!want.pass || passing.length >= GATED_ENOUGH);
  const found = () => ({ failing, passing, mayFail: [...mayFailExact, ...mayFailOther] });
  const consider = (p: GuestPerturbation): Kind => {
    const kind = judge(p);
    if (want.fail && kind === 'fail' && (exact(p) ? (exactFailures += 1) : failing.length < MOST)) failing.push(p);
    if (want.fail && kind === 'may-fail') {
      if (exact(p)) mayFailExact.push(p);
      else if (mayFailOther.length < GATED_ENOUGH) mayFailOther.push(p);
    }
    if (want.pass && kind === 'pass' && passing.length < GATED_ENOUGH && exact(p)) passing.push(p);
    return kind;
  };
  // A gate that changes no field the rule reads leaves its judgement of a change as it was
  // without the gate: tried alone only (a check that applies and passes as built, whose every
  // one-field change fails it, is reached passing by such a gate).
  const read = new Set<FieldName>([...(rule.when?.fields ?? []), ...rule.fields, ...(rule.optional ?? [])]);
  const relevant = (gate: readonly FieldChange[]): boolean => gate.some((c) => read.has(c.field) || (ALSO_READ[c.field] ?? []).some((f) => read.has(f)));
  for (const gate of gates(values)) {
    if (consider({ changes: gate, memory: [] }) === 'not-applicable' || !relevant(gate)) continue;
    if (enough()) return found();
    const gated = new Map(values);
    for (const c of gate) gated.set(c.field, c.value);
    for (const single of fieldCandidates(rule, values, profile, gated)) {
      const change = single.changes[0] as FieldChange;
      consider({ changes: [...gate.filter((g) => g.field !== change.field), change], memory: [] });
      if (enough()) return found();
    }
  }
  return found();
}

/** The modelled rules that read each field, in their condition or their body. */
const READERS = new Map<FieldName, EntryRule[]>();
for (const rule of MODELLED) {
  for (const field of new Set([...(rule.when?.fields ?? []), ...rule.fields, ...(rule.optional ?? [])])) READERS.set(field, [...(READERS.get(field) ?? []), rule]);
}

/** Fields whose value decides what other fields read as (model/vm-entry/derived.ts), and the fields that read memory. */
const ALSO_READ: Partial<Record<FieldName, readonly FieldName[]>> = {
  PRIMARY_PROCESSOR_BASED_CONTROLS: ['SECONDARY_PROCESSOR_BASED_CONTROLS', 'TERTIARY_PROCESSOR_BASED_CONTROLS', 'VM_FUNCTION_CONTROLS'],
  SECONDARY_PROCESSOR_BASED_CONTROLS: ['VM_FUNCTION_CONTROLS'],
};
const MEMORY_READERS: readonly FieldName[] = ['VMCS_LINK_POINTER', 'GUEST_CR3'];

/**
 * The modelled rules `p` makes fail (only rules reading what it changed can), memoized per built
 * VMCS: the checks of one field share most candidates, so each is judged once per VMCS.
 */
function failedBy(p: GuestPerturbation, values: VmcsValues, env: CheckEnvironment): readonly string[] {
  let perVmcs = FAILED.get(values);
  if (perVmcs === undefined) {
    perVmcs = new Map();
    FAILED.set(values, perVmcs);
  }
  const key = [...p.changes.map((c) => `${c.field}=${c.value.toString(16)}`), ...p.memory.map((w) => `@${w.address.toString(16)}=${w.value.toString(16)}`)].join(' ');
  let found = perVmcs.get(key);
  if (found === undefined) {
    const view = viewWith(values, p.changes);
    const changed = [...p.changes.map((c) => c.field), ...(p.memory.length > 0 ? MEMORY_READERS : [])];
    const affected = new Set(changed.flatMap((field) => [field, ...(ALSO_READ[field] ?? [])]).flatMap((field) => READERS.get(field) ?? []));
    found = [...affected].filter((rule) => evaluate(rule, view, env).kind === 'fail').map((rule) => rule.id);
    perVmcs.set(key, found);
  }
  return found;
}

const FAILED = new WeakMap<VmcsValues, Map<string, readonly string[]>>();

/** True when `p` makes no modelled rule other than `target` fail. */
function failsNoOther(p: GuestPerturbation, target: EntryRule, values: VmcsValues, env: CheckEnvironment): boolean {
  return failedBy(p, values, env).every((id) => id === target.id);
}

/** The guest checks that read memory: with these, a perturbation stores the built memory again before its own. */
const READS_MEMORY = /^guest-pdptes\.pdpte\d-in-memory$|^guest-non-register-state\.link-pointer-(aligned|revision|shadow-indicator)$/;

/** `p` as a provider's perturbation: its VMWRITEs, and its stores (after the built memory) before the VMLAUNCH. */
function asPerturbation(p: GuestPerturbation, id: string, profile: Profile, options: BuildOptions): Perturbation {
  if (p.memory.length === 0 && !READS_MEMORY.test(id)) return { changes: p.changes };
  const stores = [...buildMemory(profile, options), ...p.memory];
  return stores.length === 0 ? { changes: p.changes } : { changes: p.changes, before: stores.map((w): PreEntryStep => ({ kind: 'write-memory', ...w })) };
}

/**
 * The perturbations of guest check `id` as VMWRITEs and stores before the VMLAUNCH: the failing
 * ones (the first `exact` of them fail no other modelled rule) and the passing ones.
 */
export function guestCheckPerturbations(profile: Profile, options: BuildOptions, values: VmcsValues, id: string): { failing: Perturbation[]; passing: Perturbation[]; exact: number } {
  const found = guestPerturbationsOf(profile, options, values, id);
  const as = (list: readonly GuestPerturbation[]): Perturbation[] => list.map((p) => asPerturbation(p, id, profile, options));
  return { failing: as(found.failing), passing: as(found.passing), exact: found.exactFailing };
}

function provide(context: ProviderContext, side: 'failing' | 'passing'): Perturbation[] {
  const found = guestPerturbationsOf(context.profile, context.options, context.values, context.id);
  return found[side].map((p) => asPerturbation(p, context.id, context.profile, context.options));
}

/**
 * The providers of the guest-state groups (perturbation-provider.ts), one per group: the
 * perturbations {@link guestPerturbationsOf} finds.
 */
export const GUEST_PERTURBATIONS: ProviderTable = Object.fromEntries(
  GUEST_GROUPS.map((group): [string, PerturbationProvider] => [group, { failing: (c) => provide(c, 'failing'), passing: (c) => provide(c, 'passing') }]),
);
