/**
 * INVEPT—Invalidate Translations Derived from EPT (SDM Vol. 3C, December 2023, §31.3) and the
 * EPTP checks of §27.2.1.1 "VM-Execution Control Fields".
 */
import { describe, it } from 'vitest';
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { InveptOp } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import {
  core2,
  exit,
  expectNotModelled,
  expectOnly,
  failInvalid,
  failValid,
  fresh,
  gp,
  hex,
  inRoot,
  maximal,
  patchCpu,
  skylake,
  succeed,
  ud,
  withCurrent,
} from './helpers.ts';

const invept = (type: bigint, eptp: bigint, form?: 'register' | 'memory', high = 0n): InveptOp => ({
  kind: 'invept',
  cpu: 0,
  type: hex(type),
  descriptor: [hex(eptp), hex(high)],
  ...(form ? { form } : {}),
});

/** A valid EPTP for skylake: write-back, 4-level walk, PML4 table at 5000H. */
const EPTP = 0x5000n | 6n | (3n << 3n);
const E28 = failValid(VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);

/** `profile` with IA32_VMX_EPT_VPID_CAP bit `bit` cleared. */
function without(profile: Profile, bit: number): Profile {
  return { ...profile, eptVpidCap: profile.eptVpidCap & ~(1n << BigInt(bit)) };
}

describe('INVEPT availability and preamble', () => {
  it('raises #UD on a processor without EPT', () => {
    expectOnly(withCurrent(core2()), invept(1n, EPTP), ud(), 'invept.ud-ept-unsupported');
  });

  it('raises #UD on a processor with EPT but without INVEPT', () => {
    expectOnly(withCurrent(without(skylake(), EPT_VPID_CAP.INVEPT)), invept(2n, EPTP), ud(), 'invept.ud-invept-unsupported');
  });

  it('is not modelled with a register descriptor operand', () => {
    expectNotModelled(withCurrent(), invept(2n, EPTP, 'register'), 'invept.register-descriptor');
  });

  it('raises #UD outside VMX operation and in real-address, virtual-8086 and compatibility mode', () => {
    expectOnly(fresh(), invept(2n, EPTP), ud(), 'invept.ud-outside-vmx');
    expectOnly(patchCpu(inRoot(), 0, { cr0: 0n }), invept(2n, EPTP), ud(), 'invept.ud-real-mode');
    expectOnly(patchCpu(inRoot(), 0, { rflagsVm: 1 }), invept(2n, EPTP), ud(), 'invept.ud-virtual-8086');
    expectOnly(patchCpu(inRoot(), 0, { csL: 0 }), invept(2n, EPTP), ud(), 'invept.ud-compatibility-mode');
  });

  it('causes a VM exit in VMX non-root operation', () => {
    expectOnly(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), invept(2n, EPTP), exit(EXIT_REASON.INVEPT), 'invept.vm-exit');
  });

  it('raises #GP(0) when CPL > 0', () => {
    expectOnly(patchCpu(inRoot(), 0, { cpl: 3 }), invept(2n, EPTP), gp(), 'invept.gp-cpl');
  });
});

