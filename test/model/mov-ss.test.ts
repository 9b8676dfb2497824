/**
 * MOV-SS blocking lasts for one instruction: "such blocking is cleared after the guest executes
 * one instruction or incurs an exception" (SDM Vol. 3C, December 2023, §27.7.1 "Interruptibility
 * State"); VMLAUNCH/VMRESUME under blocking by MOV SS fail with VMfailValid(26) (§31.3). The
 * harness operations `set` and `write-memory` are not instructions (spec/operations.ts).
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../model/index.ts';
import { cpuOf } from '../../model/state.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { expectOnly, expectUndefined, failValid, ok, ud, withCurrent } from './helpers.ts';

const block = { kind: 'set', cpu: 0, what: 'mov-ss-blocking', value: 1 } as const;
const launch = { kind: 'vmlaunch', cpu: 0 } as const;

describe('MOV-SS blocking for one instruction', () => {
  it('blocks the next instruction (VMfailValid(26)) and no later one', () => {
    let state = expectOnly(withCurrent(), block, ok(), 'set.ok');
    state = expectOnly(state, launch, failValid(VM_ERROR.ENTRY_MOV_SS_BLOCKING), 'vmentry.mov-ss-blocking');
    expect(cpuOf(state, 0).movSsBlocking).toBe(0);
    // Past the basic checks: the VM entry proper reads fields never written.
    expectUndefined(state, launch, 'vm-entry.field-unknown');
  });

  it('set and write-memory do not end it; an instruction of another processor does not either', () => {
    let state = expectOnly(withCurrent(), block, ok(), 'set.ok');
    state = expectOnly(state, { kind: 'write-memory', cpu: 0, address: '0x40000', value: '0x1' }, ok(), 'write-memory.ok');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'cpl', value: 0 }, ok(), 'set.ok');
    state = expectOnly(state, { kind: 'vmxoff', cpu: 1 }, ud(), 'vmxoff.ud-outside-vmx');
    expectOnly(state, launch, failValid(VM_ERROR.ENTRY_MOV_SS_BLOCKING), 'vmentry.mov-ss-blocking');
  });

  it('an instruction that faults ends it too (an exception clears the blocking)', () => {
    let state = expectOnly(withCurrent(), block, ok(), 'set.ok');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'rflags.vm', value: 1 }, ok(), 'set.ok');
    state = expectOnly(state, { kind: 'vmread', cpu: 0, encoding: '0x4400' }, ud(), 'vmread.ud-virtual-8086');
    expect(cpuOf(state, 0).movSsBlocking).toBe(0);
  });

  it('leaves verdicts that are not defined alone', () => {
    const state = expectOnly(withCurrent(), block, ok(), 'set.ok');
    const verdict = step(state, { kind: 'write-memory', cpu: 0, address: '0x10008', value: '0x1' });
    expect(verdict.kind).toBe('undefined');
  });
});
