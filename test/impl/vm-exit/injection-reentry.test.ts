/**
 * Event injection as the VM entry's observation reports it (SDM Vol. 3C, December 2023, §27.6
 * "Event Injection", §27.6.2 "Injection of Pending MTF VM Exits", §27.7.1 "Interruptibility
 * State", §26.5.2 "Monitor Trap Flag"), and re-entry after a VM exit (§31.3
 * "VMLAUNCH/VMRESUME—Launch/Resume Virtual Machine": VMLAUNCH needs a clear VMCS, error 4;
 * VMRESUME a launched one). Expected values from the SDM text.
 */
import { describe, expect, it } from 'vitest';
import { createImplEngine, STATUS_VMENTRY, STATUS_VMEXIT } from '../../../impl/index.ts';
import { PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { SKYLAKE } from '../fixtures.ts';
import { loadVmcsOperations, validVmcs } from '../vm-entry-vmcs.ts';
import { launched, prepared, profileOf, read, write } from './rig.ts';
import { handlerOf } from '../guest-environment.ts';

const VALID = 1n << 31n;
const event = (type: number, vector: number, errorCode = false): bigint => VALID | BigInt(type << 8) | BigInt(vector) | (errorCode ? 1n << 11n : 0n);
const skylake = validVmcs(profileOf(SKYLAKE));
const primary = skylake.get('PRIMARY_PROCESSOR_BASED_CONTROLS') as bigint;

/** The engine's observation of VMLAUNCH with `changes` to the valid VMCS. */
function launchObservation(changes: Record<string, bigint>) {
  const profile = profileOf(SKYLAKE);
  const fields = validVmcs(profile);
  for (const [name, value] of Object.entries(changes)) fields.set(name as never, value);
  const engine = createImplEngine({ profile: SKYLAKE, logicalProcessors: 1 });
  for (const op of loadVmcsOperations(profile, fields)) engine.step(op);
  return engine.step({ kind: 'vmlaunch', cpu: 0 });
}

describe('event injection in the VM entry observation', () => {
  it('reports the injected event: vector and type, and the error code when delivered with one', () => {
    expect(launchObservation({ VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 13, true), VM_ENTRY_EXCEPTION_ERROR_CODE: 0x18n })).toEqual({
      kind: 'vmentry',
      injected: { vector: 13, type: 3, errorCode: '0x18' },
      flags: 0,
    });
    expect(launchObservation({ VM_ENTRY_INTERRUPTION_INFORMATION: event(0, 0x20), GUEST_RFLAGS: 0x202n })).toEqual({
      kind: 'vmentry',
      injected: { vector: 0x20, type: 0 },
      flags: 0,
    });
    expect(launchObservation({})).toEqual({ kind: 'vmentry', flags: 0 });
  });

  it('after a vectoring entry there is no blocking by STI or MOV SS (saved as 0 at the next exit)', () => {
    const m = launched({ changes: { VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 6), GUEST_RFLAGS: 0x202n, GUEST_INTERRUPTIBILITY_STATE: 1n } });
    m.vmcall(0);
    expect(read(m, 'GUEST_INTERRUPTIBILITY_STATE')).toBe(0n);
  });

  it('an injected NMI blocks NMIs (saved at the next exit)', () => {
    const m = launched({ changes: { VM_ENTRY_INTERRUPTION_INFORMATION: event(2, 2) } });
    m.vmcall(0);
    expect(read(m, 'GUEST_INTERRUPTIBILITY_STATE')).toBe(8n);
  });

  it('an injected "other event" (type 7, vector 0) is an MTF VM exit before the first guest instruction', () => {
    const m = prepared({ changes: { PRIMARY_PROCESSOR_BASED_CONTROLS: primary, VM_ENTRY_INTERRUPTION_INFORMATION: event(7, 0), GUEST_PENDING_DEBUG_EXCEPTIONS: 1n << 12n } });
    expect(m.vmlaunch(0)).toBe(STATUS_VMEXIT);
    expect(m.exitReason).toBe(EXIT_REASON.MONITOR_TRAP_FLAG);
    expect(read(m, 'EXIT_REASON')).toBe(BigInt(EXIT_REASON.MONITOR_TRAP_FLAG));
    expect(read(m, 'GUEST_RIP')).toBe(0x1000n);
    // No instruction ran: the pending debug exceptions VM entry loaded are saved (§28.3.4).
    expect(read(m, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(1n << 12n);
    // The VMCS is launched: VMRESUME re-enters (the exit cleared the injection's valid bit), and
    // the saved enabled-breakpoint bit is now a valid pending debug exception, a #DB after the
    // entry: a VM exit when #DB is in the exception bitmap (§27.7.3).
    write(m, 'EXCEPTION_BITMAP', 1n << 1n);
    expect(m.vmresume(0)).toBe(STATUS_VMEXIT);
    expect(m.exitReason).toBe(EXIT_REASON.EXCEPTION_OR_NMI);
  });

  it('with "monitor trap flag" = 1 a vectoring entry ends in the MTF VM exit before the handler\'s first instruction (§26.5.2)', () => {
    const m = prepared({ changes: { PRIMARY_PROCESSOR_BASED_CONTROLS: primary | (1n << BigInt(PRIMARY_CONTROL.MONITOR_TRAP_FLAG)), VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 6) } });
    expect(m.vmlaunch(0)).toBe(STATUS_VMEXIT);
    expect(m.exitReason).toBe(EXIT_REASON.MONITOR_TRAP_FLAG);
    expect(read(m, 'GUEST_RIP')).toBe(BigInt(handlerOf(6)));
  });
});

describe('re-entry after a VM exit', () => {
  it('VMLAUNCH of the launched VMCS fails with error 4; VMRESUME re-enters', () => {
    const m = launched();
    m.vmcall(0);
    expect(m.vmlaunch(0)).toBe(VM_ERROR.VMLAUNCH_NON_CLEAR);
    expect(m.vmread(0, FIELD.VM_INSTRUCTION_ERROR, 0)).toBe(0);
    expect(m.resultLo).toBe(4);
    expect(m.vmresume(0)).toBe(STATUS_VMENTRY);
    expect(m.inVmxNonRoot(0)).toBe(true);
  });

  it('a thousand exits and re-entries, each exit saving the RIP the guest reached', () => {
    const m = launched();
    for (let i = 1; i <= 1000; i++) {
      m.advanceRip(0, 3);
      expect(m.vmcall(0)).toBe(STATUS_VMEXIT);
      expect(m.inVmxNonRoot(0)).toBe(false);
      expect(m.vmresume(0)).toBe(STATUS_VMENTRY);
    }
    m.vmcall(0);
    expect(read(m, 'GUEST_RIP')).toBe(0x1000n + 3000n);
  });
});
