/**
 * Ordinary stores into physical memory and what they do to VMX structures: SDM Vol. 3C, December
 * 2023, §25.2 "Format of the VMCS Region", §25.10 "VMCS Types: Ordinary and Shadow", §25.11.1
 * "Software Use of Virtual-Machine Control Structures", §25.11.3 "Initializing a VMCS" and
 * §25.11.5 "VMXON Region".
 */
import { describe, expect, it } from 'vitest';
import { ModelInputError, step } from '../../model/index.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { FIELD } from '../../spec/fields.ts';
import {
  expectNotModelled,
  expectOnly,
  expectUndefined,
  failValid,
  fresh,
  hex,
  inRoot,
  loadVmcs,
  ok,
  skylake,
  succeed,
  VMCS_A,
  VMCS_B,
  VMXON_0,
  withCurrent,
  write,
} from './helpers.ts';

const store = (address: bigint, value: bigint, cpu = 0) => ({ kind: 'write-memory', cpu, address: hex(address), value: hex(value) }) as const;

describe('stores that are bugs in the case', () => {
  it('rejects an unaligned address, a value wider than 32 bits and malformed hexadecimal', () => {
    expect(() => step(fresh(), store(0x1002n, 1n))).toThrow(ModelInputError);
    expect(() => step(fresh(), store(0x1000n, 0x1_0000_0000n))).toThrow(/at most 0xffffffff/);
    expect(() => step(fresh(), { kind: 'write-memory', cpu: 0, address: '4096', value: '0x1' })).toThrow(/hexadecimal/);
  });
});

describe('stores into VMX structures', () => {
  it('are undefined into the VMXON region of a processor in VMX operation', () => {
    expectUndefined(inRoot(), store(VMXON_0 + 8n, 1n), 'write-memory.vmxon-region');
    expectUndefined(inRoot(), store(VMXON_0, 1n, 1), 'write-memory.vmxon-region');
  });

  it('are plain stores past the region size in the same page', () => {
    const size = BigInt(skylake().regionSize);
    expectOnly(inRoot(), store(VMXON_0 + size, 1n), ok(), 'write-memory.ok');
  });

  it('are undefined into the revision identifier or the data of an active VMCS', () => {
    expectUndefined(withCurrent(), store(VMCS_A, 0x8000_0004n), 'write-memory.active-vmcs-header');
    expectUndefined(withCurrent(), store(VMCS_A + 0x10n, 0n, 1), 'write-memory.active-vmcs-data');
    const notCurrent = loadVmcs(withCurrent(), VMCS_B);
    expectUndefined(notCurrent, store(VMCS_A + 0x3fcn, 0n), 'write-memory.active-vmcs-data');
  });

  it('may write the VMX-abort indicator of an active VMCS, which changes none of its fields', () => {
    const state = write(withCurrent(), FIELD.GUEST_RIP, 0x4321n);
    const after = expectOnly(state, store(VMCS_A + 4n, 0xffn), ok(), 'write-memory.active-vmcs-abort-indicator');
    expectOnly(after, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) }, succeed(0x4321n), 'vmread.success');
  });

  it('make the fields and launch state of an inactive VMCS unknown when they hit its data', () => {
    let state = write(withCurrent(), FIELD.GUEST_RIP, 0x1234n);
    state = expectOnly(state, { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmclear.success');
    state = expectOnly(state, store(VMCS_A + 0x100n, 0xabcn), ok(), 'write-memory.inactive-vmcs-data');
    state = expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    const verdict = step(state, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) });
    expect(verdict).toMatchObject({ kind: 'defined', branches: [{ expected: { value: { kind: 'any' } } }] });
    expectUndefined(state, { kind: 'vmlaunch', cpu: 0 }, 'vm-entry.field-unknown');
  });

  it('change the revision identifier an inactive region presents to the next VMPTRLD', () => {
    let state = expectOnly(withCurrent(), { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmclear.success');
    state = loadVmcs(state, VMCS_B);
    state = expectOnly(state, store(VMCS_A, 0x7777n), ok(), 'write-memory.ok');
    expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, failValid(VM_ERROR.VMPTRLD_INCORRECT_REVISION), 'vmptrld.revision-mismatch');
  });

  it('keep the fields of an inactive VMCS when they hit only its header', () => {
    let state = write(withCurrent(), FIELD.GUEST_RIP, 0x1234n);
    state = expectOnly(state, { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmclear.success');
    state = expectOnly(state, store(VMCS_A + 4n, 1n), ok(), 'write-memory.ok');
    state = expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    expectOnly(state, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) }, succeed(0x1234n), 'vmread.success');
  });
});
