/**
 * Loading guest state on a successful VM entry (SDM Vol. 3C, December 2023, §27.3.2 "Loading Guest
 * State"), for the state the model tracks per processor (model/state.ts), and what the processor
 * does next.
 *
 * - §27.3.2.1 "Loading Guest Control Registers, Debug Registers, and MSRs": CR0 from the guest CR0
 *   field, except ET (bit 4), bits 15:6, 17, 28:19, NW (29) and CD (30), which VM entry never
 *   modifies; CR3 and CR4 from their fields; DR7 and IA32_DEBUGCTL with "load debug controls";
 *   the SYSENTER MSRs always (IA32_SYSENTER_CS from a 32-bit field, bits 63:32 cleared); the MSRs
 *   of the other "load ..." VM-entry controls (model/vm-exit/guest-registers.ts). With "load
 *   IA32_EFER" = 1 IA32_EFER comes from its field (the checks made its LMA, and with paging its
 *   LME, equal to "IA-32e mode guest"); with 0, IA32_EFER.LMA takes the setting of "IA-32e mode
 *   guest", and so does LME when the guest CR0.PG is 1 (otherwise LME is unchanged).
 * - §27.4 "Loading MSRs": the entries of the VM-entry MSR-load area, in order, set the MSRs the
 *   model knows (`CpuState.msrs`); the phase passed, so every entry was loaded.
 * - §27.3.2.2 "Loading Guest Segment Registers and Descriptor-Table Registers": the segment and
 *   descriptor-table registers from their fields, kept in the guest register file for the VM exit
 *   to save (model/vm-exit/guest-registers.ts); CS.L from bit 13 of the CS access rights; the CPL
 *   is SS.DPL (bits 6:5 of the SS access rights; §25.4.1 "Guest Register State": SS.DPL always
 *   equals the CPL).
 * - §27.3.2.3 "Loading Guest RIP, RSP, RFLAGS, and SSP": RIP, RSP and RFLAGS from their fields, so
 *   RFLAGS.VM (bit 17) and the arithmetic flags (the `flags` of the `vmentry` observation).
 * - §27.3.2.4 "Loading Page-Directory-Pointer-Table Entries": with "enable EPT" = 1 and PAE paging
 *   the PDPTEs come from the PDPTE fields (kept for the exit to save).
 * - §27.7.1 "Interruptibility State": events are blocked by MOV SS after the entry iff bit 1 of the
 *   interruptibility-state field is 1; the blocking ends after the guest's first instruction
 *   (model/processor-state-ops.ts and step: one instruction). Blocking by STI is not tracked.
 * - The processor is in VMX non-root operation; a VMLAUNCH makes the VMCS launched (§31.3
 *   VMLAUNCH/VMRESUME, Operation: "launch state of VMCS ← launched").
 *
 * - §27.7.2 "Activity State": a VM entry that is not vectoring ends in the activity state of the
 *   activity-state field (`CpuState.activity`).
 *
 * What happens at the boundary of the entry, before the guest's first instruction (VM exits the
 * controls arm, a pending MTF VM exit, pending debug exceptions), is entry-events.ts.
 *
 * - An event injected (VM-entry interruption-information bit 31, a type other than 7 "other
 *   event"; §27.6 "Event Injection") is delivered through the guest IDT once guest state is loaded
 *   (model/event-delivery/injection.ts): the observation says which event (`injected`: vector,
 *   type, and the error code when bit 11 "deliver error code" is 1), and the guest goes on at the
 *   handler, with the frame pushed in memory. Where delivery faults or reaches what the model does
 *   not follow (a nested exception, an EPT violation, a task gate, ...), the entry's verdict is not
 *   modelled under that `event-delivery.*` rule: the nested event may itself exit, so even the
 *   entry's observation is open.
 * - The model stops following the processor (the observation is still `vmentry`) when "virtual-
 *   interrupt delivery" is 1 (§27.7.5 "Interrupt-Window Exiting and Virtual-Interrupt Delivery":
 *   a virtual interrupt may be delivered through the guest IDT at once, as RVI, PPR and the
 *   virtual-APIC page decide).
 */
