/**
 * Two logical processors sharing memory: per-processor VMX state, and migrating a VMCS between
 * processors as SDM Vol. 3C, December 2023, §25.11.1 "Software Use of Virtual-Machine Control
 * Structures" prescribes (VMCLEAR on the old processor, VMPTRLD on the new one).
 */
import { describe, expect, it } from 'vitest';
import { FIELD } from '../../spec/fields.ts';
import { FAIL_INVALID, hex, Rig, SUCCEED, UD, value, VMCS_A, VMXON_0, VMXON_1 } from './fixtures.ts';

describe('two logical processors', () => {
  it('each has its own VMX operation state', () => {
    const rig = new Rig().enterWithVmcs(0);
    expect(rig.vmread(FIELD.GUEST_RIP, 1)).toEqual(UD());
    rig.enter(1);
    expect(rig.vmread(FIELD.GUEST_RIP, 1)).toEqual(FAIL_INVALID);
    expect(rig.vmptrst(1)).toEqual(value('0xffffffffffffffff'));
    expect(rig.vmptrst(0)).toEqual(value(hex(VMCS_A)));
  });

  it('each has its own flags', () => {
    const rig = new Rig().enter(0).enter(1);
    expect(rig.vmread(FIELD.GUEST_RIP, 1)).toEqual(FAIL_INVALID);
    expect(rig.set('cpl', 0, 0)).toEqual({ kind: 'ok', flags: 0 });
    expect(rig.set('cpl', 0, 1)).toEqual({ kind: 'ok', flags: 1 });
  });

  it('each checks VMCLEAR and VMPTRLD against its own VMXON pointer only', () => {
    const rig = new Rig().enter(0).enter(1);
    expect(rig.vmptrld(VMXON_0, 1)).toEqual(SUCCEED);
    expect(rig.vmclear(VMXON_1, 0)).toEqual(SUCCEED);
  });

  it('migrate a VMCS: VMCLEAR on processor 0, VMPTRLD on processor 1 sees the data written on 0', () => {
    const rig = new Rig().enterWithVmcs(0).enter(1);
    rig.vmwrite(FIELD.GUEST_RIP, 0xffff_f800_0000_1000n, 0);
    rig.vmwrite(FIELD.GUEST_ES_SELECTOR, 0x2b, 0);
    expect(rig.vmclear(VMCS_A, 0)).toEqual(SUCCEED);
    expect(rig.vmptrld(VMCS_A, 1)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_RIP, 1)).toEqual(value('0xfffff80000001000'));
    expect(rig.vmread(FIELD.GUEST_ES_SELECTOR, 1)).toEqual(value('0x2b'));
  });

  it('migrate back: processor 1 VMCLEARs, processor 0 VMPTRLDs and sees processor 1 changes', () => {
    const rig = new Rig().enterWithVmcs(0).enter(1);
    rig.vmclear(VMCS_A, 0);
    rig.vmptrld(VMCS_A, 1);
    rig.vmwrite(FIELD.GUEST_RIP, 0x77, 1);
    rig.vmclear(VMCS_A, 1);
    expect(rig.vmptrld(VMCS_A, 0)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_RIP, 0)).toEqual(value('0x77'));
  });

  it('without the VMCLEAR, both processors share one VMCS (impl: the data lives in the region; the SDM makes this undefined)', () => {
    const rig = new Rig().enterWithVmcs(0).enter(1);
    rig.vmwrite(FIELD.GUEST_RIP, 0x1234, 0);
    expect(rig.vmptrld(VMCS_A, 1)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_RIP, 1)).toEqual(value('0x1234'));
    rig.vmwrite(FIELD.GUEST_RIP, 0x5678, 1);
    expect(rig.vmread(FIELD.GUEST_RIP, 0)).toEqual(value('0x5678'));
  });

  it('a VMCLEAR on the other processor does not touch the processor that has the VMCS current', () => {
    const rig = new Rig().enterWithVmcs(0).enter(1);
    rig.vmwrite(FIELD.GUEST_RIP, 0x55, 0);
    expect(rig.vmclear(VMCS_A, 1)).toEqual(SUCCEED);
    expect(rig.vmptrst(0)).toEqual(value(hex(VMCS_A)));
    expect(rig.vmread(FIELD.GUEST_RIP, 0)).toEqual(value('0x55'));
  });
});
