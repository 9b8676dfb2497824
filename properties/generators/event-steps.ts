/**
 * An event step group: enter a guest with the VMCS armed for the events at the boundary of a VM
 * entry (SDM Vol. 3C, December 2023, §27.7 "Special Features of VM Entry") and of a guest
 * instruction (§26.2 "Other Causes of VM Exits", §26.5.2 "Monitor Trap Flag"), then watch what
 * comes: a VM exit right at the VMLAUNCH, after a guest instruction, or a guest that waits in an
 * inactive activity state.
 *
 * The group builds a valid VMCS (vmcs-builder.ts, through vm-entry-steps.ts) and draws, each
 * independently where the profile allows it, so that the SDM's priorities meet:
 * - "interrupt-window exiting", with RFLAGS.IF 1 or 0;
 * - "NMI-window exiting" (with "NMI exiting" and "virtual NMIs", which it needs), virtual-NMI
 *   blocking on or off;
 * - "monitor trap flag"; a pending MTF VM exit injected (type 7, vector 0);
 * - "activate VMX-preemption timer" with a timer value of 0 or not;
 * - "use TPR shadow" with a virtual-APIC page whose VTPR (byte 80H) is written with
 *   `write-memory`, a TPR threshold, and sometimes "virtualize APIC accesses" (with it, a
 *   threshold above VTPR[7:4] exits right after the entry; without it, the entry fails its check);
 * - pending debug exceptions (BS, or an enabled breakpoint with B0) and #DB in the exception
 *   bitmap or not;
 * - blocking by STI or by MOV SS, and the activity state (HLT, shutdown, wait-for-SIPI where
 *   IA32_VMX_MISC reports them).
 * After the VMLAUNCH the host VMREADs the exit information and the saved activity and
 * interruptibility state (in a guest that did not exit the first VMREAD is itself a VM exit, or,
 * in an inactive state, not executed), clears the controls it armed most of the time, VMRESUMEs,
 * runs guest instructions, and reads again.
 */
import fc from 'fast-check';
import { PIN_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { FIELD, type FieldName } from '../../spec/fields.ts';
import { toHex } from '../../spec/hex.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { EnvironmentWriter, gateVariantsArbitrary, memoryOperations, userDescriptorWrites, userSegmentFields, type GateVariant } from './guest-environment.ts';
import { VMXON_REGIONS } from './values.ts';
import type { BuildOptions } from './vmcs-builder.ts';
import { builtVmcs } from './vm-entry-steps.ts';
import { EXIT_INFORMATION_READS, exitGroupOptions } from './vm-exit-steps.ts';
import { BUILT_VMCS_POINTER } from './vmcs-perturb.ts';

/** Weight of the event group in the default step mix (operations.ts). */
export const EVENT_STEP_WEIGHT = 3;

/** Where the virtual-APIC page and the APIC-access page go (4-KByte aligned, clear of the other groups' structures). */
export const EVENT_ADDRESSES = { virtualApic: 0x35000n, apicAccess: 0x36000n } as const;

/** The guest-state fields the host reads after an event (besides the exit information). */
export const EVENT_STATE_READS: readonly FieldName[] = ['GUEST_ACTIVITY_STATE', 'GUEST_INTERRUPTIBILITY_STATE', 'GUEST_PENDING_DEBUG_EXCEPTIONS', 'GUEST_RIP'];

/** Guest instructions the group runs: two that complete without exiting controls, HLT, and CPUID (always exits). */
const GUEST_OPS = ['pause', 'hlt', 'rdtsc', 'cpuid'] as const;

const bit = (n: number): bigint => 1n << BigInt(n);

/** #DB and #GP. */
const DEBUG_VECTOR = 1;
const GENERAL_PROTECTION_VECTOR = 13;

/** IA32_VMX_MISC bits 6, 7, 8: the HLT, shutdown and wait-for-SIPI activity states are supported. */
function activityStates(profile: Profile): bigint[] {
  const misc = BigInt(profile.data.msrs.IA32_VMX_MISC);
  return [0n, ...[1n, 2n, 3n].filter((state) => ((misc >> (5n + state)) & 1n) === 1n)];
}

/** What the group draws (see the file comment). */
interface EventDraw {
  interruptWindow: boolean;
  interruptsEnabled: boolean;
  nmiWindow: boolean;
  virtualNmiBlocking: boolean;
  mtf: boolean;
  pendingMtf: boolean;
  timer: boolean;
  timerValue: bigint;
  tpr: boolean;
  virtualizeApicAccesses: boolean;
  threshold: bigint;
  vtpr: number;
  pendingDebug: bigint;
  debugExits: boolean;
  blocking: 'none' | 'sti' | 'mov-ss';
  activity: bigint;
  clearAfter: boolean;
  guestOps: (typeof GUEST_OPS)[number][];
  /** How the gates of the guest environment are written (guest-environment.ts). */
  gates: GateVariant[];
  /** The guest runs at CPL 3 (protected and IA-32e guests): its HLT is #GP(0), delivered through a CPL-0 gate with a stack switch. */
  user: boolean;
}

function drawArbitrary(profile: Profile): fc.Arbitrary<EventDraw> {
  const activities = activityStates(profile);
  return fc.record({
    interruptWindow: fc.boolean(),
    interruptsEnabled: fc.boolean(),
    nmiWindow: fc.boolean(),
    virtualNmiBlocking: fc.boolean(),
    mtf: fc.boolean(),
    pendingMtf: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
    timer: fc.boolean(),
    timerValue: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 0xffffn })),
    tpr: fc.boolean(),
    virtualizeApicAccesses: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
    threshold: fc.bigInt({ min: 0n, max: 15n }),
    vtpr: fc.nat({ max: 0xff }),
    pendingDebug: fc.oneof({ arbitrary: fc.constant(0n), weight: 3 }, { arbitrary: fc.constantFrom(0x4000n, 0x1001n), weight: 1 }),
    debugExits: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
    blocking: fc.oneof({ arbitrary: fc.constant('none' as const), weight: 4 }, { arbitrary: fc.constantFrom('sti' as const, 'mov-ss' as const), weight: 1 }),
    activity: fc.oneof({ arbitrary: fc.constant(0n), weight: 4 }, { arbitrary: fc.constantFrom(...activities), weight: 1 }),
    clearAfter: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
    guestOps: fc.array(fc.constantFrom(...GUEST_OPS), { minLength: 1, maxLength: 3 }),
    gates: gateVariantsArbitrary(),
    user: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
  });
}

