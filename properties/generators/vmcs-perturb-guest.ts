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
    found = rule === undefined ? { failing: [], passing: [] } : search(profile, options, values, rule);
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
  let failing = exactFirst(singles.filter((_, i) => kinds[i] === 'fail'), exact).slice(0, MOST);
  let passing = singles.filter((p, i) => kinds[i] === 'pass' && !unusableCs(p) && exact(p)).slice(0, MOST);
  // No single change fails the check alone (a virtual-8086 check reached by setting RFLAGS.VM
  // fails every virtual-8086 check): look behind the gates too, and keep what fails it alone.
  const exactFailing = failing.length > 0 && exact(failing[0] as GuestPerturbation);
  if (!exactFailing || passing.length === 0) {
    const gated = gatedCandidates(rule, values, profile, judge, exact, { fail: !exactFailing, pass: passing.length === 0 });
    if (!exactFailing) failing = [...exactFirst(gated.failing, exact).filter(exact), ...failing, ...gated.failing.filter((p) => !exact(p))].slice(0, MOST);
    if (passing.length === 0) passing = gated.passing;
    if (failing.length === 0) failing = [...singles.filter((_, i) => kinds[i] === 'may-fail'), ...gated.mayFail];
  }
  return { failing, passing };
}

/** `failing` with the perturbations that fail no other modelled rule first. */
function exactFirst(failing: GuestPerturbation[], exact: (p: GuestPerturbation) => boolean): GuestPerturbation[] {
  const marked = failing.map((p) => ({ p, exact: exact(p) }));
  return [...marked.filter((m) => m.exact), ...marked.filter((m) => !m.exact)].map((m) => m.p);
}

/**
 * True when `p` makes CS unusable. Left out of the passing side for now: after a VM exit from such
 * a guest the model keeps the CS access rights with bits the SDM leaves undefined, and its
 * VMCS view (model/vmcs-fields.ts `knownFieldValue`) reads those bits as 0, so a VMRESUME then
 * fails the CS type check in the model but not in impl (case kept by cov-guest, 2 Dec 2026).
 */
function unusableCs(p: GuestPerturbation): boolean {
  return p.changes.some((c) => c.field === 'GUEST_CS_ACCESS_RIGHTS' && (c.value & (1n << 16n)) !== 0n);
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
  const mayFail: GuestPerturbation[] = [];
  let exactFailures = 0;
  const enough = (): boolean => (!want.fail || exactFailures >= GATED_ENOUGH) && (!want.pass || passing.length >= GATED_ENOUGH);
  const consider = (p: GuestPerturbation): void => {
    const kind = judge(p);
    if (want.fail && kind === 'fail' && (exact(p) ? (exactFailures += 1) : failing.length < MOST)) failing.push(p);
    if (want.fail && kind === 'may-fail' && mayFail.length < GATED_ENOUGH) mayFail.push(p);
    if (want.pass && kind === 'pass' && passing.length < GATED_ENOUGH && !unusableCs(p) && exact(p)) passing.push(p);
  };
  for (const gate of gates(values)) {
    consider({ changes: gate, memory: [] });
    if (judge({ changes: gate, memory: [] }) === 'not-applicable') continue;
    const gated = new Map(values);
    for (const c of gate) gated.set(c.field, c.value);
    for (const single of fieldCandidates(rule, values, profile, gated)) {
      const change = single.changes[0] as FieldChange;
      consider({ changes: [...gate.filter((g) => g.field !== change.field), change], memory: [] });
      if (enough()) return { failing, passing, mayFail };
    }
  }
  return { failing, passing, mayFail };
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

/** True when `p` makes no modelled rule other than `target` fail (only rules reading what it changed can). */
function failsNoOther(p: GuestPerturbation, target: EntryRule, values: VmcsValues, env: CheckEnvironment): boolean {
  const view = viewWith(values, p.changes);
  const changed = [...p.changes.map((c) => c.field), ...(p.memory.length > 0 ? MEMORY_READERS : [])];
  const affected = new Set(changed.flatMap((field) => [field, ...(ALSO_READ[field] ?? [])]).flatMap((field) => READERS.get(field) ?? []));
  return [...affected].every((rule) => rule.id === target.id || evaluate(rule, view, env).kind !== 'fail');
}

/** The guest checks that read memory: with these, a perturbation stores the built memory again before its own. */
const READS_MEMORY = /^guest-pdptes\.pdpte\d-in-memory$|^guest-non-register-state\.link-pointer-(aligned|revision|shadow-indicator)$/;

/** `p` as a provider's perturbation: its VMWRITEs, and its stores (after the built memory) before the VMLAUNCH. */
function asPerturbation(p: GuestPerturbation, id: string, profile: Profile, options: BuildOptions): Perturbation {
  if (p.memory.length === 0 && !READS_MEMORY.test(id)) return { changes: p.changes };
  const stores = [...buildMemory(profile, options), ...p.memory];
  return stores.length === 0 ? { changes: p.changes } : { changes: p.changes, before: stores.map((w): PreEntryStep => ({ kind: 'write-memory', ...w })) };
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
