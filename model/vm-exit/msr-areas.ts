/**
 * The VM-exit MSR areas in physical memory: storing guest MSRs into the VM-exit MSR-store area
 * (SDM Vol. 3C, December 2023, §28.4 "Saving MSRs") and loading host MSRs from the VM-exit
 * MSR-load area (§28.6 "Loading MSRs"). Each area is `count` 16-byte entries at `address`: bits
 * 31:0 the MSR index, bits 63:32 reserved (must be 0), bits 127:64 the value
 * (§25.7.2 "VM-Exit Controls for MSRs").
 *
 * Storing (§28.4), entry by entry in order, after the guest state is saved: the MSR's value as
 * RDMSR would read it goes to bytes 15:8. An entry fails — a VMX abort with indicator 1 — when
 * its index is in 800H-8FFH (x2APIC registers), names an MSR readable only in SMM (IA32_SMBASE,
 * 9EH; the model has no SMM), sets a reserved bit, names an MSR the processor refuses to store for
 * model-specific reasons, or would make RDMSR #GP. The model's memory holds known 32-bit words
 * only, so it cannot hold a value it does not know: an entry naming an MSR whose value the model
 * does not know (`CpuState.msrs`; IA32_EFER, IA32_FEATURE_CONTROL and IA32_SMM_MONITOR_CTL are
 * known) — which may also be one the processor refuses or lacks — leaves the processor untracked
 * (`vm-exit.msr-store-not-followed`), as do a count or address never written and a count above
 * the recommended maximum (Vol. 3D Appendix A.6: undefined behaviour).
 *
 * Loading (§28.6), entry by entry in order, after host state is loaded: each MSR is written as
 * WRMSR would. The checks are those of the VM-entry MSR-load area (model/vm-entry/msr-load.ts and
 * its catalogue: not IA32_FS_BASE or IA32_GS_BASE, not 800H-8FFH, not an SMM-only MSR, bits
 * 63:32 clear, WRMSR at CPL 0 would not #GP, the processor does not refuse it for model-specific
 * reasons); a failure is a VMX abort with indicator 4. A check that may fail (the profile does not
 * say which MSRs a processor refuses or has) makes the outcome open — the abort or the host
 * running — which the exit's observation cannot tell apart, so the processor is left untracked
 * (`host-load.exit-msr-load-may-abort`).
 */
import { sdm } from '../../spec/citation.ts';
import { FIELD } from '../../spec/fields.ts';
import type { FieldName } from '../../spec/fields.ts';
import { MSR as CAPABILITY_MSR } from '../../spec/capability-msrs.ts';
import { readWord, writeWord } from '../memory.ts';
import { rule } from '../rule.ts';
import type { CpuState, ModelState, VmcsContent } from '../state.ts';
import { cpuOf, withCpu } from '../state.ts';
import { knownFieldValue } from '../vmcs-fields.ts';
import type { VmcsView } from '../vm-entry/check.ts';
import { MSR_LOAD_ENTRY_RULES } from '../vm-entry/checks/msr-load.ts';
import { judgeMsrLoad, readEntry, recommendedMaximum } from '../vm-entry/msr-load.ts';
import { environmentOf } from '../vm-entry/view.ts';
import { ABORT_INDICATOR, VMX_ABORT_RULES, vmxAbort } from './abort.ts';
import { IA32_EFER } from '../../spec/registers.ts';
import { MSR } from './msr-indices.ts';

const ENTRY_BYTES = 16n;
/** Bits 31:8 of an x2APIC MSR index: 8. */
const X2APIC_RANGE = 8;
/** IA32_SMBASE (9EH): readable only in SMM. */
const IA32_SMBASE = 0x9e;
/** IA32_SMM_MONITOR_CTL (9BH). */
const IA32_SMM_MONITOR_CTL = 0x9b;

/** Where the model stops following the MSR areas. */
export const MSR_AREA_RULES = {
  storeNotFollowed: rule(
    'vm-exit.msr-store-not-followed',
    'VM exit',
    sdm('28.4', 'Saving MSRs'),
    'the VM-exit MSR-store area names an MSR whose value the model does not know (it may also be one the processor refuses to store), or its count or address was never written, or the count exceeds the recommended maximum: the processor is not followed afterwards',
  ),
  loadMayAbort: rule(
    'host-load.exit-msr-load-may-abort',
    'VM exit',
    sdm('28.6', 'Loading MSRs'),
    'an entry of the VM-exit MSR-load area may fail for a reason the profile does not record (an MSR the processor refuses or lacks, a value WRMSR may reject): a VMX abort or the host running; the processor is not followed afterwards',
  ),
  loadNotFollowed: rule(
    'host-load.exit-msr-load-not-followed',
    'VM exit',
    sdm('28.6', 'Loading MSRs'),
    'the VM-exit MSR-load count or address was never written, or the count exceeds the recommended maximum (undefined behaviour): the processor is not followed afterwards',
  ),
} as const;

