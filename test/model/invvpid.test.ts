/** INVVPID—Invalidate Translations Based on VPID (SDM Vol. 3C, December 2023, §31.3). */
import { describe, expect, it } from 'vitest';
import { step } from '../../model/index.ts';
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { InvvpidOp } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import {
  core2,
  exit,
  expectNotModelled,
  expectOnly,
  expectStep,
  failInvalid,
  failValid,
  fresh,
  gp,
  hex,
  inRoot,
  patchCpu,
  skylake,
  succeed,
  ud,
  withCurrent,
} from './helpers.ts';

const invvpid = (type: bigint, low: bigint, address = 0n, form?: 'register' | 'memory'): InvvpidOp => ({
  kind: 'invvpid',
  cpu: 0,
  type: hex(type),
  descriptor: [hex(low), hex(address)],
  ...(form ? { form } : {}),
});
const E28 = failValid(VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);

function without(profile: Profile, bit: number): Profile {
  return { ...profile, eptVpidCap: profile.eptVpidCap & ~(1n << BigInt(bit)) };
}

describe('INVVPID availability and preamble', () => {
  it('raises #UD on a processor without VPIDs', () => {
    expectOnly(withCurrent(core2()), invvpid(2n, 0n), ud(), 'invvpid.ud-vpid-unsupported');
  });

  it('raises #UD on a processor with VPIDs but without INVVPID', () => {
    expectOnly(withCurrent(without(skylake(), EPT_VPID_CAP.INVVPID)), invvpid(2n, 0n), ud(), 'invvpid.ud-invvpid-unsupported');
  });

  it('is not modelled with a register descriptor operand', () => {
    expectNotModelled(withCurrent(), invvpid(2n, 0n, 0n, 'register'), 'invvpid.register-descriptor');
  });

  it('raises #UD outside VMX operation and in real-address, virtual-8086 and compatibility mode', () => {
    expectOnly(fresh(), invvpid(2n, 0n), ud(), 'invvpid.ud-outside-vmx');
    expectOnly(patchCpu(inRoot(), 0, { cr0: 0n }), invvpid(2n, 0n), ud(), 'invvpid.ud-real-mode');
    expectOnly(patchCpu(inRoot(), 0, { rflagsVm: 1 }), invvpid(2n, 0n), ud(), 'invvpid.ud-virtual-8086');
    expectOnly(patchCpu(inRoot(), 0, { csL: 0 }), invvpid(2n, 0n), ud(), 'invvpid.ud-compatibility-mode');
  });

  it('causes a VM exit in VMX non-root operation', () => {
    expectOnly(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), invvpid(2n, 0n), exit(EXIT_REASON.INVVPID), 'invvpid.vm-exit');
  });

  it('raises #GP(0) when CPL > 0', () => {
    expectOnly(patchCpu(inRoot(), 0, { cpl: 3 }), invvpid(2n, 0n), gp(), 'invvpid.gp-cpl');
  });
});

describe('INVVPID types and descriptor', () => {
  it('fails with VMfail(28) for a type the capability MSR does not report', () => {
    expectOnly(inRoot(), invvpid(4n, 1n), failInvalid(), 'invvpid.type-unsupported');
    expectOnly(withCurrent(), invvpid(1n << 32n, 1n), E28, 'invvpid.type-unsupported');
    expectOnly(withCurrent(without(skylake(), EPT_VPID_CAP.INVVPID_SINGLE_CONTEXT)), invvpid(1n, 1n), E28, 'invvpid.type-unsupported');
  });

  it('fails with VMfail(28) when descriptor bits 63:16 are not 0', () => {
    expectOnly(withCurrent(), invvpid(2n, 0x1_0000n), E28, 'invvpid.descriptor-reserved-bits');
  });

  it('type 0 fails with VMfail(28) for VPID 0 and for a non-canonical address, and succeeds otherwise', () => {
    expectOnly(withCurrent(), invvpid(0n, 0n, 0x1000n), E28, 'invvpid.individual-address-vpid-zero');
    expectOnly(withCurrent(), invvpid(0n, 1n, 0x8000_0000_0000_0000n), E28, 'invvpid.individual-address-non-canonical');
    expectOnly(withCurrent(), invvpid(0n, 1n, 0x0100_0000_0000_0000n), E28, 'invvpid.individual-address-non-canonical');
    expectOnly(withCurrent(), invvpid(0n, 1n, 0xffff_8000_0000_0000n), succeed(), 'invvpid.individual-address');
    expectOnly(withCurrent(), invvpid(0n, 0xffffn, 0x0000_7fff_ffff_f000n), succeed(), 'invvpid.individual-address');
  });

  it('type 0 allows both outcomes for an address canonical with 57 bits but not with 48', () => {
    const state = withCurrent();
    const op = invvpid(0n, 1n, 0x0000_8000_0000_0000n);
    const verdict = step(state, op);
    expect(verdict.kind === 'defined' ? verdict.branches.length : 0).toBe(2);
    expectStep(state, op, E28, 'invvpid.individual-address-linear-width');
    expectStep(state, op, succeed(), 'invvpid.individual-address-linear-width');
  });

  it('type 1 fails with VMfail(28) for VPID 0 and succeeds otherwise, ignoring the address', () => {
    expectOnly(withCurrent(), invvpid(1n, 0n), E28, 'invvpid.single-context-vpid-zero');
    expectOnly(withCurrent(), invvpid(1n, 5n, 0x8000_0000_0000_0000n), succeed(), 'invvpid.single-context');
  });

  it('type 2 succeeds whatever VPID and address the descriptor holds', () => {
    expectOnly(withCurrent(), invvpid(2n, 0n, 0x8000_0000_0000_0000n), succeed(), 'invvpid.all-context');
  });

  it('type 3 fails with VMfail(28) for VPID 0 and succeeds otherwise', () => {
    expectOnly(withCurrent(), invvpid(3n, 0n), E28, 'invvpid.single-context-retaining-globals-vpid-zero');
    expectOnly(withCurrent(), invvpid(3n, 9n), succeed(), 'invvpid.single-context-retaining-globals');
  });

  it('reads only bits 31:0 of the type register outside 64-bit mode', () => {
    const narrow = patchCpu(withCurrent(), 0, { eferLma: 0, csL: 0 });
    expectOnly(narrow, invvpid((1n << 32n) | 2n, 0n), succeed(), 'invvpid.all-context');
  });
});
