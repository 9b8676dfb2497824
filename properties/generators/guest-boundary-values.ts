/**
 * The values a guest-state perturbation tries (vmcs-perturb-guest.ts), beyond the one-step
 * candidates every field gets (vmcs-perturb.ts `candidateValues`: single bits, 0, all ones, ±1):
 * the values whose boundary is wider than one bit, and the *gates*, changes that make a check
 * apply at all.
 *
 * Field values follow SDM Vol. 3C, December 2023, §27.3.1 "Checks on the Guest State Area"
 * (2016: §26.3.1) and the formats of §25.4 "Guest-State Area" (2016: §24.4): access rights
 * (type 3:0, S 4, DPL 6:5, P 7, reserved 11:8, AVL 12, L 13, D/B 14, G 15, unusable 16), the
 * activity states (0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI), the interruptibility state
 * (STI 0, MOV SS 1, SMI 2, NMI 3, enclave interruption 4), and the VM-entry
 * interruption-information field (§25.8.3 "VM-Entry Controls for Event Injection": vector 7:0,
 * type 10:8, deliver error code 11, valid 31).
 */
import { ENTRY_CONTROL, PIN_CONTROL } from '../../spec/control-bits.ts';
import { FIELD, fieldByEncoding, type FieldName } from '../../spec/fields.ts';
import { ACTIVITY_STATE, INTERRUPTIBILITY, PENDING_DEBUG } from '../../spec/guest-state-bits.ts';
import type { Profile } from '../../spec/profile.ts';
import { BUILD_ADDRESSES } from './vmcs-builder.ts';

/** The current VMCS of the VM-entry group (vmcs-perturb.ts `BUILT_VMCS_POINTER`; a test keeps them equal). */
export const ENTERED_VMCS_POINTER = 0x2000n;
import type { FieldChange } from './perturbation-provider.ts';

const bit = (n: number): bigint => 1n << BigInt(n);

/**
 * Values one step from `value` in `field` (within the field's width): every bit flipped, 0, all
 * ones, one more and one less, and the first address bit beyond the physical-address width.
 */
export function oneStepValues(field: FieldName, value: bigint, profile: Profile): bigint[] {
  const width = fieldByEncoding(FIELD[field])?.width;
  const bits = width === 16 ? 16 : width === 32 ? 32 : 64;
  const all = (1n << BigInt(bits)) - 1n;
  const found = [...Array.from({ length: bits }, (_, b) => value ^ bit(b)), 0n, all, value + 1n, value - 1n];
  if (profile.data.physicalAddressWidth < bits) found.push(value | bit(profile.data.physicalAddressWidth));
  return found.filter((v) => v >= 0n && v <= all);
}

/** An event for the VM-entry interruption-information field: valid, `type`, `vector`, optionally an error code. */
function event(type: number, vector: number, errorCode = false): bigint {
  return bit(31) | (errorCode ? bit(11) : 0n) | (BigInt(type) << 8n) | BigInt(vector);
}

/** Events a check on the activity or interruptibility state reads: one of each type the checks name. */
export const EVENTS = {
  externalInterrupt: event(0, 0x20),
  nmi: event(2, 2),
  debugException: event(3, 1),
  machineCheck: event(3, 18),
  pageFault: event(3, 14, true),
  softwareInterrupt: event(4, 0x80),
  pendingMtf: event(7, 0),
} as const;

/** Access-rights values: every type with S = 1 at every DPL and with S = 0, P and unusable toggled, the reserved ranges. */
function accessRightsValues(value: bigint): bigint[] {
  const found: bigint[] = [];
  for (let type = 0n; type < 16n; type += 1n) {
    for (let dpl = 0n; dpl < 4n; dpl += 1n) found.push((value & ~0x7fn) | type | bit(4) | (dpl << 5n));
    found.push((value & ~0x1fn) | type);
  }
  found.push(value | 0xf00n, value | 0xfffe_0000n, value ^ bit(16), 0xf3n, bit(16));
  return found;
}

/** Selector values: each RPL, TI set, null. */
function selectorValues(value: bigint): bigint[] {
  return [0n, 1n, 2n, 3n, ...[0n, 1n, 2n, 3n].map((rpl) => (value & ~3n) | rpl), value | 4n];
}

/** Limit values at the granularity boundaries (bits 11:0 all ones or not; bits 31:20 zero or not). */
const LIMIT_VALUES = [0xffffn, 0xfffffn, 0x10_0000n, 0xfffn, 0x1000n, 0xffff_f000n, 0xffff_ffffn, 0x67n, 0x66n];

