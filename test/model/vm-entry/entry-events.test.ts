/**
 * The boundary of a VM entry and of a guest instruction, from SDM Vol. 3C, December 2023:
 * §27.7.2 "Activity State", §27.7.3 "Delivery of Pending Debug Exceptions after VM Entry",
 * §27.7.4 "VMX-Preemption Timer", §27.7.5 "Interrupt-Window Exiting and Virtual-Interrupt
 * Delivery", §27.7.6 "NMI-Window Exiting", §27.7.7 "VM Exits Induced by the TPR Threshold",
 * §27.7.8 "Pending MTF VM Exits", §26.2 "Other Causes of VM Exits" (the window and timer
 * exits, their priority and which activity states they wake), §26.5.2 "Monitor Trap Flag", §28.2.1
 * (qualification 0 for these exits) and §28.3.4 "Saving Non-Register State" (the activity state
 * before the exit is saved).
 */
import { describe, expect, it } from 'vitest';
import { matches } from '../../../model/index.ts';
import type { ModelState, Verdict } from '../../../model/index.ts';
import { cpuOf } from '../../../model/state.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import { knownFieldValue } from '../../../model/vmcs-fields.ts';
import { eventsAtEntry } from '../../../model/vm-entry/entry-events.ts';
import { loadGuestState } from '../../../model/vm-entry/load-guest.ts';
import { PIN_CONTROL, PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { FieldName } from '../../../spec/fields.ts';
import type { Observation } from '../../../spec/observations.ts';
import { exit, expectNotModelled, expectOnly, expectStep, ok, patchCpu, RULES_HIT, store, VMCS_S } from '../helpers.ts';
import { ACTIVATE_SECONDARY, guest, SHADOWING, VMREAD_BITMAP, VMWRITE_BITMAP } from '../non-root-setup.ts';
import { currentView, GUEST_64, HOST_FIELDS } from './entry-fixtures.ts';
import { AR, DELIVERY_FIELDS, handlerOf, peek64, withDeliveryMemory } from '../event-delivery/setup.ts';
import { vmcsWith } from './helpers.ts';

const pause = { kind: 'pause', cpu: 0 } as const;
const hlt = { kind: 'hlt', cpu: 0 } as const;
const bit = (position: number): bigint => 1n << BigInt(position);
const GUEST_RIP = 0x4000n;
const VIRTUAL_APIC = 0x9000n;
/** RFLAGS with IF (bit 9) and the reserved bit 1. */
const RFLAGS_IF = 0x202n;
/** Pin-based controls with "NMI exiting" and "virtual NMIs" (NMI-window exiting needs them). */
const VIRTUAL_NMIS = 0x16n | bit(PIN_CONTROL.NMI_EXITING) | bit(PIN_CONTROL.VIRTUAL_NMIS);
const TIMER = 0x16n | bit(PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER);

/** Guest, host and exit-area fields of an entry whose exits the model follows to the host. */
const BASE: Partial<Record<FieldName, bigint>> = {
  ...HOST_FIELDS,
  ...GUEST_64,
  HOST_RIP: 0x7000n,
  VM_EXIT_MSR_STORE_COUNT: 0n,
  GUEST_RIP,
  EXCEPTION_BITMAP: 0n,
};

/** The outcomes of the boundary of a VM entry with `fields` (guest state loaded first). */
function enter(fields: Partial<Record<FieldName, bigint>>, setup: (state: ModelState) => ModelState = (s) => s): Verdict {
  const state = setup(vmcsWith({ ...BASE, ...fields }));
  const loaded = loadGuestState(state, 0, currentView(state));
  if (loaded.kind !== 'loaded') throw new Error(`test setup: missing ${loaded.missing.join(', ')}`);
  const injected = loaded.injected === undefined ? {} : { injected: loaded.injected };
  return eventsAtEntry(loaded.state, 0, { expected: { kind: 'vmentry', flags: loaded.flags, ...injected }, rule: loaded.rule, next: () => loaded.state });
}

/** Expects `observed` among the outcomes of `verdict` (exactly `count` of them), by `ruleId`; the state after it. */
function outcome(verdict: Verdict, observed: Observation, ruleId: string, count = 1): ModelState {
  if (verdict.kind !== 'defined') throw new Error(`expected a defined verdict, got ${verdict.kind} (${verdict.rule.id})`);
  expect(verdict.branches.map((each) => each.expected)).toHaveLength(count);
  const branch = verdict.branches.find((each) => matches(each.expected, observed));
  expect(branch, `no branch allows ${JSON.stringify(observed)}`).toBeDefined();
  expect(branch?.rule.id).toBe(ruleId);
  RULES_HIT.add(ruleId);
  return branch?.next(observed) as ModelState;
}

function field(state: ModelState, name: FieldName): bigint | undefined {
  const content = currentVmcs(state, 0)?.content;
  return content === undefined ? undefined : knownFieldValue(content, FIELD[name]);
}

const entered = (flags = 0x41): Observation => ({ kind: 'vmentry', flags });
const inactive = (activity: 'hlt' | 'shutdown' | 'wait-for-sipi', flags = 0): Observation => ({ kind: 'inactive', activity, flags });
/** VTPR 40H (bits 7:4 = 4) on the virtual-APIC page. */
const vtpr4 = (state: ModelState): ModelState => store(state, VIRTUAL_APIC + 0x80n, 0x40);
const TPR_SHADOW = { PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.USE_TPR_SHADOW), VIRTUAL_APIC_ADDRESS: VIRTUAL_APIC };

