/**
 * ImplMachine.checkVmEntry: the VM-entry checks of VMLAUNCH/VMRESUME without entering (SDM Vol. 3C,
 * December 2023, §27.2 "Checks on VMX Controls and Host-State Area", §27.3.1 "Checks on the Guest
 * State Area"): the same verdict as VMLAUNCH, and no effect on the machine.
 */
import { describe, expect, it } from 'vitest';
import { createImplMachine, STATUS_ENTRY_FAILURE, STATUS_FAIL_INVALID, STATUS_VMENTRY } from '../../impl/index.ts';
import { FIELD } from '../../spec/fields.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { validVmcs, type FieldName } from './vm-entry-vmcs.ts';

const profile = loadProfile('skylake');

function machineWith(changes: Partial<Record<FieldName, bigint>> = {}) {
  const m = createImplMachine({ profile: profile.data, logicalProcessors: 1 });
  m.writeMemory(0, 0x1000, 0, profile.revisionId);
  m.writeMemory(0, 0x2000, 0, profile.revisionId);
  m.vmxon(0, 0x1000, 0);
  m.vmclear(0, 0x2000, 0);
  m.vmptrld(0, 0x2000, 0);
  const fields = validVmcs(profile);
  for (const [name, value] of Object.entries(changes)) fields.set(name as FieldName, value);
  for (const [name, value] of fields) m.vmwrite(0, FIELD[name], 0, Number(value & 0xffff_ffffn), Number(value >> 32n));
  return m;
}

describe('checkVmEntry', () => {
  it('passes (0) for the valid VMCS, which VMLAUNCH then enters', () => {
    const m = machineWith();
    expect(m.checkVmEntry(0)).toBe(0);
    expect(m.vmlaunch(0)).toBe(STATUS_VMENTRY);
  });

  it('leaves the machine as it was: the VMCS stays clear and processor 0 in VMX root operation', () => {
    const m = machineWith();
    const before = m.snapshot();
    m.checkVmEntry(0);
    const after = m.snapshot();
    expect(after.state).toEqual(before.state);
    expect(after.memory.words).toEqual(before.memory.words);
    expect(m.inVmxNonRoot(0)).toBe(false);
  });

  it('gives VMLAUNCH\'s VM-instruction error 7 for a control field with a reserved bit set (the pin-based controls allow no bit 31)', () => {
    const m = machineWith({ PIN_BASED_CONTROLS: validVmcs(profile).get('PIN_BASED_CONTROLS')! | (1n << 31n) });
    expect(m.checkVmEntry(0)).toBe(7);
    expect(m.vmlaunch(0)).toBe(7);
  });

  it('gives error 8 for a host-state field that fails (host CS selector 0)', () => {
    const m = machineWith({ HOST_CS_SELECTOR: 0n });
    expect(m.checkVmEntry(0)).toBe(8);
    expect(m.vmlaunch(0)).toBe(8);
  });

  it('gives STATUS_ENTRY_FAILURE for a guest-state field that fails (reserved RFLAGS bit 15 set)', () => {
    const m = machineWith({ GUEST_RFLAGS: validVmcs(profile).get('GUEST_RFLAGS')! | (1n << 15n) });
    expect(m.checkVmEntry(0)).toBe(STATUS_ENTRY_FAILURE);
    expect(m.vmlaunch(0)).toBe(STATUS_ENTRY_FAILURE);
  });

  it('gives STATUS_FAIL_INVALID without a current VMCS', () => {
    const m = createImplMachine({ profile: profile.data, logicalProcessors: 1 });
    expect(m.checkVmEntry(0)).toBe(STATUS_FAIL_INVALID);
  });
});
