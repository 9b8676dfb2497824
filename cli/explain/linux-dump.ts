/**
 * Reads the VMCS dumps that KVM (`dump_vmcs`, arch/x86/kvm/vmx/vmx.c, printed on a failed VM entry
 * when `kvm_intel.dump_invalid_vmcs=1`) and Xen (`vmcs_dump_vcpu`, xen/arch/x86/hvm/vmx/vmcs.c,
 * printed on a failed VM entry and by the 'v' debug key) write to their logs. Both print three
 * sections, "*** Guest State ***", "*** Host State ***" and "*** Control State ***", with nearly
 * the same lines; they differ in the segment-register lines and in a few extras. Older KVM
 * versions print the control lines in Xen's order; both orders are read.
 *
 * Only values that are the VMCS field's own are recorded. KVM's "EFER= ... (effective)" is KVM's
 * idea of the guest's EFER, not the field, and is noted instead; Xen's parenthesized RSP, RIP and
 * RFLAGS are its own register copies and are skipped.
 */
import type { FieldName } from '../../spec/fields.ts';
import { stripLogPrefix } from './log-prefix.ts';
import type { DumpFormat, VmcsDump } from './vmcs-dump.ts';
import { DumpParseError, emptyDump, setDumpField } from './vmcs-dump.ts';

type Section = 'preamble' | 'guest' | 'host' | 'control';

/** A hexadecimal number with or without 0x. */
const X = '(?:0x)?([0-9a-fA-F]+)';

interface LineRule {
  section: Section;
  pattern: RegExp;
  /** The field each capture group holds, in order; `null` skips a group. */
  fields: readonly (FieldName | null)[];
}

const rule = (section: Section, pattern: string, ...fields: (FieldName | null)[]): LineRule => ({
  section,
  pattern: new RegExp(`^\\s*${pattern}`),
  fields,
});

const SEGMENTS = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'] as const;

function segmentFields(name: string): FieldName[] {
  return ['SELECTOR', 'ACCESS_RIGHTS', 'LIMIT', 'BASE'].map((part) => `GUEST_${name}_${part}` as FieldName);
}