/** The result of processing an MSR area. */
export type MsrAreaResult =
  | { kind: 'done'; state: ModelState }
  | { kind: 'aborted'; state: ModelState }
  | { kind: 'not-followed'; rule: (typeof MSR_AREA_RULES)[keyof typeof MSR_AREA_RULES] };

/** The value RDMSR of `index` reads on `cpu`, as far as the model knows it. */
export function knownMsr(cpu: CpuState, index: number): bigint | undefined {
  if (index === CAPABILITY_MSR.IA32_FEATURE_CONTROL) return cpu.featureControl;
  if (index === IA32_SMM_MONITOR_CTL) return cpu.smmMonitorCtl;
  const known = cpu.msrs.get(index);
  if (index !== MSR.EFER || known === undefined) return known;
  const modes = (cpu.eferLme === 1 ? IA32_EFER.LME : 0n) | (cpu.eferLma === 1 ? IA32_EFER.LMA : 0n);
  return (known & ~(IA32_EFER.LME | IA32_EFER.LMA)) | modes;
}

/** §28.4: the VM-exit MSR-store area of `content` written with the MSRs of processor `cpu`. */
export function storeMsrs(state: ModelState, cpu: number, content: VmcsContent): MsrAreaResult {
  const count = knownFieldValue(content, FIELD.VM_EXIT_MSR_STORE_COUNT);
  if (count === 0n) return { kind: 'done', state };
  const address = knownFieldValue(content, FIELD.VM_EXIT_MSR_STORE_ADDRESS);
  if (count === undefined || address === undefined || count > recommendedMaximum(environmentOf(state, cpu))) {
    return { kind: 'not-followed', rule: MSR_AREA_RULES.storeNotFollowed };
  }
  const processor = cpuOf(state, cpu);
  let next = state;
  for (let index = 0n; index < count; index++) {
    const at = address + index * ENTRY_BYTES;
    const msr = readWord(state, at) >>> 0;
    const reserved = readWord(state, at + 4n);
    if (reserved !== 0 || msr >>> 8 === X2APIC_RANGE || msr === IA32_SMBASE) {
      return { kind: 'aborted', state: vmxAbort(next, cpu, ABORT_INDICATOR.SAVING_GUEST_MSRS, VMX_ABORT_RULES.savingMsrs) };
    }
    const value = knownMsr(processor, msr);
    if (value === undefined) return { kind: 'not-followed', rule: MSR_AREA_RULES.storeNotFollowed };
    next = writeWord(next, at + 8n, Number(value & 0xffff_ffffn));
    next = writeWord(next, at + 12n, Number(value >> 32n));
  }
  return { kind: 'done', state: next };
}

/** The VM-exit MSR-load area seen as the VM-entry one, so that the §27.4 judgement applies to it. */
function asEntryArea(view: VmcsView): VmcsView {
  const renamed: Partial<Record<FieldName, FieldName>> = {
    VM_ENTRY_MSR_LOAD_COUNT: 'VM_EXIT_MSR_LOAD_COUNT',
    VM_ENTRY_MSR_LOAD_ADDRESS: 'VM_EXIT_MSR_LOAD_ADDRESS',
  };
  return { get: (field: FieldName) => view.get(renamed[field] ?? field) };
}

/** §28.6: the VM-exit MSR-load area of the VMCS seen through `view`, loaded on processor `cpu`. */
export function loadExitMsrs(state: ModelState, cpu: number, view: VmcsView): MsrAreaResult {
  const env = environmentOf(state, cpu);
  const judged = judgeMsrLoad(asEntryArea(view), env, MSR_LOAD_ENTRY_RULES);
  switch (judged.kind) {
    case 'undecided':
    case 'undefined':
      return { kind: 'not-followed', rule: MSR_AREA_RULES.loadNotFollowed };
    case 'fail':
      return { kind: 'aborted', state: vmxAbort(state, cpu, ABORT_INDICATOR.LOADING_HOST_MSRS, VMX_ABORT_RULES.loadingMsrs) };
    case 'may-fail':
      return { kind: 'not-followed', rule: MSR_AREA_RULES.loadMayAbort };
    case 'pass':
      return { kind: 'done', state: loadEntries(state, cpu, view) };
  }
}

/** `state` with every entry of the VM-exit MSR-load area written to the processor's MSRs. */
function loadEntries(state: ModelState, cpu: number, view: VmcsView): ModelState {
  const count = view.get('VM_EXIT_MSR_LOAD_COUNT') ?? 0n;
  const address = view.get('VM_EXIT_MSR_LOAD_ADDRESS') ?? 0n;
  const env = environmentOf(state, cpu);
  const msrs = new Map(cpuOf(state, cpu).msrs);
  for (let index = 1; index <= Number(count); index += 1) {
    const entry = readEntry(address, index, env);
    if (typeof entry !== 'string') msrs.set(Number(entry.msr), entry.data);
  }
  return withCpu(state, cpu, { msrs });
}
