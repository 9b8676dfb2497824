/**
 * VM entry as a whole: what the processor does after a VM-entry failure (SDM Vol. 3C, December
 * 2023, §27.8 "VM-Entry Failures During or After Loading Guest State": exit reason and
 * qualification written, host state loaded as on a VM exit, §28.5 "Loading Host State"), after a
 * successful entry (§27.3.2 "Loading Guest State": the guest runs in VMX non-root operation,
 * VMLAUNCH makes the VMCS launched, §31.3 "VMLAUNCH/VMRESUME—Launch/Resume Virtual Machine"), and
 * the guest's VMX instructions (#UD by mode first, then a VM exit: §31.3, each instruction's
 * Operation section, and §26.1.2 "Instructions That Cause VM Exits Unconditionally").
 */
import { describe, expect, it } from 'vitest';
import { S_CPL, S_CR0_LO, S_CR4_LO, S_CSL, S_FLAGS, S_IN_VMX, S_LMA, S_LME, S_MOV_SS, S_VM, STRIDE } from '../../impl/cpu-row.ts';
import { loadGuestState } from '../../impl/vm-entry/load-guest.ts';
import { loadHostState } from '../../impl/vm-entry/load-host.ts';
import { ENTRY_CONTROL as ENTRY, EXIT_CONTROL as EXIT, PRIMARY_CONTROL as PRIMARY, SECONDARY_CONTROL as SECONDARY } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import type { Operation } from '../../spec/operations.ts';
import { failValid, GP, hex, MAXIMAL, Rig, SKYLAKE, UD, value } from './fixtures.ts';
import { bit, type Changes, fieldsOf, guestImage, INVALID_GUEST_STATE } from './vm-entry-rig.ts';
import { loadVmcsOperations } from './vm-entry-vmcs.ts';
import { createProfile } from '../../spec/profile.ts';

const or = (mask: bigint) => (valid: bigint) => valid | mask;
const SIXTY_FOUR: Changes = { VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)), GUEST_CS_ACCESS_RIGHTS: 0xa09bn };
const COMPATIBILITY: Changes = { VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)) };
const ENTERED = { kind: 'vmentry', flags: 0 } as const;
const exit = (reason: number) => ({ kind: 'vmexit', reason, flags: 0 }) as const;

/** A rig with the valid VMCS (with `changes`) loaded and current on cpu 0, in 64-bit mode. */
function loaded(changes: Changes = {}, profile = SKYLAKE): Rig {
  const rig = new Rig(profile);
  for (const seen of rig.run(loadVmcsOperations(createProfile(profile), fieldsOf({ profile, changes })))) {
    expect(['ok', 'vmsucceed']).toContain(seen.kind);
  }
  return rig;
}

const vmlaunch: Operation = { kind: 'vmlaunch', cpu: 0 };
const vmresume: Operation = { kind: 'vmresume', cpu: 0 };
const vmcall: Operation = { kind: 'vmcall', cpu: 0 };

describe('a VM-entry failure', () => {
  it('writes exit reason 0x80000021 and the qualification, reads back by VMREAD in VMX root operation, flags 0', () => {
    const rig = loaded({ GUEST_RFLAGS: 0n });
    expect(rig.step(vmlaunch)).toEqual({ kind: 'vmentry-failure', exitReason: INVALID_GUEST_STATE, qualification: '0x0', flags: 0 });
    expect(rig.vmread(FIELD.EXIT_REASON)).toEqual(value('0x80000021'));
    expect(rig.vmread(FIELD.EXIT_QUALIFICATION)).toEqual(value('0x0'));
    // The VM-instruction error field is not written (VMLAUNCH did not VMfail).
    expect(rig.vmread(FIELD.VM_INSTRUCTION_ERROR)).toEqual(value('0x0'));
  });

  it('leaves the launch state unchanged: VMLAUNCH may be retried, VMRESUME still needs a launched VMCS', () => {
    const rig = loaded({ GUEST_RFLAGS: 0n });
    expect(rig.step(vmlaunch).kind).toBe('vmentry-failure');
    expect(rig.step(vmlaunch).kind).toBe('vmentry-failure');
    expect(rig.step(vmresume)).toEqual(failValid(5));
    expect(rig.vmwrite(FIELD.GUEST_RFLAGS, 2)).toEqual(value('0x0').kind === 'vmsucceed' ? { kind: 'vmsucceed', flags: 0 } : undefined);
    expect(rig.step(vmlaunch)).toEqual(ENTERED);
  });

  it('returns to a 32-bit host when "host address-space size" is 0: VMREAD then reads 32 bits', () => {
    const rig = loaded({
      GUEST_RFLAGS: 0n,
      PRIMARY_VM_EXIT_CONTROLS: (v) => v & ~bit(EXIT.HOST_ADDRESS_SPACE_SIZE),
      HOST_RIP: 0x1000n,
      HOST_CR4: 0x2000n,
    });
    rig.set('efer.lma', 0);
    rig.set('cs.l', 0);
    rig.vmwrite(FIELD.GUEST_RIP, 0); // 32-bit operands from here on
    expect(rig.step(vmlaunch).kind).toBe('vmentry-failure');
    expect(rig.vmread(FIELD.EXIT_REASON)).toEqual(value('0x80000021'));
  });
});

