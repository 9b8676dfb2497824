/**
 * Loading guest state on a successful VM entry (SDM Vol. 3C, December 2023, §27.3.2 "Loading Guest
 * State"), for the state the model tracks per processor (model/state.ts), and what the processor
 * does next.
 *
 * - §27.3.2.1 "Loading Guest Control Registers, Debug Registers, and MSRs": CR0 from the guest CR0
 *   field, except ET (bit 4), bits 15:6, 17, 28:19, NW (29) and CD (30), which VM entry never
 *   modifies; CR4 (and CR3, not tracked) from their fields; IA32_EFER.LMA (and LME) take the
 *   setting of the "IA-32e mode guest" VM-entry control (with "load IA32_EFER" = 1 EFER comes from
 *   its field, whose LMA the checks made equal to that control).
 * - §27.3.2.2 "Loading Guest Segment Registers and Descriptor-Table Registers": CS.L from bit 13
 *   of the CS access rights; the CPL is SS.DPL (bits 6:5 of the SS access rights; §25.4.1 "Guest
 *   Register State": SS.DPL always equals the CPL).
 * - §27.3.2.3 "Loading Guest RIP, RSP, RFLAGS, and SSP": RFLAGS from its field, so RFLAGS.VM
 *   (bit 17) and the arithmetic flags (the `flags` of the `vmentry` observation).
 * - §27.7.1 "Interruptibility State": events are blocked by MOV SS after the entry iff bit 1 of the
 *   interruptibility-state field is 1; the blocking ends after the guest's first instruction
 *   (model/processor-state-ops.ts and step: one instruction). Blocking by STI is not tracked.
 * - The processor is in VMX non-root operation; a VMLAUNCH makes the VMCS launched (§31.3
 *   VMLAUNCH/VMRESUME, Operation: "launch state of VMCS ← launched").
 *
 * The model follows the guest only after a "quiet" entry: one where the guest's first instruction
 * is the processor's next operation. Otherwise the entry still completes (the observation is
 * `vmentry`, with the flags of the guest RFLAGS field), but the processor is left untracked:
 * - the activity state is not active (§27.7.2 "Activity State": the processor waits in HLT,
 *   shutdown or wait-for-SIPI and executes no instruction);
 * - an event is injected (VM-entry interruption-information bit 31; §27.6 "Event Injection":
 *   delivered through the guest IDT, which can change CS, RIP, RFLAGS, or end in a VM exit: the
 *   VM-exits issue models delivery);
 * - pending debug exceptions are not 0 (§27.7.3 "Delivery of Pending Debug Exceptions after VM
 *   Entry"), "interrupt-window exiting" or "NMI-window exiting" is 1 (§27.7.5 "Interrupt-Window
 *   Exiting and Virtual-Interrupt Delivery", §27.7.6 "NMI-Window Exiting": VM exits right after
 *   entry), "monitor trap flag" is 1 (an MTF VM exit follows the first instruction, or comes at
 *   once with injection: §26.5.2 "Monitor Trap Flag", §27.7.8 "Pending MTF VM Exits"), "activate
 *   VMX-preemption timer" is 1 (§27.7.4 "VMX-Preemption Timer": a timer value of 0 exits before
 *   any instruction), "use TPR shadow" is 1 (§27.7.7
 *   "VM Exits Induced by the TPR Threshold"), or "virtual-interrupt delivery" is 1 (§27.7.5: a
 *   virtual interrupt may be delivered at once).
 */
