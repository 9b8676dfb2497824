/**
 * Whole VM entries through every phase with the model's real checks: a VMCS that passes every
 * check enters the guest (SDM Vol. 3C, December 2023, §27.3.2 "Loading Guest State"; the
 * VMLAUNCH/VMRESUME Operation section: VMLAUNCH makes the VMCS launched); the MSR-loading phase
 * (§27.4 "Loading MSRs") judges the VM-entry MSR-load area entry by entry, the first failing
 * one's 1-based index being the exit qualification of exit reason 34 (§27.8); a count above
 * 512 × (IA32_VMX_MISC[27:25] + 1) is undefined (Vol. 3D Appendix A.6).
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../../model/index.ts';
import type { ModelState } from '../../../model/index.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import { cpuOf } from '../../../model/state.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { toHex } from '../../../spec/hex.ts';
import { enterVmx, expectOnly, expectStep, expectUndefined, failValid, hex, inRoot, layRegion, store, succeed, VMCS_A } from '../helpers.ts';
import { writeFields } from './helpers.ts';
import { GUEST_64 } from './entry-fixtures.ts';
import { FLAT_64 } from './guest-segment-fixtures.ts';
import { CONTROLS_OK, vmcsWith } from './helpers.ts';

const launch = { kind: 'vmlaunch', cpu: 0 } as const;
const IA32_FS_BASE = 0xc000_0100;

/** Controls, host state and a flat 64-bit guest that pass every check on skylake. */
const VALID = {
  ...FLAT_64,
  ...GUEST_64,
  ...CONTROLS_OK,
  VM_ENTRY_CONTROLS: 0x11fbn | (1n << 9n),
  GUEST_IA32_EFER: 0x500n,
  VMCS_LINK_POINTER: 0xffff_ffff_ffff_ffffn,
  GUEST_DR7: 0x400n,
  GUEST_IA32_DEBUGCTL: 0n,
  GUEST_IA32_SYSENTER_ESP: 0n,
  GUEST_IA32_SYSENTER_EIP: 0n,
  GUEST_CR3: 0x1000n,
  GUEST_GDTR_BASE: 0n,
  GUEST_IDTR_BASE: 0n,
  GUEST_GDTR_LIMIT: 0xffn,
  GUEST_IDTR_LIMIT: 0xfffn,
  GUEST_RIP: 0x1000n,
} as const;

/** `state` with one VM-entry MSR-load entry (MSR `msr`, value 0) stored at `address`. */
function withMsrEntry(state: ModelState, address: bigint, msr: number): ModelState {
  let next = store(state, address, msr);
  for (const offset of [4n, 8n, 12n]) next = store(next, address + offset, 0);
  return next;
}

describe('a VM entry through every phase', () => {
  it('a VMCS that passes every check: the guest runs, with the arithmetic flags of its RFLAGS (CF and ZF of 43H), and the VMCS is launched', () => {
    const state = vmcsWith(VALID);
    const entered = expectOnly(state, launch, { kind: 'vmentry', flags: 0x41 }, 'vm-entry.guest-runs');
    expect(cpuOf(entered, 0).vmx).toBe('non-root');
    expect(currentVmcs(entered, 0)?.content.launch).toBe('launched');
  });

  it('a VM-entry MSR-load count above the recommended maximum (512 on skylake: IA32_VMX_MISC[27:25] = 0) is undefined', () => {
    expectUndefined(vmcsWith({ ...VALID, VM_ENTRY_MSR_LOAD_COUNT: 513n, VM_ENTRY_MSR_LOAD_ADDRESS: 0x8000n }), launch, 'vm-entry.msr-load-count-above-maximum');
  });

  it('an entry loading IA32_FS_BASE fails with exit reason 34 (bit 31 set) and qualification 1, its index', () => {
    const state = withMsrEntry(vmcsWith({ ...VALID, VM_ENTRY_MSR_LOAD_COUNT: 1n, VM_ENTRY_MSR_LOAD_ADDRESS: 0x8000n }), 0x8000n, IA32_FS_BASE);
    const reason = (0x8000_0000 | EXIT_REASON.ENTRY_FAILURE_MSR_LOADING) >>> 0;
    const failed = expectStep(state, launch, { kind: 'vmentry-failure', exitReason: reason, qualification: toHex(1n), flags: 0 }, 'msr-load.not-fs-base');
    expect(cpuOf(failed, 0).vmx).toBe('root');
  });

  it('the second entry failing gives qualification 2', () => {
    let state = vmcsWith({ ...VALID, VM_ENTRY_MSR_LOAD_COUNT: 2n, VM_ENTRY_MSR_LOAD_ADDRESS: 0x8000n });
    state = withMsrEntry(withMsrEntry(state, 0x8000n, 0x10), 0x8010n, IA32_FS_BASE);
    const verdict = step(state, launch);
    expect(verdict.kind).toBe('defined');
    const qualifications = verdict.kind === 'defined' ? verdict.branches.filter((b) => b.expected.kind === 'vmentry-failure').map((b) => b.expected.kind === 'vmentry-failure' && b.expected.qualification) : [];
    expect(qualifications).toContain('0x2');
  });
});

describe('a launch state the model does not know (SDM §31.3 VMLAUNCH/VMRESUME: the launch-state checks, then the entry)', () => {
  /** VMCS_A loaded without VMCLEAR (launch state unknown), every field the checks read written. */
  function unknownLaunchState(): ModelState {
    const loaded = expectOnly(layRegion(inRoot(), VMCS_A), { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    return writeFields(loaded, VALID);
  }

  it('VMLAUNCH: VMfailValid(4), or the entry proceeds and the guest runs', () => {
    const state = unknownLaunchState();
    expectStep(state, launch, failValid(4), 'vmlaunch.launch-state-unknown');
    expectStep(state, launch, { kind: 'vmentry', flags: 0x41 }, 'vm-entry.guest-runs');
  });

  it('VMRESUME: VMfailValid(5), or the entry proceeds', () => {
    const state = unknownLaunchState();
    expectStep(state, { kind: 'vmresume', cpu: 0 }, failValid(5), 'vmresume.launch-state-unknown');
    expectStep(state, { kind: 'vmresume', cpu: 0 }, { kind: 'vmentry', flags: 0x41 }, 'vm-entry.guest-runs');
  });

  it('VMRESUME of a VMCS left active by VMXOFF: VMfailValid(5) or (6) (§31.4), or the entry proceeds', () => {
    let state = vmcsWith(VALID);
    state = expectOnly(state, { kind: 'vmxoff', cpu: 0 }, succeed(), 'vmxoff.success');
    state = enterVmx(state, 0);
    state = expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    state = writeFields(state, VALID);
    expectStep(state, { kind: 'vmresume', cpu: 0 }, failValid(5), 'vmresume.after-vmxoff');
    expectStep(state, { kind: 'vmresume', cpu: 0 }, failValid(6), 'vmresume.after-vmxoff');
    expectStep(state, { kind: 'vmresume', cpu: 0 }, { kind: 'vmentry', flags: 0x41 }, 'vm-entry.guest-runs');
  });
});
