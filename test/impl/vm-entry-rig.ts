/**
 * Shared set-up of the VM-entry (phase one) tests: launch a valid VMCS with some fields changed,
 * and the table format of the per-check cases. Every check of the catalogue's control and host
 * groups gets one case: a VMCS that fails only that check (or, where the SDM makes that
 * impossible, that check among others of the same error) and a neighbouring VMCS that passes.
 * Expected outcomes come from the SDM text: VMfailValid(7) for the control checks, (8) for the
 * host-state checks (SDM Vol. 3C, December 2023, §27.2 "Checks on VMX Controls and Host-State
 * Area" and §31.4 "VM Instruction Error Numbers"), and for a VMCS that passes them, that VM entry
 * goes on (with the valid guest state: the guest runs).
 */
import { expect } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { ENTRY_FIELDS, entryFactsFor, type EntryFacts, type EntryField } from '../../impl/vm-entry/facts.ts';
import { GUEST_PHASE_FIELDS, guestFactsFor, segmentWords, type GuestFacts } from '../../impl/vm-entry/guest-facts.ts';

type GuestField = (typeof GUEST_PHASE_FIELDS)[number];
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD, fieldByEncoding } from '../../spec/fields.ts';
import type { Observation } from '../../spec/observations.ts';
import type { ProfileData } from '../../spec/profile-data.ts';
import { createProfile, type Profile } from '../../spec/profile.ts';
import { SKYLAKE } from './fixtures.ts';
import { type FieldName, loadVmcsOperations, validVmcs } from './vm-entry-vmcs.ts';

/** A change to one field: a new value, or a function of the valid value. */
export type Change = bigint | ((valid: bigint) => bigint);
export type Changes = Partial<Record<FieldName, Change>>;

/** How the VMLAUNCH is made. */
export interface Setting {
  profile?: ProfileData;
  changes?: Changes;
  /** IA32_EFER.LMA = 0 and CS.L = 0 at VMLAUNCH (after the fields were written in 64-bit mode). */
  legacy?: boolean;
  /** Byte 80H of the virtual-APIC page. */
  vtpr?: number;
  /** 32-bit words of physical memory written before VMLAUNCH (PDPTEs, MSR-load areas, a link-pointer region). */
  memory?: readonly (readonly [bigint, bigint])[];
}

/** One case of the table: a VMCS failing the check and one passing it. */
export interface CheckCase {
  id: string;
  fail: Setting;
  pass: Setting;
}

/** `1n << position`. */
export const bit = (position: number): bigint => 1n << BigInt(position);

const profiles = new Map<ProfileData, Profile>();
function profileOf(data: ProfileData): Profile {
  let profile = profiles.get(data);
  if (profile === undefined) {
    profile = createProfile(data);
    profiles.set(data, profile);
  }
  return profile;
}

/** The valid VMCS of the setting's profile with its changes applied. */
export function fieldsOf(setting: Setting): Map<FieldName, bigint> {
  const profile = profileOf(setting.profile ?? SKYLAKE);
  const fields = validVmcs(profile);
  for (const [name, change] of Object.entries(setting.changes ?? {}) as [FieldName, Change][]) {
    const valid = fields.get(name) ?? 0n;
    fields.set(name, typeof change === 'function' ? change(valid) : change);
  }
  return fields;
}

/** Runs the setting up to and including VMLAUNCH; returns the VMLAUNCH's observation and a VMREAD of the error field after it. */
export function launch(setting: Setting): { launch: Observation; error: Observation; exitReason: Observation; qualification: Observation } {
  const profile = profileOf(setting.profile ?? SKYLAKE);
  const engine = createImplEngine({ profile: profile.data, logicalProcessors: 1 });
  for (const op of loadVmcsOperations(profile, fieldsOf(setting), BigInt(setting.vtpr ?? 0))) {
    const seen = engine.step(op);
    if (seen.kind !== 'ok' && seen.kind !== 'vmsucceed') throw new Error(`set-up ${JSON.stringify(op)} gave ${JSON.stringify(seen)}`);
  }
  for (const [address, word] of setting.memory ?? []) {
    engine.step({ kind: 'write-memory', cpu: 0, address: `0x${address.toString(16)}`, value: `0x${word.toString(16)}` });
  }
  if (setting.legacy === true) {
    engine.step({ kind: 'set', cpu: 0, what: 'efer.lma', value: 0 });
    engine.step({ kind: 'set', cpu: 0, what: 'cs.l', value: 0 });
  }
  const result = engine.step({ kind: 'vmlaunch', cpu: 0 });
  const error = engine.step({ kind: 'vmread', cpu: 0, encoding: `0x${FIELD.VM_INSTRUCTION_ERROR.toString(16)}` });
  const exitReason = engine.step({ kind: 'vmread', cpu: 0, encoding: `0x${FIELD.EXIT_REASON.toString(16)}` });
  const qualification = engine.step({ kind: 'vmread', cpu: 0, encoding: `0x${FIELD.EXIT_QUALIFICATION.toString(16)}` });
  return { launch: result, error, exitReason, qualification };
}

/** Exit reason 33 (invalid guest state) with bit 31 set, as the observation and the VMCS field report it. */
export const INVALID_GUEST_STATE = 0x8000_0021;
/** Exit reason 34 (MSR loading) with bit 31 set. */
export const MSR_LOADING = 0x8000_0022;

/**
 * Expects a VM-entry failure (§27.8 "VM-Entry Failures During or After Loading Guest State"):
 * the observation, then VMREADs in VMX root operation (the host is back, 64-bit) of the exit
 * reason and qualification fields.
 */
