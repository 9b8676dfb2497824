/**
 * The last phase of VM entry: loading MSRs from the VM-entry MSR-load area (SDM Vol. 3C, December
 * 2023, §27.4 "Loading MSRs"; 2016: §26.4). The area holds "VM-entry MSR-load count" entries of 16
 * bytes from the "VM-entry MSR-load address": the MSR index in bits 31:0, reserved bits 63:32, the
 * value in bits 127:64. The processor takes the entries in order; the first one that fails a check
 * ends the VM entry with exit reason 34 ("VM-entry failure due to MSR loading", bit 31 set) and
 * the entry's 1-based index as exit qualification (§27.8 "VM-Entry Failures During or After
 * Loading Guest State"). So unlike the other phases, order matters here, and a check is judged per
 * entry: a {@link MsrEntryRule}.
 *
 * Several checks depend on facts the profile does not record (which MSRs a processor refuses for
 * model-specific reasons, which values WRMSR accepts): such an entry may fail or load, so the
 * phase allows failing there and going on (a set of qualifications). A count above the
 * recommended maximum, 512 × (IA32_VMX_MISC[27:25] + 1), is undefined: "undefined processor
 * behavior may result (including a machine check during the VMX transition)" (Vol. 3D, Appendix
 * A.6 "Miscellaneous Data").
 *
 * For the rule registry and `explain`, which judge a VMCS rather than an entry, {@link asEntryRule}
 * turns a per-entry rule into an ordinary check over the whole area.
 */
import { VMX_MISC } from '../../spec/capability-msrs.ts';
import { check, mayFail, unknown } from './check.ts';
import type { CheckEnvironment, EntryRule, Holds, VmcsView } from './check.ts';

/** Bytes of one entry of the VM-entry MSR-load area. */
const ENTRY_BYTES = 16n;

/** One entry of the VM-entry MSR-load area. */
export interface MsrLoadEntry {
  /** The entry's 1-based position in the area: the exit qualification if it fails. */
  readonly index: number;
  /** Bits 31:0: the MSR to load. */
  readonly msr: bigint;
  /** Bits 63:32: reserved. */
  readonly reserved: bigint;
  /** Bits 127:64: the value to load. */
  readonly data: bigint;
}

/** One check of §27.4 on one entry, named by its catalogue id (spec/entry-checks/msr-load.ts). */
export interface MsrEntryRule {
  readonly id: string;
  /** The check's condition on `entry`; false means the VM entry fails at this entry. */
  holds(entry: MsrLoadEntry, env: CheckEnvironment): Holds;
}

/** Declares a per-entry check. */
export function msrEntryCheck(id: string, holds: (entry: MsrLoadEntry, env: CheckEnvironment) => Holds): MsrEntryRule {
  return { id, holds };
}

/** The result of one rule on one entry that did not pass. */
export interface EntryJudgement {
  entry: MsrLoadEntry;
  rule: MsrEntryRule;
  result: 'fail' | 'may-fail';
}

/** What the MSR-load phase allows. */
export type MsrLoadAssessment =
  /** Every entry loads (or the count is 0). */
  | { kind: 'pass' }
  /**
   * An entry fails for certain; `qualifications` (ascending) are the 1-based indices a processor
   * may report: that entry's, and those of earlier entries that may fail.
   */
  | { kind: 'fail'; qualifications: readonly number[]; judgements: readonly EntryJudgement[] }
  /** No entry fails for certain: every entry loads, or the entry of one of `qualifications` fails. */
  | { kind: 'may-fail'; qualifications: readonly number[]; judgements: readonly EntryJudgement[] }
  /** The count, the address or an entry's memory is unknown; `missing` names it. */
  | { kind: 'undecided'; missing: readonly string[] }
  /** The count is above the recommended maximum: the SDM leaves the outcome undefined. */
  | { kind: 'undefined'; count: bigint; recommendedMaximum: bigint };

/** 512 × (IA32_VMX_MISC[27:25] + 1): the most MSRs an MSR list should hold (Appendix A.6). */
export function recommendedMaximum(env: CheckEnvironment): bigint {
  const n = (BigInt(env.profile.data.msrs.IA32_VMX_MISC) >> BigInt(VMX_MISC.MSR_LIST_LIMIT)) & 7n;
  return 512n * (n + 1n);
}