/** The lines both hypervisors print, section by section, with the fields they hold. */
const RULES: readonly LineRule[] = [
  rule('guest', `CR0: actual=${X}, shadow=${X}, gh_mask=${X}`, 'GUEST_CR0', 'CR0_READ_SHADOW', 'CR0_GUEST_HOST_MASK'),
  rule('guest', `CR4: actual=${X}, shadow=${X}, gh_mask=${X}`, 'GUEST_CR4', 'CR4_READ_SHADOW', 'CR4_GUEST_HOST_MASK'),
  rule('guest', `CR3 = ${X}`, 'GUEST_CR3'),
  rule('guest', `PDPT[RE]0 = ${X}\\s+PDPT[RE]1 = ${X}`, 'GUEST_PDPTE0', 'GUEST_PDPTE1'),
  rule('guest', `PDPT[RE]2 = ${X}\\s+PDPT[RE]3 = ${X}`, 'GUEST_PDPTE2', 'GUEST_PDPTE3'),
  rule('guest', `RSP = ${X}(?: \\(${X}\\))?\\s+RIP = ${X}`, 'GUEST_RSP', null, 'GUEST_RIP'),
  rule('guest', `RFLAGS=${X}(?: \\(${X}\\))?\\s+DR7 = ${X}`, 'GUEST_RFLAGS', null, 'GUEST_DR7'),
  rule('guest', `Sysenter RSP=${X} CS:RIP=${X}:${X}`, 'GUEST_IA32_SYSENTER_ESP', 'GUEST_IA32_SYSENTER_CS', 'GUEST_IA32_SYSENTER_EIP'),
  // KVM: "CS:   sel=0x0010, attr=0x0a09b, limit=0xffffffff, base=0x0000000000000000"
  ...SEGMENTS.map((s) => rule('guest', `${s}:\\s+sel=${X}, attr=${X}, limit=${X}, base=${X}`, ...segmentFields(s))),
  // Xen: "  CS: 0010 0a09b ffffffff 0000000000000000"
  ...SEGMENTS.map((s) => rule('guest', `${s}: ([0-9a-fA-F]{4}) ([0-9a-fA-F]{5}) ([0-9a-fA-F]{8}) ([0-9a-fA-F]{16})\\s*$`, ...segmentFields(s))),
  // KVM: "GDTR:                           limit=0x000000ff, base=0x..."; Xen: "GDTR:            000000ff 0000..."
  ...['GDTR', 'IDTR'].map((t) => rule('guest', `${t}:\\s+limit=${X}, base=${X}`, `GUEST_${t}_LIMIT` as FieldName, `GUEST_${t}_BASE` as FieldName)),
  ...['GDTR', 'IDTR'].map((t) => rule('guest', `${t}:\\s+([0-9a-fA-F]{8}) ([0-9a-fA-F]{16})\\s*$`, `GUEST_${t}_LIMIT` as FieldName, `GUEST_${t}_BASE` as FieldName)),
  rule('guest', `EFER\\(VMCS\\) = ${X}\\s+PAT = ${X}`, 'GUEST_IA32_EFER', 'GUEST_IA32_PAT'),
  rule('guest', `EFER\\(MSR LL\\) = ${X}\\s+PAT = ${X}`, null, 'GUEST_IA32_PAT'),
  rule('guest', `EFER\\s*=\\s*${X}\\s*$`, 'GUEST_IA32_EFER'),
  rule('guest', `PAT = ${X}`, 'GUEST_IA32_PAT'),
  rule('guest', `PreemptionTimer = ${X}\\s+SM Base = ${X}`, 'VMX_PREEMPTION_TIMER_VALUE', 'GUEST_SMBASE'),
  rule('guest', `DebugCtl = ${X}\\s+DebugExceptions = ${X}`, 'GUEST_IA32_DEBUGCTL', 'GUEST_PENDING_DEBUG_EXCEPTIONS'),
  rule('guest', `PerfGlobCtl = ${X}\\s+BndCfgS = ${X}`, 'GUEST_IA32_PERF_GLOBAL_CTRL', 'GUEST_IA32_BNDCFGS'),
  rule('guest', `PerfGlobCtl = ${X}`, 'GUEST_IA32_PERF_GLOBAL_CTRL'),
  rule('guest', `BndCfgS = ${X}`, 'GUEST_IA32_BNDCFGS'),
  rule('guest', `Interruptibility = ${X}\\s+ActivityState = ${X}`, 'GUEST_INTERRUPTIBILITY_STATE', 'GUEST_ACTIVITY_STATE'),
  rule('guest', `InterruptStatus = ${X}`, 'GUEST_INTERRUPT_STATUS'),

  rule('host', `RIP = ${X}(?: \\([^)]*\\))?\\s+RSP = ${X}`, 'HOST_RIP', 'HOST_RSP'),
  rule(
    'host',
    `CS=${X} SS=${X} DS=${X} ES=${X} FS=${X} GS=${X} TR=${X}`,
    'HOST_CS_SELECTOR', 'HOST_SS_SELECTOR', 'HOST_DS_SELECTOR', 'HOST_ES_SELECTOR', 'HOST_FS_SELECTOR', 'HOST_GS_SELECTOR', 'HOST_TR_SELECTOR',
  ),
  rule('host', `FSBase=${X} GSBase=${X} TRBase=${X}`, 'HOST_FS_BASE', 'HOST_GS_BASE', 'HOST_TR_BASE'),
  rule('host', `GDTBase=${X} IDTBase=${X}`, 'HOST_GDTR_BASE', 'HOST_IDTR_BASE'),
  rule('host', `CR0=${X} CR3=${X} CR4=${X}`, 'HOST_CR0', 'HOST_CR3', 'HOST_CR4'),
  rule('host', `Sysenter RSP=${X} CS:RIP=${X}:${X}`, 'HOST_IA32_SYSENTER_ESP', 'HOST_IA32_SYSENTER_CS', 'HOST_IA32_SYSENTER_EIP'),
  rule('host', `EFER\\s*=\\s*${X}\\s+PAT = ${X}`, 'HOST_IA32_EFER', 'HOST_IA32_PAT'),
  rule('host', `EFER\\s*=\\s*${X}`, 'HOST_IA32_EFER'),
  rule('host', `PAT = ${X}`, 'HOST_IA32_PAT'),
  rule('host', `PerfGlobCtl = ${X}`, 'HOST_IA32_PERF_GLOBAL_CTRL'),

  rule('control', `VMEntry: intr_info=${X} errcode=${X} ilen=${X}`, 'VM_ENTRY_INTERRUPTION_INFORMATION', 'VM_ENTRY_EXCEPTION_ERROR_CODE', 'VM_ENTRY_INSTRUCTION_LENGTH'),
  rule('control', `VMExit: intr_info=${X} errcode=${X} ilen=${X}`, 'VM_EXIT_INTERRUPTION_INFORMATION', 'VM_EXIT_INTERRUPTION_ERROR_CODE', 'VM_EXIT_INSTRUCTION_LENGTH'),
  rule('control', `reason=${X} qualification=${X}`, 'EXIT_REASON', 'EXIT_QUALIFICATION'),
  rule('control', `IDTVectoring: info=${X} errcode=${X}`, 'IDT_VECTORING_INFORMATION', 'IDT_VECTORING_ERROR_CODE'),
  rule('control', `TSC Offset = ${X}\\s+TSC Multiplier = ${X}`, 'TSC_OFFSET', 'TSC_MULTIPLIER'),
  rule('control', `TSC Offset = ${X}`, 'TSC_OFFSET'),
  rule('control', `TSC Multiplier = ${X}`, 'TSC_MULTIPLIER'),
  rule('control', `TPR Threshold = ${X}\\s+PostedIntrVec = ${X}`, 'TPR_THRESHOLD', 'POSTED_INTERRUPT_NOTIFICATION_VECTOR'),
  rule('control', `(?:SVI\\|RVI = [0-9a-fA-F]+\\|[0-9a-fA-F]+\\s+)?TPR Threshold = ${X}`, 'TPR_THRESHOLD'),
  rule('control', `APIC-access addr = ${X}\\s+virt-APIC addr = ${X}`, 'APIC_ACCESS_ADDRESS', 'VIRTUAL_APIC_ADDRESS'),
  rule('control', `virt-APIC addr = ${X}`, 'VIRTUAL_APIC_ADDRESS'),
  rule('control', `PostedIntrVec = ${X}`, 'POSTED_INTERRUPT_NOTIFICATION_VECTOR'),
  rule('control', `EPT pointer = ${X}\\s+EPTP index = ${X}`, 'EPT_POINTER', 'EPTP_INDEX'),
  rule('control', `EPT pointer = ${X}`, 'EPT_POINTER'),
  rule('control', `CR3 target0=${X}(?: target1=${X})?`, 'CR3_TARGET_VALUE_0', 'CR3_TARGET_VALUE_1'),
  rule('control', `CR3 target2=${X}(?: target3=${X})?`, 'CR3_TARGET_VALUE_2', 'CR3_TARGET_VALUE_3'),
  rule('control', `PLE Gap=${X} Window=${X}`, 'PLE_GAP', 'PLE_WINDOW'),
  rule('control', `Virtual processor ID = ${X}\\s+VMfunc controls = ${X}`, 'VPID', 'VM_FUNCTION_CONTROLS'),
  rule('control', `Virtual processor ID = ${X}`, 'VPID'),
];

