/**
 * Set-up shared by the tests of the VMX instructions a guest executes: a rig in VMX non-root
 * operation after a successful VMLAUNCH of the valid VMCS (test/impl/vm-entry-vmcs.ts) with some
 * fields changed, and reading the exit information back with VMREAD in VMX root operation after
 * the VM exit, as a hypervisor does.
 */
import { expect } from 'vitest';
import { ENTRY_CONTROL as ENTRY, PRIMARY_CONTROL as PRIMARY } from '../../../spec/control-bits.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Observation } from '../../../spec/observations.ts';
import type { Operation } from '../../../spec/operations.ts';
import type { ProfileData } from '../../../spec/profile-data.ts';
import { createProfile } from '../../../spec/profile.ts';
import { hex, Rig, SKYLAKE } from '../fixtures.ts';
import { bit, type Changes, fieldsOf } from '../vm-entry-rig.ts';
import { loadVmcsOperations } from '../vm-entry-vmcs.ts';

/** `valid | mask`, as a field change. */
export const or = (mask: bigint) => (valid: bigint) => valid | mask;

/** A 64-bit guest: "IA-32e mode guest" and a CS with L = 1 (the valid VMCS's guest is 32-bit protected mode). */
export const SIXTY_FOUR: Changes = { VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)), GUEST_CS_ACCESS_RIGHTS: 0xa09bn };
/** A guest in compatibility mode: IA-32e mode guest with CS.L = 0. */
export const COMPATIBILITY: Changes = { VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)) };
/** The secondary controls activated with `bits` set. */
export const secondary = (...bits: number[]): Changes => ({
  PRIMARY_PROCESSOR_BASED_CONTROLS: or(bit(PRIMARY.ACTIVATE_SECONDARY_CONTROLS)),
  SECONDARY_PROCESSOR_BASED_CONTROLS: bits.reduce((sum, b) => sum | bit(b), 0n),
});

/** Guest RIP of the valid VMCS. */
export const GUEST_RIP = 0x1000n;

export const ENTERED = { kind: 'vmentry', flags: 0 } as const;
export const exit = (reason: number) => ({ kind: 'vmexit', reason, flags: 0 }) as const;

/** What a guest step may be prepared with. */
export interface GuestSetting {
  changes?: Changes;
  profile?: ProfileData;
  /** 32-bit words written to physical memory before VMLAUNCH. */
  memory?: readonly (readonly [number, number])[];
  /** Operations run in VMX root operation after the VMCS is loaded, before VMLAUNCH (the VMCS is made current again after them). */
  before?: readonly Operation[];
  /** The arithmetic flags of the guest RFLAGS field, which the VM entry's observation reports (default 0). */
  flags?: number;
}

/** A rig whose cpu 0 runs the guest of the valid VMCS (at 0x2000) with the setting applied. */
export function guest(setting: GuestSetting = {}): Rig {
  const profile = setting.profile ?? SKYLAKE;
  const rig = new Rig(profile);
  for (const seen of rig.run(loadVmcsOperations(createProfile(profile), fieldsOf({ profile, changes: setting.changes ?? {} })))) {
    expect(['ok', 'vmsucceed']).toContain(seen.kind);
  }
  for (const [address, word] of setting.memory ?? []) {
    rig.step({ kind: 'write-memory', cpu: 0, address: hex(address), value: hex(word >>> 0) });
  }
  if (setting.before !== undefined) {
    for (const op of setting.before) expect(['ok', 'vmsucceed']).toContain(rig.step(op).kind);
    expect(rig.vmptrld(0x2000).kind).toBe('vmsucceed');
  }
  expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toEqual({ ...ENTERED, flags: setting.flags ?? 0 });
  return rig;
}

/** The value a host VMREAD of `field` returns (in VMX root operation, 64-bit host). */
export function hostRead(rig: Rig, field: number): bigint {
  const seen: Observation = rig.vmread(field);
  if (seen.kind !== 'vmsucceed' || seen.value === undefined) throw new Error(`VMREAD ${hex(field)} gave ${JSON.stringify(seen)}`);
  return BigInt(seen.value);
}

/** The exit information a hypervisor reads after a VM exit. */
export function exitInformation(rig: Rig): { reason: bigint; qualification: bigint; length: bigint; information: bigint } {
  return {
    reason: hostRead(rig, FIELD.EXIT_REASON),
    qualification: hostRead(rig, FIELD.EXIT_QUALIFICATION),
    length: hostRead(rig, FIELD.VM_EXIT_INSTRUCTION_LENGTH),
    information: hostRead(rig, FIELD.VM_EXIT_INSTRUCTION_INFORMATION),
  };
}
