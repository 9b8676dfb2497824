/**
 * VMCALL and VMFUNC outside VMX non-root operation, from SDM Vol. 3C, December 2023, §31.3
 * "VMCALL—Call to VM Monitor" and "VMFUNC—Invoke VM function", §26.5.6 "VM Functions".
 */
import { describe, expect, it } from 'vitest';
import { FIELD } from '../../spec/fields.ts';
import { CORE2, FAIL_INVALID, failValid, GP, Rig, UD, value } from './fixtures.ts';

describe('VMCALL', () => {
  it('raises #UD outside VMX operation', () => {
    expect(new Rig().step({ kind: 'vmcall', cpu: 0 })).toEqual(UD());
  });

  it('fails with error 1 in VMX root operation (IA32_SMM_MONITOR_CTL valid bit clear)', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step({ kind: 'vmcall', cpu: 0 })).toEqual(failValid(1));
    expect(rig.vmread(FIELD.VM_INSTRUCTION_ERROR)).toEqual(value('0x1'));
  });

  it('fails with error 1 also on a processor supporting the dual-monitor treatment (Core 2)', () => {
    const rig = new Rig(CORE2).enterWithVmcs();
    expect(rig.profile.dualMonitor).toBe(true);
    expect(rig.step({ kind: 'vmcall', cpu: 0 })).toEqual(failValid(1));
  });

  it('fails invalid in VMX root operation when no VMCS is current', () => {
    const rig = new Rig().enter();
    expect(rig.step({ kind: 'vmcall', cpu: 0 })).toEqual(FAIL_INVALID);
  });

  it('raises #UD in compatibility mode and in virtual-8086 mode, #GP(0) at CPL > 0', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('cs.l', 0);
    expect(rig.step({ kind: 'vmcall', cpu: 0 })).toEqual(UD());
    rig.set('cs.l', 1);
    rig.set('rflags.vm', 1);
    expect(rig.step({ kind: 'vmcall', cpu: 0 })).toEqual(UD());
    rig.set('rflags.vm', 0);
    rig.set('cpl', 3);
    expect(rig.step({ kind: 'vmcall', cpu: 0 })).toEqual(GP());
  });
});

describe('VMFUNC', () => {
  it('raises #UD outside VMX operation and in VMX root operation', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'vmfunc', cpu: 0, eax: '0x0', ecx: '0x0' })).toEqual(UD());
    rig.enterWithVmcs();
    expect(rig.step({ kind: 'vmfunc', cpu: 0, eax: '0x0', ecx: '0x1' })).toEqual(UD());
  });

  it('leaves the flags unchanged', () => {
    const rig = new Rig().enter();
    rig.vmread(FIELD.GUEST_RIP);
    expect(rig.step({ kind: 'vmfunc', cpu: 0, eax: '0x40', ecx: '0x0' })).toEqual(UD(0x1));
  });
});