describe('§27.7.7 VM exits induced by the TPR threshold', () => {
  it('threshold 5 above VTPR[7:4] = 4: VM exit "TPR below threshold" (43) right after the entry, qualification 0', () => {
    const after = outcome(enter({ ...TPR_SHADOW, TPR_THRESHOLD: 5n }, vtpr4), exit(EXIT_REASON.TPR_BELOW_THRESHOLD), 'vm-entry.tpr-below-threshold');
    expect(field(after, 'EXIT_QUALIFICATION')).toBe(0n);
    expect(field(after, 'GUEST_RIP')).toBe(GUEST_RIP);
    expect(cpuOf(after, 0).vmx).toBe('root');
  });

  it('threshold 4, not above VTPR[7:4] = 4: no exit, the guest runs', () => {
    outcome(enter({ ...TPR_SHADOW, TPR_THRESHOLD: 4n }, vtpr4), entered(), 'vm-entry.guest-runs');
  });

  it('not blocked by RFLAGS.IF = 0, and first of all the events: before the pending MTF VM exit and the interrupt window', () => {
    const both = { ...TPR_SHADOW, PRIMARY_PROCESSOR_BASED_CONTROLS: TPR_SHADOW.PRIMARY_PROCESSOR_BASED_CONTROLS | bit(PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING) };
    outcome(enter({ ...both, TPR_THRESHOLD: 5n, GUEST_RFLAGS: RFLAGS_IF, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0700n }, vtpr4), exit(EXIT_REASON.TPR_BELOW_THRESHOLD), 'vm-entry.tpr-below-threshold');
  });

  it('wakes HLT (the saved activity state is HLT, §28.1: the return to active follows the exit); does not occur from shutdown', () => {
    const woken = outcome(enter({ ...TPR_SHADOW, TPR_THRESHOLD: 5n, GUEST_ACTIVITY_STATE: 1n }, vtpr4), exit(EXIT_REASON.TPR_BELOW_THRESHOLD), 'vm-entry.tpr-below-threshold');
    expect(field(woken, 'GUEST_ACTIVITY_STATE')).toBe(1n);
    expect(cpuOf(woken, 0).activity).toBe('active');
    outcome(enter({ ...TPR_SHADOW, TPR_THRESHOLD: 5n, GUEST_ACTIVITY_STATE: 2n }, vtpr4), entered(), 'vm-entry.guest-inactive');
  });
});

