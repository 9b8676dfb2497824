/**
 * The end of a VM entry (impl/vm-entry/pending-events.ts): the activity state the processor is
 * left in, and the VM exits before the first guest instruction, in their priority order. Expected
 * outcomes from the SDM text (Vol. 3C, December 2023): §27.7.2 "Activity State", §27.7.3 "Delivery
 * of Pending Debug Exceptions after VM Entry", §27.7.4 "VMX-Preemption Timer", §27.7.5
 * "Interrupt-Window Exiting and Virtual-Interrupt Delivery", §27.7.6 "NMI-Window Exiting", §27.7.7
 * "VM Exits Induced by the TPR Threshold", §27.7.8 "Pending MTF VM Exits", §26.2 "Other Causes of
 * VM Exits" (priorities, activity states), §28.1 "Architectural State before a VM Exit", §28.2.1
 * "Basic VM-Exit Information", §28.3.3 and §28.3.4 (what the exit saves).
 */
import { describe, expect, it } from 'vitest';
import { ImplMachine, STATUS_ENTRY_EVENT_UNIMPLEMENTED, STATUS_VMENTRY, STATUS_VMEXIT } from '../../../impl/index.ts';
import { handlerOf } from '../guest-environment.ts';
import { PIN_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { SKYLAKE } from '../fixtures.ts';
import { PAGES, validVmcs, type FieldName } from '../vm-entry-vmcs.ts';
import { prepared, profileOf, read } from '../vm-exit/rig.ts';

const bit = (n: number): bigint => 1n << BigInt(n);
const skylake = validVmcs(profileOf(SKYLAKE));
const pin = skylake.get('PIN_BASED_CONTROLS') as bigint;
const primary = skylake.get('PRIMARY_PROCESSOR_BASED_CONTROLS') as bigint;
const secondary = skylake.get('SECONDARY_PROCESSOR_BASED_CONTROLS') as bigint;

const HLT = 1n;
const SHUTDOWN = 2n;
const WAIT_FOR_SIPI = 3n;
const IF = 0x202n;
const TIMER = { PIN_BASED_CONTROLS: pin | bit(PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER), VMX_PREEMPTION_TIMER_VALUE: 0n };
const INTERRUPT_WINDOW = { PRIMARY_PROCESSOR_BASED_CONTROLS: primary | bit(PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING), GUEST_RFLAGS: IF };
const NMI_WINDOW = {
  PIN_BASED_CONTROLS: pin | bit(PIN_CONTROL.NMI_EXITING) | bit(PIN_CONTROL.VIRTUAL_NMIS),
  PRIMARY_PROCESSOR_BASED_CONTROLS: primary | bit(PRIMARY_CONTROL.NMI_WINDOW_EXITING),
};
/** TPR threshold 5 above VTPR 0 (virtual-APIC page never written), with "virtualize APIC accesses". */
const TPR = {
  PRIMARY_PROCESSOR_BASED_CONTROLS: primary | bit(PRIMARY_CONTROL.USE_TPR_SHADOW),
  SECONDARY_PROCESSOR_BASED_CONTROLS: secondary | bit(SECONDARY_CONTROL.VIRTUALIZE_APIC_ACCESSES),
  TPR_THRESHOLD: 5n,
};
const event = (type: number, vector: number): bigint => bit(31) | BigInt(type << 8) | BigInt(vector);
const PENDING_MTF = { VM_ENTRY_INTERRUPTION_INFORMATION: event(7, 0) };
/** Pending debug exceptions: B0 and the enabled-breakpoint bit (valid), #DB in the exception bitmap. */
const PENDING_DB = { GUEST_PENDING_DEBUG_EXCEPTIONS: 0x1001n, EXCEPTION_BITMAP: bit(1) };

type Changes = Partial<Record<FieldName, bigint>>;

/** VMLAUNCH with `changes`: its status and the machine. */
function enter(...changes: Changes[]): { status: number; m: ImplMachine } {
  const m = prepared({ changes: Object.assign({}, ...changes) as Changes });
  return { status: m.vmlaunch(0), m };
}

/** Expects a VM exit with `reason` before the first guest instruction, exit qualification 0, guest RIP unchanged. */
function expectExit(reason: number, ...changes: Changes[]): ImplMachine {
  const { status, m } = enter(...changes);
  expect(status).toBe(STATUS_VMEXIT);
  expect(m.exitReason).toBe(reason);
  expect(read(m, 'EXIT_REASON')).toBe(BigInt(reason));
  expect(read(m, 'GUEST_RIP')).toBe(0x1000n);
  expect(m.inVmxNonRoot(0)).toBe(false);
  return m;
}

describe('§27.7.2: the activity state after VM entry', () => {
  it.each([
    [HLT, 1],
    [SHUTDOWN, 2],
    [WAIT_FOR_SIPI, 3],
  ])('a VM entry that is not vectoring ends in the activity state of the field (%s)', (state, activity) => {
    const { status, m } = enter({ GUEST_ACTIVITY_STATE: state });
    expect(status).toBe(STATUS_VMENTRY);
    expect(m.activity(0)).toBe(activity);
  });

  it('a vectoring VM entry leaves the processor active whatever the field says', () => {
    const { status, m } = enter({ GUEST_ACTIVITY_STATE: HLT, VM_ENTRY_INTERRUPTION_INFORMATION: event(2, 2) });
    expect(status).toBe(STATUS_VMENTRY);
    expect(m.activity(0)).toBe(0);
    expect(m.vmcall(0)).toBe(STATUS_VMEXIT);
    expect(read(m, 'GUEST_ACTIVITY_STATE')).toBe(0n);
  });
});

describe('§27.7.4: VMX-preemption timer value 0', () => {
  it('a VM exit (52) before the first instruction, qualification 0, RIP unchanged, RF as loaded', () => {
    const m = expectExit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED, TIMER, { GUEST_RFLAGS: 0x1_0002n });
    expect(read(m, 'EXIT_QUALIFICATION')).toBe(0n);
    expect(read(m, 'GUEST_RFLAGS')).toBe(0x1_0002n);
    expect(read(m, 'GUEST_ACTIVITY_STATE')).toBe(0n);
  });

  it('no exit for a timer value other than 0, or with the timer not activated', () => {
    expect(enter(TIMER, { VMX_PREEMPTION_TIMER_VALUE: 1n }).status).toBe(STATUS_VMENTRY);
    expect(enter({ VMX_PREEMPTION_TIMER_VALUE: 0n }).status).toBe(STATUS_VMENTRY);
  });

  it('wakes HLT and shutdown (the exit saves that activity state), not wait-for-SIPI', () => {
    expect(read(expectExit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED, TIMER, { GUEST_ACTIVITY_STATE: HLT }), 'GUEST_ACTIVITY_STATE')).toBe(HLT);
    expect(read(expectExit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED, TIMER, { GUEST_ACTIVITY_STATE: SHUTDOWN }), 'GUEST_ACTIVITY_STATE')).toBe(SHUTDOWN);
    const { status, m } = enter(TIMER, { GUEST_ACTIVITY_STATE: WAIT_FOR_SIPI });
    expect(status).toBe(STATUS_VMENTRY);
    expect(m.activity(0)).toBe(3);
  });

  it('the exit leaves the processor active: VMRESUME with an active state and the timer off runs the guest', () => {
    const m = expectExit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED, TIMER, { GUEST_ACTIVITY_STATE: HLT });
    expect(m.activity(0)).toBe(0);
    expect(m.vmwrite(0, 0x4000, 0, Number(pin), 0) | m.vmwrite(0, 0x4826, 0, 0, 0)).toBe(0);
    expect(m.vmresume(0)).toBe(STATUS_VMENTRY);
    expect(m.activity(0)).toBe(0);
  });
});