/** The field changes of `draw` over the built values `values` (only controls the profile allows). */
export function eventFields(profile: Profile, values: ReadonlyMap<FieldName, bigint>, draw: EventDraw): Map<FieldName, bigint> {
  const may = (set: 'pin' | 'primary' | 'secondary', n: number): boolean => profile.supportsControl(set, n);
  let pin = values.get('PIN_BASED_CONTROLS') ?? 0n;
  let primary = values.get('PRIMARY_PROCESSOR_BASED_CONTROLS') ?? 0n;
  let secondary = values.get('SECONDARY_PROCESSOR_BASED_CONTROLS') ?? 0n;
  const fields = new Map<FieldName, bigint>();
  let interruptibility = 0n;
  let rflags = values.get('GUEST_RFLAGS') ?? 2n;
  if (draw.interruptsEnabled) rflags |= bit(9);
  if (draw.interruptWindow && may('primary', PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING)) primary |= bit(PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING);
  if (draw.nmiWindow && may('pin', PIN_CONTROL.VIRTUAL_NMIS) && may('primary', PRIMARY_CONTROL.NMI_WINDOW_EXITING)) {
    pin |= bit(PIN_CONTROL.NMI_EXITING) | bit(PIN_CONTROL.VIRTUAL_NMIS);
    primary |= bit(PRIMARY_CONTROL.NMI_WINDOW_EXITING);
    if (draw.virtualNmiBlocking) interruptibility |= bit(3);
  }
  if (draw.mtf && may('primary', PRIMARY_CONTROL.MONITOR_TRAP_FLAG)) primary |= bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG);
  if (draw.pendingMtf && may('primary', PRIMARY_CONTROL.MONITOR_TRAP_FLAG)) fields.set('VM_ENTRY_INTERRUPTION_INFORMATION', 0x8000_0700n);
  if (draw.timer && may('pin', PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER)) {
    pin |= bit(PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER);
    fields.set('VMX_PREEMPTION_TIMER_VALUE', draw.timerValue);
  }
  if (draw.tpr && may('primary', PRIMARY_CONTROL.USE_TPR_SHADOW)) {
    primary |= bit(PRIMARY_CONTROL.USE_TPR_SHADOW);
    fields.set('VIRTUAL_APIC_ADDRESS', EVENT_ADDRESSES.virtualApic);
    fields.set('TPR_THRESHOLD', draw.threshold);
    if (draw.virtualizeApicAccesses && may('primary', PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) && may('secondary', SECONDARY_CONTROL.VIRTUALIZE_APIC_ACCESSES)) {
      primary |= bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS);
      secondary |= bit(SECONDARY_CONTROL.VIRTUALIZE_APIC_ACCESSES);
      fields.set('SECONDARY_PROCESSOR_BASED_CONTROLS', secondary);
      fields.set('APIC_ACCESS_ADDRESS', EVENT_ADDRESSES.apicAccess);
    }
  }
  if (draw.pendingDebug !== 0n) {
    fields.set('GUEST_PENDING_DEBUG_EXCEPTIONS', draw.pendingDebug);
    fields.set('EXCEPTION_BITMAP', draw.debugExits ? bit(1) : 0n);
  }
  if (draw.activity === 0n && draw.blocking === 'sti' && draw.interruptsEnabled) interruptibility |= 1n;
  if (draw.activity === 0n && draw.blocking === 'mov-ss') interruptibility |= 2n;
  fields.set('PIN_BASED_CONTROLS', pin);
  fields.set('PRIMARY_PROCESSOR_BASED_CONTROLS', primary);
  fields.set('GUEST_RFLAGS', rflags);
  fields.set('GUEST_INTERRUPTIBILITY_STATE', interruptibility);
  fields.set('GUEST_ACTIVITY_STATE', draw.activity);
  return fields;
}