/** Control-state lines made of `Name=value` pairs, in either hypervisor's order. */
const CONTROL_PAIRS: Readonly<Record<string, FieldName>> = {
  PinBased: 'PIN_BASED_CONTROLS',
  CPUBased: 'PRIMARY_PROCESSOR_BASED_CONTROLS',
  SecondaryExec: 'SECONDARY_PROCESSOR_BASED_CONTROLS',
  TertiaryExec: 'TERTIARY_PROCESSOR_BASED_CONTROLS',
  EntryControls: 'VM_ENTRY_CONTROLS',
  ExitControls: 'PRIMARY_VM_EXIT_CONTROLS',
  ExceptionBitmap: 'EXCEPTION_BITMAP',
  PFECmask: 'PAGE_FAULT_ERROR_CODE_MASK',
  PFECmatch: 'PAGE_FAULT_ERROR_CODE_MATCH',
};

/** Lines printed around the fields that carry none. */
const IGNORED: readonly RegExp[] = [
  /^\s*$/,
  /^VMCS \S+, last attempted VM-entry on CPU/,
  /^\s*sel\s+attr\s+limit\s+base\s*$/,
  /^\*+ VMCS Areas? \*+$/,
  /^\*+$/,
  /^>>> Domain \d+ <<<$/,
  /^\s*VCPU \d+$/,
  /^\S+ vmentry failure \(reason 0x[0-9a-f]+\)/i,
  /^\s*Invalid guest state/i,
];

/** Section headers. */
const SECTIONS: ReadonlyArray<[RegExp, Section]> = [
  [/^\*\*\* Guest State \*\*\*$/, 'guest'],
  [/^\*\*\* Host State \*\*\*$/, 'host'],
  [/^\*\*\* Control State \*\*\*$/, 'control'],
];

/**
 * Reads a KVM or Xen VMCS dump. Lines the reader does not know inside a dump section are errors
 * naming the line (a silently skipped line could hide a field); text before the first section
 * (other log lines) is skipped.
 */