describe('§27.7.8 pending MTF VM exits', () => {
  it('an injected "other event" with vector 0: MTF VM exit (37) before the first instruction, even with "monitor trap flag" = 0, and before pending debug exceptions', () => {
    const after = outcome(enter({ VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0700n, GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000n, EXCEPTION_BITMAP: 2n }), exit(EXIT_REASON.MONITOR_TRAP_FLAG), 'vm-entry.pending-mtf-vm-exit');
    expect(field(after, 'EXIT_QUALIFICATION')).toBe(0n);
    // §28.3.4: an MTF exit does not clear the pending debug exceptions; right after the entry they may be those loaded.
    expect(field(after, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBeUndefined();
    expect((field(after, 'VM_ENTRY_INTERRUPTION_INFORMATION') ?? 0n) >> 31n).toBe(0n);
  });

  it('wakes HLT', () => {
    const after = outcome(enter({ VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0700n, GUEST_ACTIVITY_STATE: 1n }), exit(EXIT_REASON.MONITOR_TRAP_FLAG), 'vm-entry.pending-mtf-vm-exit');
    expect(field(after, 'GUEST_ACTIVITY_STATE')).toBe(1n);
  });
});

describe('§27.7.3 delivery of pending debug exceptions after VM entry', () => {
  it('BS pending and #DB set in the exception bitmap: VM exit (0) for #DB, hardware exception, qualification BS', () => {
    const after = outcome(enter({ GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000n, EXCEPTION_BITMAP: 2n }), exit(EXIT_REASON.EXCEPTION_OR_NMI), 'vm-entry.pending-debug-exception-exit');
    expect(field(after, 'EXIT_QUALIFICATION')).toBe(0x4000n);
    expect(field(after, 'VM_EXIT_INTERRUPTION_INFORMATION')).toBe(0x8000_0301n);
    expect(field(after, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(0n);
  });

  it('"enabled breakpoint" with B0: the qualification reports B0 (bit 12 has no place in it)', () => {
    const after = outcome(enter({ GUEST_PENDING_DEBUG_EXCEPTIONS: 0x1001n, EXCEPTION_BITMAP: 2n }), exit(EXIT_REASON.EXCEPTION_OR_NMI), 'vm-entry.pending-debug-exception-exit');
    expect(field(after, 'EXIT_QUALIFICATION')).toBe(1n);
  });

  it('blocking by STI is saved as loaded: the #DB caused the VM exit directly and was not delivered (§28.1)', () => {
    const after = outcome(enter({ GUEST_PENDING_DEBUG_EXCEPTIONS: 0x1001n, EXCEPTION_BITMAP: 2n, GUEST_RFLAGS: RFLAGS_IF, GUEST_INTERRUPTIBILITY_STATE: 1n }), exit(EXIT_REASON.EXCEPTION_OR_NMI), 'vm-entry.pending-debug-exception-exit');
    expect(field(after, 'GUEST_INTERRUPTIBILITY_STATE')).toBe(1n);
  });

  it('B0 alone is not a valid pending debug exception: the guest runs', () => {
    outcome(enter({ GUEST_PENDING_DEBUG_EXCEPTIONS: 1n, EXCEPTION_BITMAP: 2n }), entered(), 'vm-entry.guest-runs');
  });

  it('takes priority over a VMX-preemption timer of 0 and the windows', () => {
    outcome(enter({ GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000n, EXCEPTION_BITMAP: 2n, PIN_BASED_CONTROLS: TIMER, VMX_PREEMPTION_TIMER_VALUE: 0n }), exit(EXIT_REASON.EXCEPTION_OR_NMI), 'vm-entry.pending-debug-exception-exit');
  });

  it('#DB clear in the bitmap: delivered through the guest IDT as a trap (the RIP loaded is pushed, RF as loaded); the guest is at the #DB handler', () => {
    const after = outcome(enter({ ...DELIVERY_FIELDS, GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000n }, withDeliveryMemory), entered(), 'vm-entry.pending-debug-exception-delivered');
    expect(cpuOf(after, 0).rip).toBe(handlerOf(1));
    const frame = (DELIVERY_FIELDS.GUEST_RSP as bigint) & ~0xfn;
    expect(peek64(after, frame - 0x28n)).toBe(GUEST_RIP);
    expect(peek64(after, frame - 0x18n)).toBe(0x43n);
  });

  it('under MOV-SS blocking held pending or lost: not modelled; after a vectoring entry ignored, except for an injected software interrupt or exception under MOV-SS blocking (not modelled)', () => {
    expect(enter({ GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000n, EXCEPTION_BITMAP: 2n, GUEST_INTERRUPTIBILITY_STATE: 2n })).toMatchObject({ kind: 'not-modelled', rule: { id: 'vm-entry.pending-debug-exception-mov-ss' } });
    RULES_HIT.add('vm-entry.pending-debug-exception-mov-ss');
    outcome(enter({ ...DELIVERY_FIELDS, GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000n, EXCEPTION_BITMAP: 2n, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0020n }, withDeliveryMemory), { kind: 'vmentry', flags: 0x41, injected: { vector: 32, type: 0 } }, 'vm-entry.injected-event-delivered');
    const software = { ...DELIVERY_FIELDS, GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000n, GUEST_INTERRUPTIBILITY_STATE: 2n, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0420n, VM_ENTRY_INSTRUCTION_LENGTH: 2n };
    expect(enter(software, withDeliveryMemory)).toMatchObject({ kind: 'not-modelled', rule: { id: 'vm-entry.pending-debug-exception-mov-ss' } });
  });

  it('delivered with "monitor trap flag" = 1: an MTF VM exit before the handler\'s first instruction, saving the handler\'s RIP', () => {
    const mtf = { ...DELIVERY_FIELDS, GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000n, PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG) };
    const after = outcome(enter(mtf, withDeliveryMemory), exit(EXIT_REASON.MONITOR_TRAP_FLAG), 'vm-entry.mtf-after-pending-debug-exception');
    expect(field(after, 'GUEST_RIP')).toBe(handlerOf(1));
  });

  it('ignored after an entry into the shutdown state', () => {
    outcome(enter({ GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000n, EXCEPTION_BITMAP: 2n, GUEST_ACTIVITY_STATE: 2n }), entered(), 'vm-entry.guest-inactive');
  });
});

describe('§27.7.4 the VMX-preemption timer', () => {
  it('a value of 0: VM exit (52) before any instruction, qualification 0', () => {
    const after = outcome(enter({ PIN_BASED_CONTROLS: TIMER, VMX_PREEMPTION_TIMER_VALUE: 0n }), exit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED), 'vm-entry.preemption-timer-zero');
    expect(field(after, 'EXIT_QUALIFICATION')).toBe(0n);
  });

  it('another value: the timer may reach 0 before the first instruction (the model has no time): the exit or the entry', () => {
    const verdict = enter({ PIN_BASED_CONTROLS: TIMER, VMX_PREEMPTION_TIMER_VALUE: 5n });
    outcome(verdict, exit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED), 'preemption-timer.may-expire', 2);
    const running = outcome(verdict, entered(), 'vm-entry.guest-runs', 2);
    // ... and before any later guest instruction, which is then not executed.
    const preempted = expectStep(running, pause, exit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED), 'preemption-timer.may-expire');
    expect(field(preempted, 'GUEST_RIP')).toBe(GUEST_RIP);
    expectStep(running, pause, ok(0x41), 'pause.ok');
  });

  it('wakes HLT and shutdown, not wait-for-SIPI', () => {
    const halted = outcome(enter({ PIN_BASED_CONTROLS: TIMER, VMX_PREEMPTION_TIMER_VALUE: 0n, GUEST_ACTIVITY_STATE: 2n }), exit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED), 'vm-entry.preemption-timer-zero');
    expect(field(halted, 'GUEST_ACTIVITY_STATE')).toBe(2n);
    const waiting = outcome(enter({ PIN_BASED_CONTROLS: TIMER, VMX_PREEMPTION_TIMER_VALUE: 0n, GUEST_ACTIVITY_STATE: 3n }), entered(), 'vm-entry.guest-inactive');
    expectOnly(waiting, pause, inactive('wait-for-sipi', 0x41), 'activity.inactive-guest');
  });

  it('a guest waiting in HLT with the timer counting: each instruction is inactive, or the timer exit from HLT', () => {
    const waiting = outcome(enter({ PIN_BASED_CONTROLS: TIMER, VMX_PREEMPTION_TIMER_VALUE: 9n, GUEST_ACTIVITY_STATE: 1n }), entered(), 'vm-entry.guest-inactive', 2);
    expectStep(waiting, pause, inactive('hlt', 0x41), 'activity.inactive-guest');
    const woken = expectStep(waiting, pause, exit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED), 'preemption-timer.may-expire');
    expect(field(woken, 'GUEST_ACTIVITY_STATE')).toBe(1n);
  });
});