describe('§27.7.5: interrupt-window exiting', () => {
  it('a VM exit (7) when RFLAGS.IF = 1 and there is no blocking by STI or MOV SS', () => {
    expectExit(EXIT_REASON.INTERRUPT_WINDOW, INTERRUPT_WINDOW);
  });

  it('none with RFLAGS.IF = 0, with blocking by STI, or with blocking by MOV SS', () => {
    expect(enter(INTERRUPT_WINDOW, { GUEST_RFLAGS: 2n }).status).toBe(STATUS_VMENTRY);
    expect(enter(INTERRUPT_WINDOW, { GUEST_INTERRUPTIBILITY_STATE: 1n }).status).toBe(STATUS_VMENTRY);
    expect(enter(INTERRUPT_WINDOW, { GUEST_INTERRUPTIBILITY_STATE: 2n }).status).toBe(STATUS_VMENTRY);
  });

  it('wakes HLT (saved as HLT), does not occur in shutdown or wait-for-SIPI', () => {
    expect(read(expectExit(EXIT_REASON.INTERRUPT_WINDOW, INTERRUPT_WINDOW, { GUEST_ACTIVITY_STATE: HLT }), 'GUEST_ACTIVITY_STATE')).toBe(HLT);
    expect(enter(INTERRUPT_WINDOW, { GUEST_ACTIVITY_STATE: SHUTDOWN }).status).toBe(STATUS_VMENTRY);
    expect(enter(INTERRUPT_WINDOW, { GUEST_ACTIVITY_STATE: WAIT_FOR_SIPI }).status).toBe(STATUS_VMENTRY);
  });
});