/** Linear-address values at the canonical and 32-bit boundaries. */
const ADDRESS_VALUES = [bit(32), bit(47), bit(48), 0xffff_8000_0000_0000n, 0x7fff_ffff_ffffn, 0xffff_ffffn, 0x1_0000_0000n - 0x1000n];

/** Values of `field` at a boundary wider than one bit; `value` is its valid value. */
export function boundaryValues(field: FieldName, value: bigint, profile: Profile): bigint[] {
  if (field.endsWith('_ACCESS_RIGHTS')) return accessRightsValues(value);
  if (field.endsWith('_SELECTOR')) return selectorValues(value);
  if (field.endsWith('_LIMIT')) return LIMIT_VALUES;
  if (field.endsWith('_BASE') || field === 'GUEST_RIP' || field === 'GUEST_SSP') return [...ADDRESS_VALUES, value | bit(32), value | 4n];
  switch (field) {
    case 'GUEST_ACTIVITY_STATE':
      return [ACTIVITY_STATE.ACTIVE, ACTIVITY_STATE.HLT, ACTIVITY_STATE.SHUTDOWN, ACTIVITY_STATE.WAIT_FOR_SIPI, 4n];
    case 'GUEST_INTERRUPTIBILITY_STATE':
      return Array.from({ length: 32 }, (_, i) => BigInt(i));
    case 'GUEST_PENDING_DEBUG_EXCEPTIONS':
      return [bit(PENDING_DEBUG.BS), bit(PENDING_DEBUG.BS) | 0xfn, bit(16), bit(12), 0xfn];
    case 'VM_ENTRY_INTERRUPTION_INFORMATION':
      return Object.values(EVENTS);
    case 'GUEST_IA32_S_CET':
      // Suppress (bit 10) and tracker (bit 11) together.
      return [value | bit(10) | bit(11)];
    case 'VMCS_LINK_POINTER':
      return [ENTERED_VMCS_POINTER, BUILD_ADDRESSES.linkRegion, BUILD_ADDRESSES.linkRegion | 0x800n, bit(profile.data.physicalAddressWidth) | BUILD_ADDRESSES.linkRegion, 0xffff_ffff_ffff_ffffn];
    case 'GUEST_CR3':
      return [BUILD_ADDRESSES.guestCr3 | 0x20n, bit(profile.data.physicalAddressWidth) | BUILD_ADDRESSES.guestCr3];
    default:
      return [];
  }
}

/**
 * Gates: changes that make a guest check apply (an activity state, blocking, an event injected,
 * RFLAGS.IF or TF, virtual NMIs, a "load ..." VM-entry control, IA-32e mode guest toggled).
 * `values` is the built VMCS; a gate keeps every other bit of the field it changes.
 */