describe('§27.7.6 NMI-window exiting', () => {
  const NMI_WINDOW = { PIN_BASED_CONTROLS: VIRTUAL_NMIS, PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.NMI_WINDOW_EXITING) };

  it('no virtual-NMI blocking: VM exit (8) right after the entry, qualification 0; it wakes HLT and shutdown', () => {
    const after = outcome(enter(NMI_WINDOW), exit(EXIT_REASON.NMI_WINDOW), 'nmi-window.vm-exit');
    expect(field(after, 'EXIT_QUALIFICATION')).toBe(0n);
    const woken = outcome(enter({ ...NMI_WINDOW, GUEST_ACTIVITY_STATE: 2n }), exit(EXIT_REASON.NMI_WINDOW), 'nmi-window.vm-exit');
    expect(field(woken, 'GUEST_ACTIVITY_STATE')).toBe(2n);
  });

  it('virtual-NMI blocking (interruptibility bit 3): no exit', () => {
    outcome(enter({ ...NMI_WINDOW, GUEST_INTERRUPTIBILITY_STATE: 8n }), entered(), 'vm-entry.guest-runs');
  });

  it('blocking by MOV SS: no exit at the entry; the guest\'s first instruction completes and the exit comes on the boundary after it', () => {
    const running = outcome(enter({ ...NMI_WINDOW, GUEST_INTERRUPTIBILITY_STATE: 2n }), entered(), 'vm-entry.guest-runs');
    const after = expectOnly(running, pause, exit(EXIT_REASON.NMI_WINDOW), 'nmi-window.vm-exit');
    expect(field(after, 'GUEST_RIP')).toBe(GUEST_RIP + 2n);
  });

  it('blocking by STI: the processor may hold the exit or not', () => {
    const verdict = enter({ ...NMI_WINDOW, GUEST_INTERRUPTIBILITY_STATE: 1n, GUEST_RFLAGS: RFLAGS_IF });
    outcome(verdict, exit(EXIT_REASON.NMI_WINDOW), 'nmi-window.vm-exit', 2);
    outcome(verdict, entered(0), 'vm-entry.guest-runs', 2);
  });
});