describe('§27.7.6: NMI-window exiting', () => {
  it('a VM exit (8) when there is no virtual-NMI blocking and no blocking by MOV SS', () => {
    expectExit(EXIT_REASON.NMI_WINDOW, NMI_WINDOW);
  });

  it('none under virtual-NMI blocking or blocking by MOV SS; blocking by STI may prevent it too, and in impl/ does', () => {
    expect(enter(NMI_WINDOW, { GUEST_INTERRUPTIBILITY_STATE: 8n }).status).toBe(STATUS_VMENTRY);
    expect(enter(NMI_WINDOW, { GUEST_INTERRUPTIBILITY_STATE: 2n }).status).toBe(STATUS_VMENTRY);
    expect(enter(NMI_WINDOW, { GUEST_INTERRUPTIBILITY_STATE: 1n, GUEST_RFLAGS: IF }).status).toBe(STATUS_VMENTRY);
  });

  it('wakes HLT and shutdown, not wait-for-SIPI', () => {
    expect(read(expectExit(EXIT_REASON.NMI_WINDOW, NMI_WINDOW, { GUEST_ACTIVITY_STATE: SHUTDOWN }), 'GUEST_ACTIVITY_STATE')).toBe(SHUTDOWN);
    expect(read(expectExit(EXIT_REASON.NMI_WINDOW, NMI_WINDOW, { GUEST_ACTIVITY_STATE: HLT }), 'GUEST_ACTIVITY_STATE')).toBe(HLT);
    expect(enter(NMI_WINDOW, { GUEST_ACTIVITY_STATE: WAIT_FOR_SIPI }).status).toBe(STATUS_VMENTRY);
  });

  it('the preemption timer has priority over it, and it over the interrupt window', () => {
    expectExit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED, NMI_WINDOW, { ...TIMER, PIN_BASED_CONTROLS: (NMI_WINDOW.PIN_BASED_CONTROLS as bigint) | TIMER.PIN_BASED_CONTROLS });
    expectExit(EXIT_REASON.NMI_WINDOW, INTERRUPT_WINDOW, NMI_WINDOW, {
      PRIMARY_PROCESSOR_BASED_CONTROLS: NMI_WINDOW.PRIMARY_PROCESSOR_BASED_CONTROLS | INTERRUPT_WINDOW.PRIMARY_PROCESSOR_BASED_CONTROLS,
    });
  });
});