describe('a successful VM entry', () => {
  it('loads the guest mode: LMA from "IA-32e mode guest", CS.L, CPL = SS.DPL, RFLAGS.VM and flags, MOV-SS blocking', () => {
    const image = guestImage(SKYLAKE, { ...SIXTY_FOUR, GUEST_RFLAGS: 0x8d7n, GUEST_INTERRUPTIBILITY_STATE: 2n, GUEST_SS_ACCESS_RIGHTS: 0xc0f3n });
    const s = new Int32Array(STRIDE);
    loadGuestState(image.entry, image.guest, s, 0, image.words, 0);
    expect([s[S_LMA], s[S_LME], s[S_CSL], s[S_CPL], s[S_FLAGS], s[S_MOV_SS], s[S_VM], s[S_IN_VMX]]).toEqual([1, 1, 1, 3, 0x8d5, 1, 0, 2]);
  });

  it('makes the VMCS launched: after the guest exits, VMLAUNCH fails with error 4 and VMRESUME enters', () => {
    const rig = loaded(SIXTY_FOUR);
    expect(rig.step(vmlaunch)).toEqual(ENTERED);
    expect(rig.step(vmcall)).toEqual(exit(EXIT_REASON.VMCALL));
    expect(rig.vmread(FIELD.EXIT_REASON)).toEqual(value(hex(EXIT_REASON.VMCALL)));
    expect(rig.step(vmlaunch)).toEqual(failValid(4));
    expect(rig.step(vmresume)).toEqual(ENTERED);
  });

  it('reports the guest RFLAGS arithmetic flags', () => {
    expect(loaded({ GUEST_RFLAGS: 0x8d7n }).step(vmlaunch)).toEqual({ kind: 'vmentry', flags: 0x8d5 });
  });
});