describe('§27.7.5 interrupt-window exiting', () => {
  const WINDOW = { PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING) };

  it('RFLAGS.IF = 1, no blocking: VM exit (7) right after the entry; after the timer when both act', () => {
    outcome(enter({ ...WINDOW, GUEST_RFLAGS: RFLAGS_IF }), exit(EXIT_REASON.INTERRUPT_WINDOW), 'interrupt-window.vm-exit');
    outcome(enter({ ...WINDOW, GUEST_RFLAGS: RFLAGS_IF, PIN_BASED_CONTROLS: TIMER, VMX_PREEMPTION_TIMER_VALUE: 0n }), exit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED), 'vm-entry.preemption-timer-zero');
  });

  it('RFLAGS.IF = 0: no exit', () => {
    outcome(enter(WINDOW), entered(), 'vm-entry.guest-runs');
  });

  it('blocking by STI: the first instruction runs, then the exit on the boundary after it', () => {
    const running = outcome(enter({ ...WINDOW, GUEST_RFLAGS: RFLAGS_IF, GUEST_INTERRUPTIBILITY_STATE: 1n }), entered(0), 'vm-entry.guest-runs');
    const after = expectOnly(running, pause, exit(EXIT_REASON.INTERRUPT_WINDOW), 'interrupt-window.vm-exit');
    expect(field(after, 'GUEST_INTERRUPTIBILITY_STATE')).toBe(0n);
  });

  it('after a fault delivered in the guest the window exit follows the RFLAGS.IF the gate left: a trap gate keeps it (the exit), an interrupt gate clears it (no exit)', () => {
    const running = outcome(enter({ ...DELIVERY_FIELDS, ...WINDOW, GUEST_RFLAGS: RFLAGS_IF, GUEST_INTERRUPTIBILITY_STATE: 1n }, withDeliveryMemory), entered(0), 'vm-entry.guest-runs');
    const trapGate = expectOnly(running, { kind: 'exception', cpu: 0, vector: 6 }, exit(EXIT_REASON.INTERRUPT_WINDOW), 'interrupt-window.vm-exit');
    expect(field(trapGate, 'GUEST_RIP')).toBe(handlerOf(6));
    expectOnly(running, { kind: 'exception', cpu: 0, vector: 13, errorCode: '0x0' }, { kind: 'fault', vector: 'GP', flags: 0, errorCode: '0x0' }, 'exception.delivered');
  });

  it('wakes HLT, not shutdown', () => {
    const woken = outcome(enter({ ...WINDOW, GUEST_RFLAGS: RFLAGS_IF, GUEST_ACTIVITY_STATE: 1n }), exit(EXIT_REASON.INTERRUPT_WINDOW), 'interrupt-window.vm-exit');
    expect(field(woken, 'GUEST_ACTIVITY_STATE')).toBe(1n);
    const down = outcome(enter({ ...WINDOW, GUEST_RFLAGS: RFLAGS_IF, GUEST_ACTIVITY_STATE: 2n }), entered(0), 'vm-entry.guest-inactive');
    expectOnly(down, pause, inactive('shutdown'), 'activity.inactive-guest');
  });
});