import { sdm } from '../../spec/citation.ts';
import { ENTRY_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import type { FieldName } from '../../spec/fields.ts';
import { toHex } from '../../spec/hex.ts';
import type { InjectedEvent } from '../../spec/observations.ts';
import { ARITHMETIC_FLAGS_MASK } from '../../spec/observations.ts';
import { CR0, CR4 } from '../../spec/registers.ts';
import { deliverInjectedEvent } from '../event-delivery/injection.ts';
import { readWord } from '../memory.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { Activity, ModelState, VmcsContent } from '../state.ts';
import { cpuOf, withCpu } from '../state.ts';
import { GUEST_MSR_FIELDS, loadedRegisters } from '../vm-exit/guest-registers.ts';
import { MSR } from '../vm-exit/msr-indices.ts';
import type { VmcsView } from './check.ts';

/** CR0 bits VM entry never modifies: ET (4), bits 15:6, 17, 28:19, NW (29), CD (30). */
export const CR0_KEPT_ON_ENTRY = (1n << 4n) | (0x3ffn << 6n) | (1n << 17n) | (0x3ffn << 19n) | (1n << 29n) | (1n << 30n);
const ALL64 = 0xffff_ffff_ffff_ffffn;
const LOW32 = 0xffff_ffffn;
/** CS access rights bit 13: L. */
const ACCESS_RIGHTS_L = 13n;
/** SS access rights bits 6:5: DPL. */
const ACCESS_RIGHTS_DPL = 5n;
/** RFLAGS bit 17: VM. */
const RFLAGS_VM = 17n;
/** Interruptibility state bit 1: blocking by MOV SS. */
const BLOCKING_BY_MOV_SS = 1n;
/** The activity-state field's values 0-3 (§25.4.2 "Guest Non-Register State"). */
export const ACTIVITY_BY_FIELD: readonly Activity[] = ['active', 'hlt', 'shutdown', 'wait-for-sipi'];
/** Interruption type 7: other event (with vector 0, a pending MTF VM exit; §27.6.2 "Injection of Pending MTF VM Exits"). */
const INJECTION_TYPE_OTHER_EVENT = 7n;
/** VM-entry interruption-information bit 31: valid; bit 11: deliver error code; 10:8 type; 7:0 vector. */
const INJECTION_VALID = 31n;
const INJECTION_ERROR_CODE = 11n;
/** IA32_EFER bit 8: LME. */
const EFER_LME = 8n;
/** Bytes of one MSR-load entry: index (4), reserved (4), value (8). */
const MSR_ENTRY_BYTES = 16n;

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
    'the VM entry succeeds into an inactive activity state (HLT, shutdown, wait-for-SIPI) and no VM exit ends it at once: the guest executes no instruction, and later instructions of the processor observe inactive (nothing in the contract wakes it)',
  ),
  injectedEventDelivered: rule(
    'vm-entry.injected-event-delivered',
    'VM entry',
    sdm('27.6.1', 'Vectored-Event Injection'),
    'the VM entry succeeds and delivers the injected event (reported in the vmentry observation) through the guest IDT (model/event-delivery/): the guest goes on at the handler with the CS, RIP, SS, RSP, RFLAGS and CPL delivery produced, the frame pushed in memory',
  ),
  virtualInterruptDelivery: rule(
    'vm-entry.virtual-interrupt-delivery',
    'VM entry',
    sdm('27.7.5', 'Interrupt-Window Exiting and Virtual-Interrupt Delivery'),
    'the VM entry succeeds with "virtual-interrupt delivery" = 1: a virtual interrupt may be delivered through the guest IDT before the first instruction (RVI, PPR and the virtual-APIC page decide); not modelled',
  ),
} as const;

