/**
 * Set-up of the event-delivery tests: the valid VMCS (test/impl/vm-entry-vmcs.ts) with the guest
 * environment of test/impl/guest-environment.ts in memory (written with the machine's public
 * write-memory), launched with an injected event; after the guest's VMCALL the host reads the
 * state the delivery left with VMREAD and the frame it pushed from physical memory. Expected
 * values come from the SDM text (Vol. 3A chapter 6, Vol. 3C §27.6.1.1) and the layout.
 */
import { expect } from 'vitest';
import { type ImplMachine, STATUS_VMENTRY } from '../../../impl/index.ts';
import { ENTRY_CONTROL } from '../../../spec/control-bits.ts';
import { SKYLAKE } from '../fixtures.ts';
import { type FieldName, validVmcs } from '../vm-entry-vmcs.ts';
import { prepared, profileOf, read } from '../vm-exit/rig.ts';

export { read } from '../vm-exit/rig.ts';

/** Bits 31 (valid), 10:8 (type), 11 (error code), 7:0 (vector) of the VM-entry interruption information. */
export const event = (type: number, vector: number, errorCode = false): bigint => (1n << 31n) | BigInt(type << 8) | BigInt(vector) | (errorCode ? 1n << 11n : 0n);

const skylake = validVmcs(profileOf(SKYLAKE));
const valid = (name: FieldName): bigint => skylake.get(name) as bigint;

/** Changes making the valid guest a 64-bit guest ("IA-32e mode guest", CS.L = 1, IA32_EFER.LMA/LME). */
export const LONG: Partial<Record<FieldName, bigint>> = {
  VM_ENTRY_CONTROLS: valid('VM_ENTRY_CONTROLS') | (1n << BigInt(ENTRY_CONTROL.IA32E_MODE_GUEST)),
  GUEST_CS_ACCESS_RIGHTS: 0xa09bn,
  GUEST_IA32_EFER: 0x500n,
};

/** The valid field value `name` of the Skylake profile. */
export const validField = valid;

/**
 * A machine whose guest was entered with `changes` and `memory` (after the guest environment);
 * the VMLAUNCH status is returned with it.
 */
export function enter(changes: Partial<Record<FieldName, bigint>>, memory: readonly (readonly [number, number])[] = []): { m: ImplMachine; status: number } {
  const m = prepared({ changes, memory });
  return { m, status: m.vmlaunch(0) };
}

/** As {@link enter}, expecting the guest to run; then its VMCALL exits, so VMREAD reads the state. */
export function delivered(changes: Partial<Record<FieldName, bigint>>, memory: readonly (readonly [number, number])[] = []): ImplMachine {
  const { m, status } = enter(changes, memory);
  expect(status, m.delivery.what || m.events.unimplementedWhat).toBe(STATUS_VMENTRY);
  m.vmcall(0);
  return m;
}

/** `count` 8-byte stack slots from `address` up, as bigints. */
export function slots(m: ImplMachine, address: number, count: number): bigint[] {
  return Array.from({ length: count }, (_, i) => (BigInt(m.readMemory(address + 8 * i + 4, 0)) << 32n) | BigInt(m.readMemory(address + 8 * i, 0)));
}

/** `count` 4-byte stack slots from `address` up. */
export function dwords(m: ImplMachine, address: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => m.readMemory(address + 4 * i, 0));
}

/** A field read as a number. */
export const field = (m: ImplMachine, name: FieldName): number => Number(read(m, name));