export function expectEntryFailure(setting: Setting, exitReason: number, qualification: number): void {
  const seen = launch(setting);
  expect(seen.launch).toEqual({ kind: 'vmentry-failure', exitReason, qualification: `0x${qualification.toString(16)}`, flags: 0 });
  expect(seen.exitReason).toEqual({ kind: 'vmsucceed', value: `0x${exitReason.toString(16)}`, flags: 0 });
  expect(seen.qualification).toEqual({ kind: 'vmsucceed', value: `0x${qualification.toString(16)}`, flags: 0 });
}

/** Expects a VM-entry failure due to invalid guest state with `qualification`. */
export function expectGuestFailure(setting: Setting, qualification = 0): void {
  expectEntryFailure(setting, INVALID_GUEST_STATE, qualification);
}

/**
 * For guest checks no profile can reach (CR4.FRED, "load IA32_FRED", "load guest IA32_SPEC_CTRL"):
 * the facts of `data` with every field the checks read given a word (whether or not the profile
 * has it) and an image of the valid VMCS with `changes`, to call a check function directly.
 */
export function guestImage(data: ProfileData, changes: Changes): { entry: EntryFacts; guest: GuestFacts; words: Int32Array } {
  const profile = profileOf(data);
  const layout = {} as Record<string, number>;
  ENTRY_FIELDS.forEach((name, index) => {
    layout[name] = index * 2;
  });
  const guestLayout = {} as Record<GuestField, number>;
  GUEST_PHASE_FIELDS.forEach((name, index) => {
    const at = layout[name] ?? (ENTRY_FIELDS.length + index) * 2;
    guestLayout[name] = at;
    layout[name] = at;
  });
  const words = new Int32Array((ENTRY_FIELDS.length + GUEST_PHASE_FIELDS.length) * 2);
  for (const [name, value] of fieldsOf({ profile: data, changes })) {
    const at = layout[name];
    if (at === undefined) continue;
    words[at] = Number(value & 0xffff_ffffn) | 0;
    const width = fieldByEncoding(FIELD[name])?.width;
    if (width === 64 || width === 'natural') words[at + 1] = Number((value >> 32n) & 0xffff_ffffn) | 0;
  }
  const entry: EntryFacts = { ...entryFactsFor(profile), words: layout as Record<EntryField, number> };
  const guest: GuestFacts = { ...guestFactsFor(profile), words: guestLayout, segments: segmentWords(guestLayout) };
  return { entry, guest, words };
}
/**
 * VM entry went past phase one: with the valid guest state (test/impl/vm-entry-vmcs.ts) the guest
 * runs (§27.3 "Checking and Loading Guest State"), flags those of guest RFLAGS = 2 (none).
 */
export const PASSED = { kind: 'vmentry', flags: 0 } as const;

/** Expects VMfailValid(error) with the error in the VM-instruction error field. */
export function expectFailure(setting: Setting, error: number): void {
  const seen = launch(setting);
  expect(seen.launch).toEqual({ kind: 'vmfail-valid', error, flags: 0x40 });
  expect(seen.error).toEqual({ kind: 'vmsucceed', value: `0x${error.toString(16)}`, flags: 0 });
}

/**
 * The VM exits a VM entry that passed every check may end in, before the first guest instruction
 * (§27.7 "Special Features of VM Entry"): a #DB of pending debug exceptions (reason 0), interrupt
 * and NMI window, MTF, TPR below threshold, VMX-preemption timer.
 */
const EXITS_AT_ENTRY: readonly number[] = [
  EXIT_REASON.EXCEPTION_OR_NMI,
  EXIT_REASON.INTERRUPT_WINDOW,
  EXIT_REASON.NMI_WINDOW,
  EXIT_REASON.MONITOR_TRAP_FLAG,
  EXIT_REASON.TPR_BELOW_THRESHOLD,
  EXIT_REASON.PREEMPTION_TIMER_EXPIRED,
];

/** Expects the setting to pass phase one. */
export function expectPass(setting: Setting): void {
  const seen = launch(setting).launch;
  // A passing entry runs the guest (its observation names the event it injected, if any, §27.6
  // "Event Injection"), or ends in a VM exit before the first guest instruction (§27.7), or in an
  // event whose delivery through the guest IDT meets what impl/ does not model (a vector without
  // a gate in test/impl/guest-environment.ts, a fault, ...).
  if (seen.kind === 'vmexit') expect(EXITS_AT_ENTRY).toContain(seen.reason);
  else if (seen.kind === 'unimplemented') expect(seen.what).toMatch(/event delivery|through the guest IDT after VM entry|after VM entry/);
  else expect({ kind: seen.kind, flags: seen.flags }).toEqual(PASSED);
}

/**
 * For checks no profile can reach (FRED): the facts of `data` with FRED support and the
 * secondary VM-exit controls allowed, every phase-one field given a word, and a region image of
 * the valid VMCS with `changes`, to call a check function directly.
 */
export function fredImage(data: ProfileData, changes: Changes): { facts: EntryFacts; words: Int32Array } {
  const base = entryFactsFor(profileOf(data));
  const layout = {} as Record<EntryField, number>;
  ENTRY_FIELDS.forEach((name, index) => {
    layout[name] = index * 2;
  });
  const facts: EntryFacts = { ...base, words: layout, fredSupported: true, secondaryExitMayLo: -1, secondaryExitMayHi: -1 };
  const words = new Int32Array(ENTRY_FIELDS.length * 2);
  for (const [name, value] of fieldsOf({ profile: data, changes })) {
    const at = layout[name as EntryField];
    if (at === undefined) continue;
    words[at] = Number(value & 0xffff_ffffn) | 0;
    const width = fieldByEncoding(FIELD[name])?.width;
    if (width === 64 || width === 'natural') words[at + 1] = Number((value >> 32n) & 0xffff_ffffn) | 0;
  }
  return { facts, words };
}
