/**
 * A VM exit after a real VM entry, with expected values from SDM Vol. 3C, December 2023,
 * Chapter 28 "VM Exits": the exit reason in bits 15:0 with bit 31 clear (§28.2.1), the VM-exit
 * interruption information and IDT-vectoring information marked invalid with their other bits
 * undefined (§28.2.2, §28.2.3), the guest RIP of the exiting instruction, RSP and RFLAGS with RF
 * 0 for an instruction exit (§28.3.3), host state loaded: RIP, CR3, DR7 = 400H, RFLAGS = 2, 64-bit
 * mode from "host address-space size" (§28.5); then VMRESUME re-enters and VMLAUNCH fails with
 * VMfailValid(4) (§31.3 VMLAUNCH/VMRESUME: the VMCS is launched).
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../../model/index.ts';
import type { ModelState } from '../../../model/index.ts';
import { cpuOf } from '../../../model/state.ts';
import { VMCALL_RULES } from '../../../model/instructions/vmcall.ts';
import { vmExitWith } from '../../../model/vm-exit.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import { exit, expectOnly, expectRejected, expectStep, failValid, hex, RULES_HIT, succeed } from '../helpers.ts';
import { entered, EXIT_SAVING, GUEST_RIP, GUEST_RSP, inGuest, launch, resume, vmcall } from './fixtures.ts';

const vmread = (encoding: number) => ({ kind: 'vmread', cpu: 0, encoding: hex(encoding) }) as const;

/** Expects VMREAD of `encoding` in `state` to give `value`, and returns the state after it. */
function reads(state: ModelState, encoding: number, value: bigint): ModelState {
  return expectOnly(state, vmread(encoding), succeed(value), 'vmread.success');
}

/** `state` after the guest's VMCALL with the exit information §28.2 gives it (length 3, qualification 0). */
function afterVmcall(state: ModelState): ModelState {
  const branch = vmExitWith(state, 0, VMCALL_RULES.vmExit, { reason: EXIT_REASON.VMCALL, qualification: 0n, instructionLength: 3 });
  expect(branch.expected).toEqual(exit(EXIT_REASON.VMCALL));
  RULES_HIT.add(branch.rule.id);
  return branch.next(exit(EXIT_REASON.VMCALL));
}