describe('§27.7.7: TPR below threshold', () => {
  it('a VM exit (43) when TPR threshold[3:0] > VTPR[7:4], whatever RFLAGS.IF and the interruptibility state', () => {
    expectExit(EXIT_REASON.TPR_BELOW_THRESHOLD, TPR, { GUEST_INTERRUPTIBILITY_STATE: 2n });
  });

  it('none when VTPR[7:4] is not below the threshold', () => {
    const m = prepared({ changes: TPR, memory: [[Number(PAGES.virtualApic) + 0x80, 0x50]] });
    expect(m.vmlaunch(0)).toBe(STATUS_VMENTRY);
  });

  it('has priority over every other exit here, and keeps the pending debug exceptions (§28.3.4)', () => {
    const all = {
      ...TIMER,
      ...PENDING_DB,
      ...PENDING_MTF,
      GUEST_RFLAGS: IF,
      TPR_THRESHOLD: 5n,
      PRIMARY_PROCESSOR_BASED_CONTROLS: TPR.PRIMARY_PROCESSOR_BASED_CONTROLS | bit(PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING),
      SECONDARY_PROCESSOR_BASED_CONTROLS: TPR.SECONDARY_PROCESSOR_BASED_CONTROLS,
    };
    const m = expectExit(EXIT_REASON.TPR_BELOW_THRESHOLD, all);
    expect(read(m, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(0x1001n);
  });

  it('wakes HLT, does not occur in shutdown or wait-for-SIPI', () => {
    expect(read(expectExit(EXIT_REASON.TPR_BELOW_THRESHOLD, TPR, { GUEST_ACTIVITY_STATE: HLT }), 'GUEST_ACTIVITY_STATE')).toBe(HLT);
    expect(enter(TPR, { GUEST_ACTIVITY_STATE: SHUTDOWN }).status).toBe(STATUS_VMENTRY);
    expect(enter(TPR, { GUEST_ACTIVITY_STATE: WAIT_FOR_SIPI }).status).toBe(STATUS_VMENTRY);
  });
});

describe('§27.7.8: the pending MTF VM exit an "other event" injects', () => {
  it('has priority over pending debug exceptions and the timer, and saves the pending debug exceptions', () => {
    const m = expectExit(EXIT_REASON.MONITOR_TRAP_FLAG, PENDING_MTF, PENDING_DB, TIMER);
    expect(read(m, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(0x1001n);
  });

  it('is not blocked in HLT (saved as HLT)', () => {
    expect(read(expectExit(EXIT_REASON.MONITOR_TRAP_FLAG, PENDING_MTF, { GUEST_ACTIVITY_STATE: HLT }), 'GUEST_ACTIVITY_STATE')).toBe(HLT);
  });
});

describe('§27.7.3: pending debug exceptions', () => {
  it('a valid pending debug exception is a #DB: with bit 1 of the exception bitmap a VM exit (0)', () => {
    const m = expectExit(EXIT_REASON.EXCEPTION_OR_NMI, PENDING_DB, TIMER);
    // Vector 1, hardware exception (3), valid; qualification B3-B0, BS, RTM of the field (§28.2.1).
    expect(read(m, 'VM_EXIT_INTERRUPTION_INFORMATION')).toBe(0x8000_0301n);
    expect(read(m, 'EXIT_QUALIFICATION')).toBe(1n);
    // §28.3.4: a VM exit caused by a debug exception clears the field.
    expect(read(m, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(0n);
  });

  it('BS alone makes them valid; B3-B0 alone do not', () => {
    expect(read(expectExit(EXIT_REASON.EXCEPTION_OR_NMI, PENDING_DB, { GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4002n }), 'EXIT_QUALIFICATION')).toBe(0x4002n);
    expect(enter(PENDING_DB, { GUEST_PENDING_DEBUG_EXCEPTIONS: 0xfn }).status).toBe(STATUS_VMENTRY);
  });

  it('held under blocking by MOV SS: no #DB, the next event decides', () => {
    expectExit(EXIT_REASON.PREEMPTION_TIMER_EXPIRED, PENDING_DB, TIMER, { GUEST_INTERRUPTIBILITY_STATE: 2n });
  });

  it('none in shutdown or wait-for-SIPI', () => {
    expect(enter(PENDING_DB, { GUEST_ACTIVITY_STATE: SHUTDOWN }).status).toBe(STATUS_VMENTRY);
    expect(enter(PENDING_DB, { GUEST_ACTIVITY_STATE: WAIT_FOR_SIPI }).status).toBe(STATUS_VMENTRY);
  });

  it('delivered in HLT (the exit saves HLT)', () => {
    expect(read(expectExit(EXIT_REASON.EXCEPTION_OR_NMI, PENDING_DB, { GUEST_ACTIVITY_STATE: HLT, GUEST_PENDING_DEBUG_EXCEPTIONS: 0x1000n }), 'GUEST_ACTIVITY_STATE')).toBe(HLT);
  });

  it('a #DB not in the exception bitmap is delivered through the guest IDT: the guest runs at the handler', () => {
    // The 32-bit guest of the valid VMCS at CPL 0 (test/impl/guest-environment.ts): vector 1's
    // interrupt gate, no stack switch; EFLAGS, CS, EIP pushed below ESP 9000H (§6.12.1).
    const { status, m } = enter({ GUEST_PENDING_DEBUG_EXCEPTIONS: 0x1000n, GUEST_RFLAGS: IF });
    expect(status).toBe(STATUS_VMENTRY);
    m.vmcall(0);
    expect(read(m, 'GUEST_RIP')).toBe(BigInt(handlerOf(1)));
    expect(read(m, 'GUEST_RSP')).toBe(0x9000n - 12n);
    expect(read(m, 'GUEST_RFLAGS')).toBe(2n); // IF cleared by the interrupt gate
    expect(read(m, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(0n);
    expect([m.readMemory(0x8ff4, 0), m.readMemory(0x8ff8, 0), m.readMemory(0x8ffc, 0)]).toEqual([0x1000, 0x8, 0x202]);
  });

  it('with "monitor trap flag" = 1 the MTF VM exit follows the #DB\'s delivery (§26.5.2), at the handler', () => {
    const mtf = { PRIMARY_PROCESSOR_BASED_CONTROLS: primary | bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG) };
    const { status, m } = enter(mtf, { GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000n });
    expect(status).toBe(STATUS_VMEXIT);
    expect(m.exitReason).toBe(EXIT_REASON.MONITOR_TRAP_FLAG);
    expect(read(m, 'GUEST_RIP')).toBe(BigInt(handlerOf(1)));
  });
});

describe('§27.7.5: virtual-interrupt delivery', () => {
  it('a virtual interrupt recognized at VM entry (RVI[7:4] > VPPR[7:4], RFLAGS.IF = 1) is delivered through the guest IDT: not implemented', () => {
    const vid = {
      PIN_BASED_CONTROLS: pin | bit(PIN_CONTROL.EXTERNAL_INTERRUPT_EXITING),
      PRIMARY_PROCESSOR_BASED_CONTROLS: primary | bit(PRIMARY_CONTROL.USE_TPR_SHADOW),
      SECONDARY_PROCESSOR_BASED_CONTROLS: secondary | bit(SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY),
      GUEST_RFLAGS: IF,
    };
    expect(enter(vid, { GUEST_INTERRUPT_STATUS: 0x30n }).status).toBe(STATUS_ENTRY_EVENT_UNIMPLEMENTED);
    expect(enter(vid, { GUEST_INTERRUPT_STATUS: 0x0n }).status).toBe(STATUS_VMENTRY);
    expect(enter(vid, { GUEST_INTERRUPT_STATUS: 0x30n, GUEST_RFLAGS: 2n }).status).toBe(STATUS_VMENTRY);
  });
});

describe('a vectoring VM entry: the exits would follow the delivery of the event', () => {
  it('the timer, the TPR threshold, the NMI window: VM exits after the delivery, saving the handler state', () => {
    for (const [changes, reason] of [
      [TIMER, EXIT_REASON.PREEMPTION_TIMER_EXPIRED],
      [TPR, EXIT_REASON.TPR_BELOW_THRESHOLD],
      [NMI_WINDOW, EXIT_REASON.NMI_WINDOW],
    ] as const) {
      const { status, m } = enter(changes, { VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 6) });
      expect(status).toBe(STATUS_VMEXIT);
      expect(m.exitReason).toBe(reason);
      expect(read(m, 'GUEST_RIP')).toBe(BigInt(handlerOf(6)));
    }
  });

  it('an external interrupt through an interrupt gate clears RFLAGS.IF: the interrupt window stays closed', () => {
    const { status, m } = enter(INTERRUPT_WINDOW, { VM_ENTRY_INTERRUPTION_INFORMATION: event(0, 0x20) });
    expect(status).toBe(STATUS_VMENTRY);
    m.vmcall(0);
    expect(read(m, 'GUEST_RIP')).toBe(BigInt(handlerOf(0x20)));
    expect(read(m, 'GUEST_RFLAGS')).toBe(2n);
  });

  it('an injected NMI blocks the NMI window; RFLAGS.IF = 0 keeps the interrupt window closed; the pending debug exceptions are dropped', () => {
    expect(enter(NMI_WINDOW, { VM_ENTRY_INTERRUPTION_INFORMATION: event(2, 2) }).status).toBe(STATUS_VMENTRY);
    expect(enter(INTERRUPT_WINDOW, { GUEST_RFLAGS: 2n, VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 6) }).status).toBe(STATUS_VMENTRY);
    const { status, m } = enter(PENDING_DB, { VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 6) });
    expect(status).toBe(STATUS_VMENTRY);
    m.vmcall(0);
    expect(read(m, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(0n);
  });

  it('a software exception injected under blocking by MOV SS keeps valid pending debug exceptions: not implemented', () => {
    const softwareUnderMovSs = { VM_ENTRY_INTERRUPTION_INFORMATION: event(6, 3), VM_ENTRY_INSTRUCTION_LENGTH: 1n, GUEST_INTERRUPTIBILITY_STATE: 2n };
    expect(enter(PENDING_DB, softwareUnderMovSs).status).toBe(STATUS_ENTRY_EVENT_UNIMPLEMENTED);
  });

  it('with "monitor trap flag" = 1 the MTF VM exit is pending before the handler\'s first instruction (§26.5.2)', () => {
    const { status, m } = enter({ PRIMARY_PROCESSOR_BASED_CONTROLS: primary | bit(PRIMARY_CONTROL.MONITOR_TRAP_FLAG), VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 6) });
    expect(status).toBe(STATUS_VMEXIT);
    expect(m.exitReason).toBe(EXIT_REASON.MONITOR_TRAP_FLAG);
    expect(read(m, 'GUEST_RIP')).toBe(BigInt(handlerOf(6)));
  });
});