describe('§26.5.2 the monitor trap flag', () => {
  const MTF = { PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG) };

  it('no exit at the entry; the first instruction completes, then an MTF VM exit (37) with the RIP after it', () => {
    const running = outcome(enter(MTF), entered(), 'vm-entry.guest-runs');
    const after = expectOnly(running, pause, exit(EXIT_REASON.MONITOR_TRAP_FLAG), 'mtf.vm-exit');
    expect(field(after, 'GUEST_RIP')).toBe(GUEST_RIP + 2n);
    expect(field(after, 'EXIT_QUALIFICATION')).toBe(0n);
    expect(field(after, 'GUEST_ACTIVITY_STATE')).toBe(0n);
  });

  it('after HLT the MTF VM exit is from the HLT activity state', () => {
    const running = outcome(enter(MTF), entered(), 'vm-entry.guest-runs');
    const after = expectOnly(running, hlt, exit(EXIT_REASON.MONITOR_TRAP_FLAG), 'mtf.vm-exit');
    expect(field(after, 'GUEST_ACTIVITY_STATE')).toBe(1n);
    expect(field(after, 'GUEST_RIP')).toBe(GUEST_RIP + 1n);
  });

  it('a VMREAD the VMCS shadow answers completes, then the MTF VM exit; when the value read is unknown the state cannot be built: not modelled', () => {
    const setup = { primary: ACTIVATE_SECONDARY | bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG), secondary: SHADOWING, link: VMCS_S, vmreadBitmap: VMREAD_BITMAP, vmwriteBitmap: VMWRITE_BITMAP };
    const known = patchCpu(guest({ ...setup, shadowFields: [[FIELD.GUEST_RSP, 0x5150n]] }), 0, { rip: GUEST_RIP });
    expectOnly(known, { kind: 'vmread', cpu: 0, encoding: '0x681c' }, exit(EXIT_REASON.MONITOR_TRAP_FLAG), 'mtf.vm-exit');
    expectNotModelled(patchCpu(guest(setup), 0, { rip: GUEST_RIP }), { kind: 'vmread', cpu: 0, encoding: '0x681c' }, 'mtf.value-unknown');
  });

  it('a fault delivered through the guest IDT (#UD, bitmap bit 6 clear) makes an MTF VM exit pending after its delivery: the exit saves the handler\'s RIP', () => {
    const running = outcome(enter({ ...DELIVERY_FIELDS, ...MTF }, withDeliveryMemory), entered(), 'vm-entry.guest-runs');
    const after = expectOnly(running, { kind: 'exception', cpu: 0, vector: 6 }, exit(EXIT_REASON.MONITOR_TRAP_FLAG), 'mtf.vm-exit');
    expect(field(after, 'GUEST_RIP')).toBe(handlerOf(6));
  });

  it('HLT at CPL 3 raises #GP(0) instead of halting: the MTF VM exit after its delivery is from the active state, at the #GP handler', () => {
    const user = { GUEST_CS_SELECTOR: 0x2bn, GUEST_CS_ACCESS_RIGHTS: AR.CODE64_DPL3, GUEST_SS_SELECTOR: 0x33n, GUEST_SS_ACCESS_RIGHTS: AR.DATA_DPL3 };
    const running = outcome(enter({ ...DELIVERY_FIELDS, ...user, ...MTF }, withDeliveryMemory), entered(), 'vm-entry.guest-runs');
    const after = expectOnly(running, hlt, exit(EXIT_REASON.MONITOR_TRAP_FLAG), 'mtf.vm-exit');
    expect(field(after, 'GUEST_ACTIVITY_STATE')).toBe(0n);
    expect(field(after, 'GUEST_RIP')).toBe(handlerOf(13));
  });

  it('an instruction that causes a VM exit itself is followed by no MTF VM exit', () => {
    const running = outcome(enter({ PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG) | bit(PRIMARY_CONTROL.HLT_EXITING) }), entered(), 'vm-entry.guest-runs');
    expectOnly(running, hlt, exit(EXIT_REASON.HLT), 'hlt.vm-exit');
  });
});