export function gates(values: ReadonlyMap<FieldName, bigint>): FieldChange[][] {
  const at = (field: FieldName): bigint => values.get(field) ?? 0n;
  const set = (field: FieldName, mask: bigint): FieldChange => ({ field, value: at(field) | mask });
  const clear = (field: FieldName, mask: bigint): FieldChange => ({ field, value: at(field) & ~mask });
  const injected = (info: bigint): FieldChange => ({ field: 'VM_ENTRY_INTERRUPTION_INFORMATION', value: info });
  const activity = (state: bigint): FieldChange => ({ field: 'GUEST_ACTIVITY_STATE', value: state });
  const blocking = (n: number): FieldChange => ({ field: 'GUEST_INTERRUPTIBILITY_STATE', value: bit(n) });
  const virtualNmis = set('PIN_BASED_CONTROLS', bit(PIN_CONTROL.NMI_EXITING) | bit(PIN_CONTROL.VIRTUAL_NMIS));
  const rflagsIf = set('GUEST_RFLAGS', bit(9));
  const list: FieldChange[][] = [
    [activity(ACTIVITY_STATE.HLT)],
    [activity(ACTIVITY_STATE.SHUTDOWN)],
    [activity(ACTIVITY_STATE.WAIT_FOR_SIPI)],
    [blocking(INTERRUPTIBILITY.BLOCKING_BY_STI), rflagsIf],
    [blocking(INTERRUPTIBILITY.BLOCKING_BY_MOV_SS)],
    [blocking(INTERRUPTIBILITY.BLOCKING_BY_NMI)],
    [rflagsIf],
    [set('GUEST_RFLAGS', bit(8))],
    [set('GUEST_RFLAGS', bit(8)), blocking(INTERRUPTIBILITY.BLOCKING_BY_MOV_SS)],
    [set('GUEST_RFLAGS', bit(8)), activity(ACTIVITY_STATE.HLT)],
    [set('GUEST_IA32_DEBUGCTL', bit(1)), set('GUEST_RFLAGS', bit(8)), activity(ACTIVITY_STATE.HLT)],
    [injected(EVENTS.externalInterrupt), rflagsIf],
    [injected(EVENTS.nmi)],
    [injected(EVENTS.nmi), virtualNmis],
    [injected(EVENTS.nmi), blocking(INTERRUPTIBILITY.BLOCKING_BY_STI), rflagsIf],
    [virtualNmis],
    [set('VM_ENTRY_CONTROLS', bit(ENTRY_CONTROL.ENTRY_TO_SMM))],
    [set('VM_ENTRY_CONTROLS', bit(ENTRY_CONTROL.IA32E_MODE_GUEST))],
    [clear('VM_ENTRY_CONTROLS', bit(ENTRY_CONTROL.IA32E_MODE_GUEST))],
    ...LOAD_GATES.map((n) => [set('VM_ENTRY_CONTROLS', bit(n))]),
    [clear('GUEST_RFLAGS', bit(17))],
    // CS and SS at DPL 3 with selectors at RPL 0 (SS DPL must equal SS RPL); a guest at CPL 3.
    [set('GUEST_CS_ACCESS_RIGHTS', 0x60n), set('GUEST_SS_ACCESS_RIGHTS', 0x60n)],
    [set('GUEST_CS_ACCESS_RIGHTS', 0x60n), set('GUEST_SS_ACCESS_RIGHTS', 0x60n), set('GUEST_CS_SELECTOR', 3n), set('GUEST_SS_SELECTOR', 3n)],
    // LDTR page-granular (its limit FFFFH keeps bits 11:0 all ones).
    [set('GUEST_LDTR_ACCESS_RIGHTS', bit(15))],
    ...virtual8086Gate(values),
    [{ field: 'GUEST_LDTR_ACCESS_RIGHTS', value: 0x82n }, { field: 'GUEST_LDTR_LIMIT', value: 0xffffn }],
  ];
  // A change to a value the field already has is left out (a real-address-mode guest's segments
  // already have the base and limit virtual-8086 mode needs); a gate changing nothing is dropped.
  return list
    .filter((changes) => changes.every((c) => values.has(c.field)))
    .map((changes) => changes.filter((c) => c.value !== values.get(c.field)))
    .filter((changes) => changes.length > 0);
}

/**
 * A guest made virtual-8086: RFLAGS.VM set, and CS..GS given the segments virtual-8086 mode
 * requires (base = selector × 16, limit FFFFH, access rights F3H). For a 32-bit protected-mode
 * guest that is a valid guest; for one in IA-32e mode or with CR0.PE = 0 the gate alone fails
 * the RFLAGS.VM check. None for a guest that is already virtual-8086.
 */
function virtual8086Gate(values: ReadonlyMap<FieldName, bigint>): FieldChange[][] {
  const rflags = values.get('GUEST_RFLAGS') ?? 0n;
  if ((rflags & bit(17)) !== 0n) return [];
  const changes: FieldChange[] = [{ field: 'GUEST_RFLAGS', value: rflags | bit(17) }];
  for (const seg of ['CS', 'SS', 'DS', 'ES', 'FS', 'GS'] as const) {
    const selector = values.get(`GUEST_${seg}_SELECTOR`) ?? 0n;
    changes.push({ field: `GUEST_${seg}_BASE`, value: selector << 4n }, { field: `GUEST_${seg}_LIMIT`, value: 0xffffn }, { field: `GUEST_${seg}_ACCESS_RIGHTS`, value: 0xf3n });
  }
  return [changes];
}

/** "Load ..." VM-entry controls that gate guest checks. */
const LOAD_GATES = [
  ENTRY_CONTROL.LOAD_DEBUG_CONTROLS,
  ENTRY_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL,
  ENTRY_CONTROL.LOAD_IA32_PAT,
  ENTRY_CONTROL.LOAD_IA32_EFER,
  ENTRY_CONTROL.LOAD_IA32_BNDCFGS,
  ENTRY_CONTROL.LOAD_UINV,
  ENTRY_CONTROL.LOAD_CET_STATE,
  ENTRY_CONTROL.LOAD_PKRS,
];