describe('INVEPT types', () => {
  it('fails with VMfail(28) for a type the capability MSR does not report', () => {
    expectOnly(inRoot(), invept(0n, EPTP), failInvalid(), 'invept.type-unsupported');
    expectOnly(withCurrent(), invept(3n, EPTP), E28, 'invept.type-unsupported');
    expectOnly(withCurrent(without(skylake(), EPT_VPID_CAP.INVEPT_SINGLE_CONTEXT)), invept(1n, EPTP), E28, 'invept.type-unsupported');
    expectOnly(withCurrent(without(skylake(), EPT_VPID_CAP.INVEPT_ALL_CONTEXT)), invept(2n, EPTP), E28, 'invept.type-unsupported');
  });

  it('reads the whole type register in 64-bit mode and only bits 31:0 outside it', () => {
    expectOnly(withCurrent(), invept((1n << 32n) | 1n, EPTP), E28, 'invept.type-unsupported');
    const narrow = patchCpu(withCurrent(), 0, { eferLma: 0, csL: 0 });
    expectOnly(narrow, invept((1n << 32n) | 1n, EPTP), succeed(), 'invept.single-context');
  });

  it('all-context invalidation succeeds whatever the descriptor holds', () => {
    expectOnly(withCurrent(), invept(2n, 0xffff_ffff_ffff_ffffn, undefined, 0x1234n), succeed(), 'invept.all-context');
  });

  it('single-context invalidation succeeds with a valid EPTP, ignoring descriptor bits 127:64', () => {
    expectOnly(withCurrent(), invept(1n, EPTP, undefined, 0xffffn), succeed(), 'invept.single-context');
  });
});

describe('INVEPT single-context EPTP checks', () => {
  it('fails with VMfail(28) for an unsupported memory type', () => {
    expectOnly(withCurrent(), invept(1n, (EPTP & ~7n) | 1n), E28, 'invept.eptp-memory-type');
    expectOnly(withCurrent(), invept(1n, EPTP & ~7n), succeed(), 'invept.single-context');
    expectOnly(withCurrent(without(skylake(), EPT_VPID_CAP.MEMORY_TYPE_UC)), invept(1n, EPTP & ~7n), E28, 'invept.eptp-memory-type');
    expectOnly(withCurrent(without(skylake(), EPT_VPID_CAP.MEMORY_TYPE_WB)), invept(1n, EPTP), E28, 'invept.eptp-memory-type');
  });

  it('fails with VMfail(28) for an unsupported page-walk length', () => {
    expectOnly(withCurrent(), invept(1n, (EPTP & ~0x38n) | (2n << 3n)), E28, 'invept.eptp-page-walk-length');
    expectOnly(withCurrent(), invept(1n, (EPTP & ~0x38n) | (4n << 3n)), E28, 'invept.eptp-page-walk-length');
    expectOnly(withCurrent(maximal()), invept(1n, (EPTP & ~0x38n) | (4n << 3n)), succeed(), 'invept.single-context');
  });

  it('fails with VMfail(28) when accessed and dirty flags are enabled but not supported', () => {
    expectOnly(withCurrent(), invept(1n, EPTP | 0x40n), succeed(), 'invept.single-context');
    expectOnly(withCurrent(without(skylake(), EPT_VPID_CAP.ACCESSED_DIRTY_FLAGS)), invept(1n, EPTP | 0x40n), E28, 'invept.eptp-accessed-dirty');
  });

  it('fails with VMfail(28) when supervisor shadow-stack control is enabled but not supported', () => {
    expectOnly(withCurrent(), invept(1n, EPTP | 0x80n), E28, 'invept.eptp-supervisor-shadow-stack');
    expectOnly(withCurrent(maximal()), invept(1n, EPTP | 0x80n), succeed(), 'invept.single-context');
  });

  it('fails with VMfail(28) when EPTP bits 11:8 are set', () => {
    expectOnly(withCurrent(), invept(1n, EPTP | 0x100n), E28, 'invept.eptp-reserved-bits');
    expectOnly(withCurrent(), invept(1n, EPTP | 0x800n), E28, 'invept.eptp-reserved-bits');
  });

  it('fails with VMfail(28) when the EPTP sets bits beyond the physical-address width', () => {
    const width = BigInt(skylake().data.physicalAddressWidth);
    expectOnly(withCurrent(), invept(1n, EPTP | (1n << width)), E28, 'invept.eptp-beyond-address-width');
    expectOnly(withCurrent(), invept(1n, EPTP | (1n << (width - 1n))), succeed(), 'invept.single-context');
    expectOnly(inRoot(), invept(1n, EPTP | (1n << 63n)), failInvalid(), 'invept.eptp-beyond-address-width');
  });
});