export function readLinuxDump(text: string, format: Extract<DumpFormat, 'kvm' | 'xen'>): VmcsDump {
  const dump = emptyDump(format);
  let section: Section = 'preamble';
  let msrList: 'guest-autoload' | 'other' | undefined;
  const lines = joinWrappedLines(text.split('\n').map(stripLogPrefix));
  for (const { text: line, number } of lines) {
    const header = SECTIONS.find(([pattern]) => pattern.test(line.trim()));
    if (header !== undefined) {
      section = header[1];
      msrList = undefined;
      continue;
    }
    if (section === 'preamble' || IGNORED.some((pattern) => pattern.test(line))) continue;
    const list = /^MSR (.+):$/.exec(line.trim());
    if (list !== null) {
      msrList = list[1] === 'guest autoload' ? 'guest-autoload' : 'other';
      if (msrList === 'guest-autoload') dump.msrLoadArea = [];
      continue;
    }
    const entry = /^\s*(\d+): msr=(?:0x)?([0-9a-fA-F]+) value=(?:0x)?([0-9a-fA-F]+)/.exec(line);
    if (entry !== null && msrList !== undefined) {
      if (msrList === 'guest-autoload') {
        dump.msrLoadArea?.push({ position: Number(entry[1]), msr: BigInt(`0x${entry[2]}`), value: BigInt(`0x${entry[3]}`) });
      }
      continue;
    }
    msrList = undefined;
    if (readKvmEfer(dump, line, number, section)) continue;
    if (section === 'control' && readControlPairs(dump, line, number)) continue;
    const matched = RULES.find((each) => each.section === section && each.pattern.test(line));
    if (matched === undefined) {
      throw new DumpParseError(number, `not a line of a ${format === 'kvm' ? 'KVM' : 'Xen'} VMCS dump's ${section} section: ${JSON.stringify(line.trim().slice(0, 120))}`);
    }
    const groups = matched.pattern.exec(line)?.slice(1) ?? [];
    matched.fields.forEach((field, index) => {
      const value = groups[index];
      if (field !== null && value !== undefined) setDumpField(dump, field, BigInt(`0x${value}`), number);
    });
  }
  if (section === 'preamble') {
    throw new DumpParseError(undefined, `no "*** Guest State ***", "*** Host State ***" or "*** Control State ***" section: not a ${format === 'kvm' ? 'KVM' : 'Xen'} VMCS dump`);
  }
  if (dump.msrLoadArea !== undefined) {
    dump.notes.push(
      `the VM-entry MSR-load area is taken from the hypervisor's own list ("MSR guest autoload", ${dump.msrLoadArea.length} entries); the dump does not give the VM-entry MSR-load count or address`,
    );
  }
  return dump;
}

/** KVM prints "EFER= 0x... (effective)" or "(autoload)" when the value is not the VMCS field. */
function readKvmEfer(dump: VmcsDump, line: string, number: number, section: Section): boolean {
  const match = /^\s*EFER\s*=\s*(?:0x)?([0-9a-fA-F]+)\s+\((effective|autoload)\)\s*$/.exec(line);
  if (match === null || section !== 'guest') return false;
  dump.notes.push(
    `line ${number}: the guest EFER shown (0x${match[1]}, ${match[2]}) is KVM's value, not the VMCS's guest IA32_EFER field ("load IA32_EFER" is 0), so the field is unknown`,
  );
  return true;
}

/** A line of `Name=value` pairs from {@link CONTROL_PAIRS}; false when the line is not one. */
function readControlPairs(dump: VmcsDump, line: string, number: number): boolean {
  const pairs = line.trim().split(/\s+/).map((token) => /^([A-Za-z]+)=(?:0x)?([0-9a-fA-F]+)$/.exec(token));
  if (pairs.length === 0 || pairs.some((pair) => pair === null || CONTROL_PAIRS[pair[1] ?? ''] === undefined)) return false;
  for (const pair of pairs) {
    if (pair === null) continue;
    const field = CONTROL_PAIRS[pair[1] ?? ''];
    if (field !== undefined) setDumpField(dump, field, BigInt(`0x${pair[2]}`), number);
  }
  return true;
}

/**
 * Mail clients and narrow consoles wrap long dump lines ("CR0: actual=..., shadow=...," then
 * "gh_mask=..." on the next line): such continuations are joined to the line before.
 */
function joinWrappedLines(lines: readonly string[]): { text: string; number: number }[] {
  const joined: { text: string; number: number }[] = [];
  lines.forEach((text, index) => {
    const previous = joined.at(-1);
    if (previous !== undefined && /^\s*(?:gh_mask|shadow)=/.test(text) && /,\s*$/.test(previous.text)) {
      previous.text = `${previous.text.trimEnd()} ${text.trim()}`;
      return;
    }
    joined.push({ text, number: index + 1 });
  });
  return joined;
}