describe('VMX instructions in the guest', () => {
  it('VMREAD in 64-bit mode exits with reason 23, in compatibility mode is #UD', () => {
    const guest64 = loaded(SIXTY_FOUR);
    guest64.step(vmlaunch);
    expect(guest64.vmread(FIELD.GUEST_RIP)).toEqual(exit(EXIT_REASON.VMREAD));
    const compatibility = loaded(COMPATIBILITY);
    expect(compatibility.step(vmlaunch)).toEqual(ENTERED);
    expect(compatibility.vmread(FIELD.GUEST_RIP)).toEqual(UD());
  });

  it('exits before the CPL check: a guest at CPL 3 (SS.DPL 3) exits on VMREAD and VMXON', () => {
    const cpl3: Changes = { ...SIXTY_FOUR, GUEST_SS_ACCESS_RIGHTS: 0xc0f3n, GUEST_SS_SELECTOR: 0x13n, GUEST_CS_SELECTOR: 0xbn, GUEST_CS_ACCESS_RIGHTS: 0xa0fbn };
    const rig = loaded(cpl3);
    expect(rig.step(vmlaunch)).toEqual(ENTERED);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(exit(EXIT_REASON.VMREAD));
    // Back in the host (CPL 0) after the exit: VMREAD works again.
    expect(rig.vmread(FIELD.EXIT_REASON)).toEqual(value(hex(EXIT_REASON.VMREAD)));
    rig.step(vmresume);
    expect(rig.step({ kind: 'vmxon', cpu: 0, pointer: '0x1000' })).toEqual(exit(EXIT_REASON.VMXON));
  });

  it('each VMX instruction exits with its own reason in a 32-bit protected-mode guest', () => {
    const cases: [Operation, number][] = [
      [{ kind: 'vmclear', cpu: 0, pointer: '0x3000' }, EXIT_REASON.VMCLEAR],
      [{ kind: 'vmptrld', cpu: 0, pointer: '0x3000' }, EXIT_REASON.VMPTRLD],
      [{ kind: 'vmptrst', cpu: 0 }, EXIT_REASON.VMPTRST],
      [{ kind: 'vmwrite', cpu: 0, encoding: hex(FIELD.GUEST_RIP), value: '0x0' }, EXIT_REASON.VMWRITE],
      [vmlaunch, EXIT_REASON.VMLAUNCH],
      [vmresume, EXIT_REASON.VMRESUME],
      [{ kind: 'vmxoff', cpu: 0 }, EXIT_REASON.VMXOFF],
      [vmcall, EXIT_REASON.VMCALL],
      [{ kind: 'invept', cpu: 0, type: '0x2', descriptor: ['0x0', '0x0'] }, EXIT_REASON.INVEPT],
      [{ kind: 'invvpid', cpu: 0, type: '0x2', descriptor: ['0x0', '0x0'] }, EXIT_REASON.INVVPID],
    ];
    for (const [op, reason] of cases) {
      const rig = loaded();
      expect(rig.step(vmlaunch)).toEqual(ENTERED);
      expect(rig.step(op)).toEqual(exit(reason));
    }
  });

  it('VMCALL exits even in compatibility mode and in virtual-8086 mode', () => {
    const compatibility = loaded(COMPATIBILITY);
    compatibility.step(vmlaunch);
    expect(compatibility.step(vmcall)).toEqual(exit(EXIT_REASON.VMCALL));
  });

  it('VMFUNC: #UD unless "enable VM functions" is 1, a VM exit (59) for a function not enabled', () => {
    const plain = loaded();
    plain.step(vmlaunch);
    expect(plain.step({ kind: 'vmfunc', cpu: 0, eax: '0x0', ecx: '0x0' })).toEqual(UD());
    const functions = loaded(
      { PRIMARY_PROCESSOR_BASED_CONTROLS: or(bit(PRIMARY.ACTIVATE_SECONDARY_CONTROLS)), SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY.ENABLE_VM_FUNCTIONS), VM_FUNCTION_CONTROLS: 0n },
      MAXIMAL,
    );
    expect(functions.step(vmlaunch)).toEqual(ENTERED);
    expect(functions.step({ kind: 'vmfunc', cpu: 0, eax: '0x40', ecx: '0x0' })).toEqual(UD());
    expect(functions.step({ kind: 'vmfunc', cpu: 0, eax: '0x0', ecx: '0x0' })).toEqual(exit(EXIT_REASON.VMFUNC));
  });

  it('VMREAD with VMCS shadowing on is reported unimplemented (bitmaps and shadow VMCS not implemented)', () => {
    const rig = loaded({ PRIMARY_PROCESSOR_BASED_CONTROLS: or(bit(PRIMARY.ACTIVATE_SECONDARY_CONTROLS)), SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY.VMCS_SHADOWING), ...SIXTY_FOUR });
    expect(rig.step(vmlaunch)).toEqual(ENTERED);
    expect(rig.vmread(FIELD.GUEST_RIP).kind).toBe('unimplemented');
  });

  it('outside VMX operation VMCALL stays #UD and in VMX root at CPL 3 #GP (unchanged)', () => {
    expect(new Rig().step(vmcall)).toEqual(UD());
    const rig = loaded();
    rig.set('cpl', 3);
    expect(rig.step(vmcall)).toEqual(GP());
  });
});