describe('an injected vectored event', () => {
  it('is delivered through the guest IDT: the guest then runs at the handler', () => {
    const state = withDeliveryMemory(vmcsWith({ ...BASE, ...DELIVERY_FIELDS, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0300n }));
    const loaded = loadGuestState(state, 0, currentView(state));
    expect(loaded.kind === 'loaded' && loaded.rule.id).toBe('vm-entry.injected-event-delivered');
    if (loaded.kind === 'loaded') expect(cpuOf(loaded.state, 0).rip).toBe(handlerOf(0));
  });

  it('with "monitor trap flag" = 1: an MTF VM exit before the handler\'s first instruction (§26.5.2)', () => {
    const after = outcome(
      enter({ ...DELIVERY_FIELDS, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0320n, PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG) }, withDeliveryMemory),
      exit(EXIT_REASON.MONITOR_TRAP_FLAG),
      'vm-entry.mtf-after-injected-event',
    );
    expect(field(after, 'GUEST_RIP')).toBe(handlerOf(32));
  });

  it('the interrupt-window exit follows injection: through an interrupt gate RFLAGS.IF is 0 after delivery, so there is none', () => {
    const window = { PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING), GUEST_RFLAGS: RFLAGS_IF };
    outcome(enter({ ...DELIVERY_FIELDS, ...window, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0020n }, withDeliveryMemory), { kind: 'vmentry', flags: 0, injected: { vector: 32, type: 0 } }, 'vm-entry.injected-event-delivered');
    const trapGate = outcome(enter({ ...DELIVERY_FIELDS, ...window, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0306n }, withDeliveryMemory), exit(EXIT_REASON.INTERRUPT_WINDOW), 'interrupt-window.vm-exit');
    expect(field(trapGate, 'GUEST_RIP')).toBe(handlerOf(6));
  });
});