/** What guest-state loading reads, or the fields it lacked. */
export type GuestLoad =
  | { kind: 'loaded'; state: ModelState; flags: number; rule: Rule; injected?: InjectedEvent }
  | { kind: 'unknown'; missing: readonly FieldName[] };

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
  const entryControls = f('VM_ENTRY_CONTROLS');
  const ia32eGuest = bit(entryControls, ENTRY_CONTROL.IA32E_MODE_GUEST);
  const old = cpuOf(state, cpu);
  const cr0 = (old.cr0 & CR0_KEPT_ON_ENTRY) | (f('GUEST_CR0') & ~CR0_KEPT_ON_ENTRY & ALL64);
  const cr4 = f('GUEST_CR4');
  const guest = withCpu(state, cpu, {
    vmx: 'non-root',
    cr0,
    // The checks read guest CR3 and RIP, so after a real entry both are known.
    cr3: view.get('GUEST_CR3') ?? old.cr3,
    cr4,
    eferLma: ia32eGuest ? 1 : 0,
    eferLme: guestEferLme(view, entryControls, cr0, old.eferLme),
    csL: bit(f('GUEST_CS_ACCESS_RIGHTS'), ACCESS_RIGHTS_L) ? 1 : 0,
    cpl: Number((f('GUEST_SS_ACCESS_RIGHTS') >> ACCESS_RIGHTS_DPL) & 3n),
    rflagsVm: bit(rflags, RFLAGS_VM) ? 1 : 0,
    flags,
    rip: view.get('GUEST_RIP'),
    dr7: bit(entryControls, ENTRY_CONTROL.LOAD_DEBUG_CONTROLS) ? (view.get('GUEST_DR7') ?? old.dr7) : old.dr7,
    msrs: entryMsrLoadArea(state, view, guestMsrs(view, entryControls, old.msrs)),
    movSsBlocking: bit(f('GUEST_INTERRUPTIBILITY_STATE'), BLOCKING_BY_MOV_SS) ? 1 : 0,
    guest: loadedRegisters(view, eptPaePaging(view, cr0, cr4, ia32eGuest)),
    activity: activityAfterEntry(f('GUEST_ACTIVITY_STATE')),
  });
  const injected = injectedEvent(view);
  // The observation reports an event delivered through the IDT; a pending MTF VM exit (type 7) is not one.
  const vectoring = injected !== undefined && BigInt(injected.type) !== INJECTION_TYPE_OTHER_EVENT;
  const withInjected = vectoring ? { injected } : {};
  let running = guest;
  let ran: Rule = cpuOf(guest, cpu).activity === 'active' ? GUEST_LOAD_RULES.guestRuns : GUEST_LOAD_RULES.inactive;
  if (vectoring) {
    const delivery = deliverInjectedEvent(guest, cpu);
    if (delivery.kind === 'stopped') return { kind: 'loaded', state: withCpu(guest, cpu, { untracked: delivery.rule }), flags, rule: delivery.rule, ...withInjected };
    running = delivery.state;
    ran = GUEST_LOAD_RULES.injectedEventDelivered;
  }
  const beyond = notQuiet(f, view);
  if (beyond !== undefined) return { kind: 'loaded', state: withCpu(running, cpu, { untracked: beyond }), flags, rule: beyond, ...withInjected };
  return { kind: 'loaded', state: running, flags, rule: ran, ...withInjected };
}

/** The activity state after a VM entry that is not vectoring: that of the activity-state field (§27.7.2). */
function activityAfterEntry(field: bigint): Activity {
  return ACTIVITY_BY_FIELD[Number(field)] ?? 'active';
}

/** IA32_EFER.LME after the entry (§27.3.2.1), with "load IA32_EFER" from the field. */
function guestEferLme(view: VmcsView, entryControls: bigint, cr0: bigint, old: number): number {
  const efer = view.get('GUEST_IA32_EFER');
  if (bit(entryControls, ENTRY_CONTROL.LOAD_IA32_EFER) && efer !== undefined) return bit(efer, EFER_LME) ? 1 : 0;
  if ((cr0 & CR0.PG) !== 0n) return bit(entryControls, ENTRY_CONTROL.IA32E_MODE_GUEST) ? 1 : 0;
  return old;
}