import { sdm } from '../../spec/citation.ts';
import { ENTRY_CONTROL, PIN_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import type { FieldName } from '../../spec/fields.ts';
import { ARITHMETIC_FLAGS_MASK } from '../../spec/observations.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState, VmcsContent } from '../state.ts';
import { cpuOf, withCpu } from '../state.ts';
import type { VmcsView } from './check.ts';

/** CR0 bits VM entry never modifies: ET (4), bits 15:6, 17, 28:19, NW (29), CD (30). */
export const CR0_KEPT_ON_ENTRY = (1n << 4n) | (0x3ffn << 6n) | (1n << 17n) | (0x3ffn << 19n) | (1n << 29n) | (1n << 30n);
const ALL64 = 0xffff_ffff_ffff_ffffn;
/** CS access rights bit 13: L. */
const ACCESS_RIGHTS_L = 13n;
/** SS access rights bits 6:5: DPL. */
const ACCESS_RIGHTS_DPL = 5n;
/** RFLAGS bit 17: VM. */
const RFLAGS_VM = 17n;
/** Interruptibility state bit 1: blocking by MOV SS. */
const BLOCKING_BY_MOV_SS = 1n;
/** Activity state 0: active. */
const ACTIVE = 0n;
/** VM-entry interruption-information bit 31: valid. */
const INJECTION_VALID = 31n;

/** The fields guest-state loading reads (the secondary controls only when activated). */
export const GUEST_LOAD_FIELDS: readonly FieldName[] = [
  'GUEST_CR0',
  'GUEST_CR4',
  'VM_ENTRY_CONTROLS',
  'GUEST_CS_ACCESS_RIGHTS',
  'GUEST_SS_ACCESS_RIGHTS',
  'GUEST_RFLAGS',
  'GUEST_INTERRUPTIBILITY_STATE',
  'GUEST_ACTIVITY_STATE',
  'VM_ENTRY_INTERRUPTION_INFORMATION',
  'GUEST_PENDING_DEBUG_EXCEPTIONS',
  'PIN_BASED_CONTROLS',
  'PRIMARY_PROCESSOR_BASED_CONTROLS',
];

/** The decision points of a successful VM entry. */
export const GUEST_LOAD_RULES = {
  guestRuns: rule(
    'vm-entry.guest-runs',
    'VM entry',
    sdm('27.3.2', 'Loading Guest State'),
    'the VM entry succeeds: guest state is loaded, the processor is in VMX non-root operation and its next operation is the guest\'s first instruction (VMLAUNCH makes the VMCS launched)',
  ),
  inactive: rule(
    'vm-entry.guest-inactive',
    'VM entry',
    sdm('27.7.2', 'Activity State'),
    'the VM entry succeeds into an inactive activity state (HLT, shutdown, wait-for-SIPI): the guest executes no instruction; what follows is not modelled',
  ),
  eventBeforeFirstInstruction: rule(
    'vm-entry.event-before-first-instruction',
    'VM entry',
    sdm('27.6', 'Event Injection'),
    'the VM entry succeeds, but an injected event, pending debug exceptions, a window, MTF, preemption-timer or TPR-threshold VM exit, or virtual-interrupt delivery may act before the guest\'s first instruction; not modelled',
  ),
} as const;

/** What guest-state loading reads, or the fields it lacked. */
export type GuestLoad = { kind: 'loaded'; state: ModelState; flags: number; rule: Rule } | { kind: 'unknown'; missing: readonly FieldName[] };

function bit(value: bigint, position: number | bigint): boolean {
  return ((value >> BigInt(position)) & 1n) === 1n;
}

/**
 * The state after a successful VM entry on processor `cpu` with the VMCS seen through `view`;
 * `content` is the current VMCS after the entry (launched for VMLAUNCH), written back by the caller.
 */
export function loadGuestState(state: ModelState, cpu: number, view: VmcsView): GuestLoad {
  const primary = view.get('PRIMARY_PROCESSOR_BASED_CONTROLS');
  const needed = [...GUEST_LOAD_FIELDS];
  if (primary !== undefined && bit(primary, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS)) needed.push('SECONDARY_PROCESSOR_BASED_CONTROLS');
  const missing = needed.filter((field) => view.get(field) === undefined);
  if (missing.length > 0) return { kind: 'unknown', missing };
  const f = (field: FieldName): bigint => view.get(field) as bigint;

  const rflags = f('GUEST_RFLAGS');
  const flags = Number(rflags & BigInt(ARITHMETIC_FLAGS_MASK));
  const old = cpuOf(state, cpu);
  const guest = withCpu(state, cpu, {
    vmx: 'non-root',
    cr0: (old.cr0 & CR0_KEPT_ON_ENTRY) | (f('GUEST_CR0') & ~CR0_KEPT_ON_ENTRY & ALL64),
    cr4: f('GUEST_CR4'),
    eferLma: bit(f('VM_ENTRY_CONTROLS'), ENTRY_CONTROL.IA32E_MODE_GUEST) ? 1 : 0,
    csL: bit(f('GUEST_CS_ACCESS_RIGHTS'), ACCESS_RIGHTS_L) ? 1 : 0,
    cpl: Number((f('GUEST_SS_ACCESS_RIGHTS') >> ACCESS_RIGHTS_DPL) & 3n),
    rflagsVm: bit(rflags, RFLAGS_VM) ? 1 : 0,
    flags,
    movSsBlocking: bit(f('GUEST_INTERRUPTIBILITY_STATE'), BLOCKING_BY_MOV_SS) ? 1 : 0,
  });
  const beyond = notQuiet(f, view);
  if (beyond !== undefined) return { kind: 'loaded', state: withCpu(guest, cpu, { untracked: beyond }), flags, rule: beyond };
  return { kind: 'loaded', state: guest, flags, rule: GUEST_LOAD_RULES.guestRuns };
}

/** The rule that stops the model following the guest, or `undefined` for a quiet entry. */
function notQuiet(f: (field: FieldName) => bigint, view: VmcsView): Rule | undefined {
  if (f('GUEST_ACTIVITY_STATE') !== ACTIVE) return GUEST_LOAD_RULES.inactive;
  const primary = f('PRIMARY_PROCESSOR_BASED_CONTROLS');
  const secondary = bit(primary, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) ? (view.get('SECONDARY_PROCESSOR_BASED_CONTROLS') as bigint) : 0n;
  const early =
    bit(f('VM_ENTRY_INTERRUPTION_INFORMATION'), INJECTION_VALID) ||
    f('GUEST_PENDING_DEBUG_EXCEPTIONS') !== 0n ||
    bit(primary, PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING) ||
    bit(primary, PRIMARY_CONTROL.NMI_WINDOW_EXITING) ||
    bit(primary, PRIMARY_CONTROL.MONITOR_TRAP_FLAG) ||
    bit(primary, PRIMARY_CONTROL.USE_TPR_SHADOW) ||
    bit(f('PIN_BASED_CONTROLS'), PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER) ||
    bit(secondary, SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY);
  return early ? GUEST_LOAD_RULES.eventBeforeFirstInstruction : undefined;
}

/** `content` after a successful VMLAUNCH (launched) or VMRESUME (unchanged). */
export function afterSuccessfulEntry(content: VmcsContent, instruction: 'VMLAUNCH' | 'VMRESUME'): VmcsContent {
  return instruction === 'VMLAUNCH' ? { ...content, launch: 'launched' } : content;
}
