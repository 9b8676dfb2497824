/**
 * Shared set-up of the VM-exit tests: a machine on which the valid VMCS of
 * test/impl/vm-entry-vmcs.ts (a 32-bit PAE guest at RIP 1000H, 64-bit host at RIP 400000H), with
 * some fields changed, has been launched. Field values are read back with VMREAD in VMX root
 * operation after the exit, as a hypervisor reads them.
 */
import { expect } from 'vitest';
import { createImplMachine, ImplMachine, STATUS_SUCCEED, STATUS_VMENTRY } from '../../../impl/index.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { ProfileData } from '../../../spec/profile-data.ts';
import { createProfile, type Profile } from '../../../spec/profile.ts';
import { SKYLAKE } from '../fixtures.ts';
import { type FieldName, validVmcs } from '../vm-entry-vmcs.ts';
import { environmentFor } from '../guest-environment.ts';

/** The VMCS region of the rig, and its VMXON region. */
export const VMCS = 0x2000;
export const VMXON = 0x1000;
/** The MSR areas the tests lay out (all in page 60000H). */
export const STORE_AREA = 0x6_0000;
export const LOAD_AREA = 0x6_0800;

const profiles = new Map<ProfileData, Profile>();
export function profileOf(data: ProfileData): Profile {
  let profile = profiles.get(data);
  if (profile === undefined) {
    profile = createProfile(data);
    profiles.set(data, profile);
  }
  return profile;
}

export interface RigSetting {
  profile?: ProfileData;
  /** Fields to change from the valid VMCS (or to add). */
  changes?: Partial<Record<FieldName, bigint>>;
  /** 32-bit words of physical memory to write before VMLAUNCH. */
  memory?: readonly (readonly [number, number])[];
  /** IA32_EFER.LMA = 0 and CS.L = 0 at VMLAUNCH (a 32-bit host). */
  legacy?: boolean;
}

/** Writes a 64-bit field with VMWRITE (in 64-bit mode); the status must be VMsucceed. */
export function write(m: ImplMachine, name: FieldName, value: bigint): void {
  expect(m.vmwrite(0, FIELD[name], 0, Number(value & 0xffff_ffffn), Number(value >> 32n))).toBe(STATUS_SUCCEED);
}

/** VMREAD of a field in VMX root operation, as a bigint (64 bits in 64-bit mode). */
export function read(m: ImplMachine, name: FieldName): bigint {
  expect(m.vmread(0, FIELD[name], 0)).toBe(STATUS_SUCCEED);
  return (BigInt(m.resultHi) << 32n) | BigInt(m.resultLo);
}

/** A machine with the VMCS loaded and written, before VMLAUNCH. */
export function prepared(setting: RigSetting = {}): ImplMachine {
  const profile = profileOf(setting.profile ?? SKYLAKE);
  const m = createImplMachine({ profile: profile.data, logicalProcessors: 1 });
  m.writeMemory(0, VMXON, 0, profile.revisionId);
  m.writeMemory(0, VMCS, 0, profile.revisionId);
  expect(m.vmxon(0, VMXON, 0) | m.vmclear(0, VMCS, 0) | m.vmptrld(0, VMCS, 0)).toBe(0);
  const fields = validVmcs(profile);
  for (const [name, value] of Object.entries(setting.changes ?? {}) as [FieldName, bigint][]) fields.set(name, value);
  for (const [name, value] of fields) write(m, name, value);
  for (const [address, word] of environmentFor(fields)) m.writeMemory(0, address, 0, word);
  for (const [address, word] of setting.memory ?? []) m.writeMemory(0, address, 0, word);
  if (setting.legacy === true) {
    m.setState(0, 0, 0); // SET_EFER_LMA
    m.setState(0, 1, 0); // SET_CS_L
  }
  return m;
}

/** A machine whose guest runs (VMLAUNCH entered it). */
export function launched(setting: RigSetting = {}): ImplMachine {
  const m = prepared(setting);
  expect(m.vmlaunch(0)).toBe(STATUS_VMENTRY);
  return m;
}

/** The MSR-area entry for `index` (bits 31:0) with `high` in bits 63:32 and data (lo, hi): four words at `address`. */
export function msrEntry(address: number, index: number, dataLo = 0, dataHi = 0, high = 0): [number, number][] {
  return [
    [address, index],
    [address + 4, high],
    [address + 8, dataLo],
    [address + 12, dataHi],
  ];
}