function vmwrite(cpu: number, field: FieldName, value: bigint): Operation {
  return { kind: 'vmwrite', cpu, encoding: toHex(BigInt(FIELD[field])), value: toHex(value) };
}

function reads(cpu: number): Operation[] {
  return [...EXIT_INFORMATION_READS, ...EVENT_STATE_READS].map((field): Operation => ({ kind: 'vmread', cpu, encoding: toHex(BigInt(FIELD[field])) }));
}

/** One of {@link GUEST_OPS} on `cpu` (CPUID of leaf 0). */
function guestOp(kind: (typeof GUEST_OPS)[number], cpu: number): Operation {
  return kind === 'cpuid' ? { kind, cpu, eax: '0x0', ecx: '0x0' } : { kind, cpu };
}

/** The operations of one group for `draw` on a VMCS built with `options`. */
export function eventGroupOperations(profile: Profile, cpu: number, options: BuildOptions, draw: EventDraw): Operation[] {
  const values = builtVmcs(profile, options);
  const merged = new Map(values);
  const changes = eventFields(profile, values, draw);
  for (const [field, value] of changes) merged.set(field, value);
  if (!merged.has('EXCEPTION_BITMAP')) merged.set('EXCEPTION_BITMAP', 0n);
  const user = draw.user && options.guest !== 'v8086' && options.guest !== 'real';
  if (user) for (const [field, value] of userSegmentFields(options.guest)) merged.set(field, value);
  // What may be delivered through the guest IDT: a pending debug exception with #DB outside the
  // exception bitmap, after the entry (SDM Vol. 3C §27.6.3 "Delivery of Pending Debug Exceptions
  // after VM Entry"); the #GP(0) of HLT at CPL 3 (Vol. 2 "HLT—Halt", Protected Mode Exceptions).
  const vectors = [...(draw.pendingDebug !== 0n && !draw.debugExits ? [DEBUG_VECTOR] : []), ...(user && draw.guestOps.includes('hlt') ? [GENERAL_PROTECTION_VECTOR] : [])];
  const environment = new EnvironmentWriter(options, draw.gates).gates(vectors);
  if (user && environment.length > 0) environment.push(...userDescriptorWrites(options.guest));
  const rev = toHex(BigInt(profile.revisionId));
  const vmxon = toHex(VMXON_REGIONS[cpu] ?? (VMXON_REGIONS[0] as bigint));
  const pointer = toHex(BUILT_VMCS_POINTER);
  const ops: Operation[] = [
    { kind: 'vmclear', cpu, pointer },
    { kind: 'vmxoff', cpu },
    { kind: 'write-memory', cpu, address: vmxon, value: rev },
    { kind: 'write-memory', cpu, address: pointer, value: rev },
    { kind: 'vmxon', cpu, pointer: vmxon },
    { kind: 'vmclear', cpu, pointer },
    { kind: 'vmptrld', cpu, pointer },
    ...[...merged.entries()].filter(([field]) => profile.fieldExists(FIELD[field])).map(([field, value]) => vmwrite(cpu, field, value)),
    { kind: 'write-memory', cpu, address: toHex(EVENT_ADDRESSES.virtualApic + 0x80n), value: toHex(BigInt(draw.vtpr)) },
    ...memoryOperations(cpu, environment),
    { kind: 'vmlaunch', cpu },
    ...reads(cpu),
  ];
  if (draw.clearAfter) {
    // The handler disarms what it armed: the built controls again, no injection, no pending debug exceptions, active.
    ops.push(vmwrite(cpu, 'PIN_BASED_CONTROLS', values.get('PIN_BASED_CONTROLS') ?? 0n));
    ops.push(vmwrite(cpu, 'PRIMARY_PROCESSOR_BASED_CONTROLS', (values.get('PRIMARY_PROCESSOR_BASED_CONTROLS') ?? 0n) | ((changes.get('PRIMARY_PROCESSOR_BASED_CONTROLS') ?? 0n) & bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG))));
    ops.push(vmwrite(cpu, 'GUEST_PENDING_DEBUG_EXCEPTIONS', 0n), vmwrite(cpu, 'GUEST_ACTIVITY_STATE', 0n), vmwrite(cpu, 'GUEST_INTERRUPTIBILITY_STATE', 0n));
  }
  ops.push({ kind: 'vmresume', cpu });
  for (const kind of draw.guestOps) ops.push(guestOp(kind, cpu), ...reads(cpu));
  return ops;
}

/** The event step group for `profile` on `cpu`; empty when the profile cannot build a VMCS with a 64-bit host. */
export function eventSteps(profile: Profile, cpu: number): fc.Arbitrary<Operation[]> {
  const options = exitGroupOptions(profile);
  if (options.length === 0) return fc.constant([]);
  return fc.tuple(fc.constantFrom(...options), drawArbitrary(profile)).map(([opts, draw]) => eventGroupOperations(profile, cpu, opts, draw));
}