describe('a VMCALL exit from a 64-bit guest at RIP 1000H', () => {
  it('is observed as exit reason 18 with RFLAGS = 2 (no arithmetic flag)', () => {
    expectOnly(inGuest(), vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
  });

  it('loads host state: VMX root, RIP 400000H, CR3 1000H, DR7 400H, 64-bit mode, CPL 0, tracked', () => {
    const host = cpuOf(afterVmcall(inGuest()), 0);
    expect(host).toMatchObject({ vmx: 'root', rip: 0x40_0000n, cr3: 0x1000n, dr7: 0x400n, eferLma: 1, eferLme: 1, csL: 1, cpl: 0, flags: 0, rflagsVm: 0, guest: undefined, untracked: undefined });
  });

  it('records exit reason 18 (bit 31 clear), qualification 0, instruction length 3', () => {
    let state = afterVmcall(inGuest());
    state = reads(state, FIELD.EXIT_REASON, 18n);
    state = reads(state, FIELD.EXIT_QUALIFICATION, 0n);
    reads(state, FIELD.VM_EXIT_INSTRUCTION_LENGTH, 3n);
  });

  it('saves guest RIP 1000H (the VMCALL itself), RSP 8000H, RFLAGS 43H with RF 0, CR3 1000H and the SYSENTER MSRs', () => {
    let state = afterVmcall(inGuest());
    state = reads(state, FIELD.GUEST_RIP, GUEST_RIP);
    state = reads(state, FIELD.GUEST_RSP, GUEST_RSP);
    state = reads(state, FIELD.GUEST_RFLAGS, 0x43n);
    state = reads(state, FIELD.GUEST_CR3, 0x1000n);
    state = reads(state, FIELD.GUEST_IA32_SYSENTER_CS, 0x10n);
    state = reads(state, FIELD.GUEST_IA32_SYSENTER_ESP, 0x7000n);
    state = reads(state, FIELD.GUEST_GDTR_BASE, 0x5000n);
    state = reads(state, FIELD.GUEST_CS_SELECTOR, 0x8n);
    state = reads(state, FIELD.GUEST_ACTIVITY_STATE, 0n);
    state = reads(state, FIELD.GUEST_INTERRUPTIBILITY_STATE, 0n);
    reads(state, FIELD.GUEST_PENDING_DEBUG_EXCEPTIONS, 0n);
  });

  it('marks the VM-exit interruption information and the IDT-vectoring information invalid (bit 31 clear), the other bits open', () => {
    const state = afterVmcall(inGuest());
    for (const encoding of [FIELD.VM_EXIT_INTERRUPTION_INFORMATION, FIELD.IDT_VECTORING_INFORMATION]) {
      expectStep(state, vmread(encoding), succeed(0x7fff_ffffn), 'vmread.success');
      expectStep(state, vmread(encoding), succeed(0n), 'vmread.success');
      expectRejected(state, vmread(encoding), succeed(0x8000_0000n));
    }
  });

  it('leaves the instruction information, guest-linear address and I/O RIP undefined for VMCALL: any value is allowed, and a second read must agree with the first', () => {
    const state = afterVmcall(inGuest());
    const pinned = expectStep(state, vmread(FIELD.VM_EXIT_INSTRUCTION_INFORMATION), succeed(0x1234n), 'vmread.success');
    expectRejected(pinned, vmread(FIELD.VM_EXIT_INSTRUCTION_INFORMATION), succeed(0x1235n));
    expectStep(state, vmread(FIELD.GUEST_LINEAR_ADDRESS), succeed(0xdeadn), 'vmread.success');
    expectStep(state, vmread(FIELD.IO_RIP), succeed(0xbeefn), 'vmread.success');
  });

  it('with "save debug controls" and "save IA32_EFER": DR7 400H and IA32_EFER 500H (LME, LMA) saved', () => {
    let state = afterVmcall(inGuest({ PRIMARY_VM_EXIT_CONTROLS: EXIT_SAVING }));
    state = reads(state, FIELD.GUEST_DR7, 0x400n);
    state = reads(state, FIELD.GUEST_IA32_DEBUGCTL, 0n);
    reads(state, FIELD.GUEST_IA32_EFER, 0x500n);
  });

  it('the VMCS is launched: VMLAUNCH fails with VMfailValid(4), VMRESUME enters the guest again with its saved RFLAGS', () => {
    const state = afterVmcall(inGuest());
    expectOnly(state, launch, failValid(VM_ERROR.VMLAUNCH_NON_CLEAR), 'vmlaunch.launch-state-not-clear');
    const again = expectOnly(state, resume, entered(), 'vm-entry.guest-runs');
    expect(cpuOf(again, 0)).toMatchObject({ vmx: 'non-root', rip: GUEST_RIP, untracked: undefined });
  });

  it('enters and exits many times: each exit saves the same guest RIP and the host reads it', () => {
    let state = inGuest();
    for (let round = 0; round < 3; round += 1) {
      state = expectOnly(state, vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
      state = reads(state, FIELD.EXIT_REASON, 18n);
      state = reads(state, FIELD.GUEST_RIP, GUEST_RIP);
      state = expectOnly(state, resume, entered(), 'vm-entry.guest-runs');
    }
    expect(cpuOf(state, 0).vmx).toBe('non-root');
  });

  it('a VMREAD of the guest in 64-bit mode exits the same way (exit reason 23)', () => {
    const state = expectOnly(inGuest(), vmread(FIELD.EXIT_REASON), exit(EXIT_REASON.VMREAD), 'vmread.vm-exit-shadowing-off');
    reads(state, FIELD.EXIT_REASON, BigInt(EXIT_REASON.VMREAD));
  });
});

describe('an exception exit (§28.2.2): the VM-exit interruption information and error code', () => {
  it('#GP with error code 0: interruption information 80000B0DH, error code 0, guest RFLAGS.RF open', () => {
    const branch = vmExitWith(inGuest(), 0, VMCALL_RULES.vmExit, {
      reason: EXIT_REASON.EXCEPTION_OR_NMI,
      qualification: 0n,
      interruptionInformation: 0x8000_0b0d,
      interruptionErrorCode: 0,
    });
    RULES_HIT.add(branch.rule.id);
    let state = branch.next(exit(EXIT_REASON.EXCEPTION_OR_NMI));
    state = reads(state, FIELD.EXIT_REASON, 0n);
    state = reads(state, FIELD.VM_EXIT_INTERRUPTION_INFORMATION, 0x8000_0b0dn);
    state = reads(state, FIELD.VM_EXIT_INTERRUPTION_ERROR_CODE, 0n);
    expectStep(state, vmread(FIELD.GUEST_RFLAGS), succeed(0x1_0043n), 'vmread.success');
    expectStep(state, vmread(FIELD.GUEST_RFLAGS), succeed(0x43n), 'vmread.success');
    expectRejected(state, vmread(FIELD.GUEST_RFLAGS), succeed(0x42n));
  });
});

describe('updating VM-entry control fields', () => {
  it('bit 31 of the VM-entry interruption-information field is cleared by the exit', () => {
    const state = afterVmcall(inGuest());
    reads(state, FIELD.VM_ENTRY_INTERRUPTION_INFORMATION, 0n);
  });
});

describe('segment registers (§28.3.2)', () => {
  it('a usable segment: base, limit and access rights as loaded; an unusable LDTR: bit 16 set, bits 7:0 and 15:12 open, 31:17 and 11:8 clear', () => {
    let state = afterVmcall(inGuest());
    state = reads(state, FIELD.GUEST_CS_ACCESS_RIGHTS, 0xa09bn);
    state = reads(state, FIELD.GUEST_TR_BASE, 0x1000n);
    state = reads(state, FIELD.GUEST_TR_LIMIT, 0x67n);
    state = reads(state, FIELD.GUEST_LDTR_SELECTOR, 0n);
    expectStep(state, vmread(FIELD.GUEST_LDTR_ACCESS_RIGHTS), succeed(0x1_0000n), 'vmread.success');
    expectStep(state, vmread(FIELD.GUEST_LDTR_ACCESS_RIGHTS), succeed(0x1_f0ffn), 'vmread.success');
    expectRejected(state, vmread(FIELD.GUEST_LDTR_ACCESS_RIGHTS), succeed(0x1_0100n));
    expectRejected(state, vmread(FIELD.GUEST_LDTR_ACCESS_RIGHTS), succeed(0xffn));
    expectStep(state, vmread(FIELD.GUEST_LDTR_BASE), succeed(0x1234_5000n), 'vmread.success');
  });
});

describe('blocking by MOV SS at the exit (§28.3.4)', () => {
  it('an exit by the guest\'s first instruction under MOV-SS blocking saves the blocking; the pending debug exceptions are open', () => {
    const state = expectOnly(inGuest({ GUEST_INTERRUPTIBILITY_STATE: 2n }), vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    const read = reads(state, FIELD.GUEST_INTERRUPTIBILITY_STATE, 2n);
    expectStep(read, vmread(FIELD.GUEST_PENDING_DEBUG_EXCEPTIONS), succeed(0x1000n), 'vmread.success');
    expect(cpuOf(read, 0).movSsBlocking).toBe(0);
  });

  it('blocking by STI loaded by the entry is saved when the first instruction exits', () => {
    const state = expectOnly(inGuest({ GUEST_INTERRUPTIBILITY_STATE: 1n, GUEST_RFLAGS: 0x243n }), vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    reads(state, FIELD.GUEST_INTERRUPTIBILITY_STATE, 1n);
  });
});

describe('the step after the exit is the host\'s', () => {
  it('VMCALL in VMX root operation is VMfail (no SMM monitor): the host runs', () => {
    const state = afterVmcall(inGuest());
    const verdict = step(state, vmcall);
    expect(verdict.kind).toBe('defined');
  });
});

describe('exit information with undefined bits named by the exit (§28.2.1, §28.2.4)', () => {
  it('qualification bits 63:32 and instruction-information bits 31:28 left open, the rest exact', () => {
    const branch = vmExitWith(inGuest(), 0, VMCALL_RULES.vmExit, {
      reason: EXIT_REASON.VMCLEAR,
      qualification: 0x10n,
      qualificationUndefinedMask: 0xffff_ffff_0000_0000n,
      instructionLength: 3,
      instructionInformation: 0x0001_8100,
      instructionInformationUndefinedMask: 0xf000_0000,
    });
    RULES_HIT.add(branch.rule.id);
    const state = branch.next(exit(EXIT_REASON.VMCLEAR));
    expectStep(state, vmread(FIELD.EXIT_QUALIFICATION), succeed(0x1234_5678_0000_0010n), 'vmread.success');
    expectRejected(state, vmread(FIELD.EXIT_QUALIFICATION), succeed(0x11n));
    expectStep(state, vmread(FIELD.VM_EXIT_INSTRUCTION_INFORMATION), succeed(0xf001_8100n), 'vmread.success');
    expectRejected(state, vmread(FIELD.VM_EXIT_INSTRUCTION_INFORMATION), succeed(0x0001_8000n));
  });
});
