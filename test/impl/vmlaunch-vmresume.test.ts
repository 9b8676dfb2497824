/**
 * VMLAUNCH and VMRESUME up to the start of VM entry, from SDM Vol. 3C, December 2023, §31.3
 * "VMLAUNCH/VMRESUME—Launch/Resume Virtual Machine" and §27.1 "Basic VM-Entry Checks". A VMCS
 * that passes every later check (test/impl/vm-entry-vmcs.ts) enters the guest; the later phases
 * have their own tests (vm-entry-*.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { LAUNCH_STATE_LAUNCHED, REGION_LAUNCH_WORD } from '../../impl/field-table.ts';
import { FIELD } from '../../spec/fields.ts';
import { FAIL_INVALID, failValid, GP, hex, Rig, SUCCEED, UD, value, VMCS_A, VMCS_B } from './fixtures.ts';
import { validVmcsWrites } from './vm-entry-vmcs.ts';

/** Writes a VMCS that passes the checks on controls and host state (test/impl/vm-entry-vmcs.ts). */
function writeValidVmcs(rig: Rig): void {
  for (const seen of rig.run(validVmcsWrites(rig.profile))) expect(seen).toEqual(SUCCEED);
}

/** The VM entry completed; the flags are those of the guest RFLAGS field (2: none). */
const entered = { kind: 'vmentry', flags: 0 } as const;

describe('VMLAUNCH', () => {
  it('enters the guest for a current VMCS whose launch state is clear', () => {
    const rig = new Rig().enterWithVmcs();
    writeValidVmcs(rig);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(entered);
  });

  it('reports the guest RFLAGS arithmetic flags after entering, not the flags before', () => {
    const rig = new Rig().enterWithVmcs();
    writeValidVmcs(rig);
    rig.vmwrite(FIELD.GUEST_RFLAGS, 0x8d7);
    rig.vmread(0x0fff);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual({ kind: 'vmentry', flags: 0x8d5 });
  });

  it('fails invalid when no VMCS is current', () => {
    const rig = new Rig().enter();
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(FAIL_INVALID);
  });

  it('fails invalid when the current VMCS is a shadow VMCS', () => {
    const rig = new Rig().enter();
    rig.layOut(VMCS_A, 0, 0x8000_0000);
    expect(rig.vmptrld(VMCS_A)).toEqual(SUCCEED);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(FAIL_INVALID);
    expect(rig.step({ kind: 'vmresume', cpu: 0 })).toEqual(FAIL_INVALID);
  });

  it('takes the shadow-VMCS indicator from the region at each VMPTRLD (impl choice)', () => {
    const rig = new Rig().enter();
    rig.layOut(VMCS_A, 0, 0x8000_0000);
    rig.vmptrld(VMCS_A);
    rig.layOut(VMCS_A);
    rig.vmptrld(VMCS_A);
    writeValidVmcs(rig);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(entered);
  });

  it('fails with error 26 when events are blocked by MOV SS, before looking at the launch state', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('mov-ss-blocking', 1);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(failValid(26));
    rig.set('mov-ss-blocking', 1);
    expect(rig.step({ kind: 'vmresume', cpu: 0 })).toEqual(failValid(26));
    expect(rig.vmread(FIELD.VM_INSTRUCTION_ERROR)).toEqual(value('0x1a'));
  });

  it('raises #UD outside VMX operation and in virtual-8086 mode, #GP(0) at CPL > 0', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(UD());
    rig.enterWithVmcs();
    rig.set('rflags.vm', 1);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(UD());
    rig.set('rflags.vm', 0);
    rig.set('cpl', 3);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(GP());
  });
});

describe('VMLAUNCH past the basic checks', () => {
  it('checks the controls next: a zeroed VMCS lacks the must-be-1 pin-based controls, VMfailValid(7)', () => {
    // A zeroed VMCS also fails host-state checks (error 8 would be allowed too); impl checks the controls first.
    const rig = new Rig().enterWithVmcs();
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(failValid(7));
    expect(rig.vmread(FIELD.VM_INSTRUCTION_ERROR)).toEqual(value('0x7'));
  });
});

describe('VMRESUME', () => {
  it('fails with error 5 for a VMCS whose launch state is clear', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step({ kind: 'vmresume', cpu: 0 })).toEqual(failValid(5));
  });

  it('fails invalid when no VMCS is current', () => {
    const rig = new Rig().enter();
    expect(rig.step({ kind: 'vmresume', cpu: 0 })).toEqual(FAIL_INVALID);
  });

  it('raises #UD in compatibility mode', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('cs.l', 0);
    expect(rig.step({ kind: 'vmresume', cpu: 0 })).toEqual(UD());
  });
});

describe('launch state kept in the VMCS region (impl layout)', () => {
  const markLaunched = (rig: Rig, region: number) =>
    rig.step({ kind: 'write-memory', cpu: 0, address: hex(region + 4 * REGION_LAUNCH_WORD), value: hex(LAUNCH_STATE_LAUNCHED) });

  it('a region marked launched gives VMLAUNCH error 4 and lets VMRESUME reach VM entry', () => {
    const rig = new Rig().enter();
    rig.layOut(VMCS_B);
    markLaunched(rig, VMCS_B);
    expect(rig.vmptrld(VMCS_B)).toEqual(SUCCEED);
    writeValidVmcs(rig);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(failValid(4));
    expect(rig.step({ kind: 'vmresume', cpu: 0 })).toEqual(entered);
  });

  it('VMCLEAR makes the launch state clear again', () => {
    const rig = new Rig().enter();
    rig.layOut(VMCS_B);
    markLaunched(rig, VMCS_B);
    rig.vmptrld(VMCS_B);
    expect(rig.vmclear(VMCS_B)).toEqual(SUCCEED);
    rig.vmptrld(VMCS_B);
    writeValidVmcs(rig);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(entered);
  });

  it('the launch state survives VMXOFF when the VMCS was not cleared', () => {
    const rig = new Rig().enter();
    rig.layOut(VMCS_B);
    markLaunched(rig, VMCS_B);
    rig.vmptrld(VMCS_B);
    rig.vmxoff();
    rig.vmxon();
    rig.vmptrld(VMCS_B);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual(failValid(4));
  });
});