/** The MSRs the guest-state fields load (guest-registers.ts), on top of `old`. */
function guestMsrs(view: VmcsView, entryControls: bigint, old: ReadonlyMap<number, bigint>): Map<number, bigint> {
  const msrs = new Map(old);
  for (const each of GUEST_MSR_FIELDS) {
    if (each.loadedBy !== undefined && !bit(entryControls, each.loadedBy)) continue;
    const value = view.get(each.field);
    if (value === undefined) msrs.delete(each.msr);
    else msrs.set(each.msr, each.msr === MSR.SYSENTER_CS ? value & LOW32 : value);
  }
  const efer = view.get('GUEST_IA32_EFER');
  if (bit(entryControls, ENTRY_CONTROL.LOAD_IA32_EFER) && efer !== undefined) msrs.set(MSR.EFER, efer);
  return msrs;
}

/** `msrs` after the entries of the VM-entry MSR-load area, in order (§27.4 "Loading MSRs"). */
function entryMsrLoadArea(state: ModelState, view: VmcsView, msrs: Map<number, bigint>): Map<number, bigint> {
  const count = view.get('VM_ENTRY_MSR_LOAD_COUNT') ?? 0n;
  const address = view.get('VM_ENTRY_MSR_LOAD_ADDRESS');
  if (count === 0n || address === undefined) return msrs;
  for (let index = 0n; index < count; index++) {
    const at = address + index * MSR_ENTRY_BYTES;
    const value = BigInt(readWord(state, at + 8n) >>> 0) | (BigInt(readWord(state, at + 12n) >>> 0) << 32n);
    msrs.set(readWord(state, at) >>> 0, value);
  }
  return msrs;
}

/** True when "enable EPT" is 1 and the guest uses PAE paging: the PDPTE fields are loaded. */
function eptPaePaging(view: VmcsView, cr0: bigint, cr4: bigint, ia32eGuest: boolean): boolean {
  const primary = view.get('PRIMARY_PROCESSOR_BASED_CONTROLS') ?? 0n;
  const secondary = bit(primary, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) ? (view.get('SECONDARY_PROCESSOR_BASED_CONTROLS') ?? 0n) : 0n;
  return bit(secondary, SECONDARY_CONTROL.ENABLE_EPT) && (cr0 & CR0.PG) !== 0n && (cr4 & CR4.PAE) !== 0n && !ia32eGuest;
}

/** The event VM-entry event injection delivers (§27.6 "Event Injection"), if any. */
function injectedEvent(view: VmcsView): InjectedEvent | undefined {
  const information = view.get('VM_ENTRY_INTERRUPTION_INFORMATION') as bigint;
  if (!bit(information, INJECTION_VALID)) return undefined;
  const vector = Number(information & 0xffn);
  const type = Number((information >> 8n) & 7n);
  if (!bit(information, INJECTION_ERROR_CODE)) return { vector, type };
  const errorCode = view.get('VM_ENTRY_EXCEPTION_ERROR_CODE');
  return { vector, type, errorCode: toHex(errorCode ?? 0n) };
}

/** The rule that stops the model following the guest at once (virtual-interrupt delivery), or `undefined`. */
function notQuiet(f: (field: FieldName) => bigint, view: VmcsView): Rule | undefined {
  const primary = f('PRIMARY_PROCESSOR_BASED_CONTROLS');
  const secondary = bit(primary, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) ? (view.get('SECONDARY_PROCESSOR_BASED_CONTROLS') as bigint) : 0n;
  return bit(secondary, SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY) ? GUEST_LOAD_RULES.virtualInterruptDelivery : undefined;
}

/** `content` after a successful VMLAUNCH (launched) or VMRESUME (unchanged). */
export function afterSuccessfulEntry(content: VmcsContent, instruction: 'VMLAUNCH' | 'VMRESUME'): VmcsContent {
  return instruction === 'VMLAUNCH' ? { ...content, launch: 'launched' } : content;
}