/** Entry `index` (1-based) of the area at `address`, or what is unknown about it. */
export function readEntry(address: bigint, index: number, env: CheckEnvironment): MsrLoadEntry | string {
  const at = address + BigInt(index - 1) * ENTRY_BYTES;
  const words: bigint[] = [];
  for (const offset of [0n, 4n, 8n, 12n]) {
    const word = env.readMemory32(at + offset);
    if (word === undefined) return `memory of VM-entry MSR-load entry ${index} at 0x${at.toString(16)}`;
    words.push(BigInt(word >>> 0));
  }
  const [msr, reserved, dataLow, dataHigh] = words as [bigint, bigint, bigint, bigint];
  return { index, msr, reserved, data: (dataHigh << 32n) | dataLow };
}

/** How `entry` fares under `rules`: the first certain failure wins over may-fail, which wins over unknown. */
function judgeEntry(entry: MsrLoadEntry, rules: readonly MsrEntryRule[], env: CheckEnvironment): { judgements: EntryJudgement[]; unknown?: string } {
  const judgements: EntryJudgement[] = [];
  let missing: string | undefined;
  for (const rule of rules) {
    const truth = rule.holds(entry, env);
    if (truth === false) judgements.push({ entry, rule, result: 'fail' });
    else if (truth !== true && truth.kind === 'may-fail') judgements.push({ entry, rule, result: 'may-fail' });
    else if (truth !== true) missing ??= truth.missing;
  }
  return missing === undefined ? { judgements } : { judgements, unknown: missing };
}

/** The MSR-load phase over `view` and `env`, each entry judged by `rules` in order. */
export function judgeMsrLoad(view: VmcsView, env: CheckEnvironment, rules: readonly MsrEntryRule[]): MsrLoadAssessment {
  const count = view.get('VM_ENTRY_MSR_LOAD_COUNT');
  const address = view.get('VM_ENTRY_MSR_LOAD_ADDRESS');
  if (count === undefined) return { kind: 'undecided', missing: ['VM_ENTRY_MSR_LOAD_COUNT'] };
  if (count === 0n) return { kind: 'pass' };
  if (address === undefined) return { kind: 'undecided', missing: ['VM_ENTRY_MSR_LOAD_ADDRESS'] };
  const limit = recommendedMaximum(env);
  if (count > limit) return { kind: 'undefined', count, recommendedMaximum: limit };
  const judgements: EntryJudgement[] = [];
  const qualifications: number[] = [];
  for (let index = 1; index <= Number(count); index += 1) {
    const entry = readEntry(address, index, env);
    if (typeof entry === 'string') return { kind: 'undecided', missing: [entry] };
    const judged = judgeEntry(entry, rules, env);
    judgements.push(...judged.judgements);
    if (judged.judgements.some((each) => each.result === 'fail')) {
      return { kind: 'fail', qualifications: [...qualifications, index], judgements };
    }
    if (judged.unknown !== undefined) return { kind: 'undecided', missing: [judged.unknown] };
    if (judged.judgements.length > 0) qualifications.push(index);
  }
  return qualifications.length > 0 ? { kind: 'may-fail', qualifications, judgements } : { kind: 'pass' };
}

/**
 * `rule` as a check over the whole area, for the registry and `explain`: it fails when some entry
 * fails it, may fail when some entry may, and is undecided when the area's memory is unknown.
 * (Which entry the processor reports is {@link judgeMsrLoad}'s business.)
 */
export function asEntryRule(rule: MsrEntryRule): EntryRule {
  return check(rule.id, {
    when: { fields: ['VM_ENTRY_MSR_LOAD_COUNT'], test: (f) => f.VM_ENTRY_MSR_LOAD_COUNT !== 0n },
    fields: ['VM_ENTRY_MSR_LOAD_COUNT', 'VM_ENTRY_MSR_LOAD_ADDRESS'],
    holds: (f, env) => {
      const limit = recommendedMaximum(env);
      if (f.VM_ENTRY_MSR_LOAD_COUNT > limit) return mayFail(`nothing: a count above ${limit} MSRs makes the behaviour undefined`);
      let truth: Holds = true;
      for (let index = 1; index <= Number(f.VM_ENTRY_MSR_LOAD_COUNT); index += 1) {
        const entry = readEntry(f.VM_ENTRY_MSR_LOAD_ADDRESS, index, env);
        if (typeof entry === 'string') return unknown(entry);
        const holds = rule.holds(entry, env);
        if (holds === false) return false;
        // Unknown outweighs may-fail, which outweighs true.
        if (holds !== true && (truth === true || holds.kind === 'unknown')) truth = holds;
      }
      return truth;
    },
  });
}
