/**
 * Checks on the guest non-register state. Expected outcomes from SDM Vol. 3C §26.3.1.5 "Checks on
 * Guest Non-Register State" (2016; December 2023 §27.3.1.5) and the c.2009 §22.3.1.5: activity
 * state (supported per IA32_VMX_MISC bits 8:6; HLT only at SS.DPL 0; active under STI or MOV-SS
 * blocking; what may be injected in HLT, shutdown, wait-for-SIPI), interruptibility (reserved
 * bits; STI and MOV SS exclusive; STI needs IF; no external interrupt under STI or MOV-SS
 * blocking, no NMI under MOV-SS blocking, STI blocking with an NMI "may" fail (qualification 3);
 * SMI blocking only in SMM; NMI blocking with virtual NMIs; enclave interruption), pending debug
 * exceptions (reserved bits; BS consistent with TF and BTF under blocking or HLT), the VMCS link
 * pointer (qualification 4). FRED and UINV from Bochs and the KVM FRED patches. skylake:
 * IA32_VMX_MISC = 7004C1E7H (HLT, shutdown, wait-for-SIPI supported), revision identifier 4,
 * physical-address width 46.
 */
import { describe, expect, it } from 'vitest';
import { GUEST_NON_REGISTER_STATE_RULES } from '../../../model/vm-entry/checks/guest-non-register-state.ts';
import { ENTRY_CONTROL, PIN_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { GUEST_NON_REGISTER_STATE_CHECKS } from '../../../spec/entry-checks/guest-non-register-state.ts';
import { core2 } from '../helpers.ts';
import { bit, checkCases } from './check-cases.ts';

const S2016 = 'SDM 2016 §26.3.1.5';
const S2009 = 'SDM c.2009 §22.3.1.5';
const ACTIVE = 0n;
const HLT = 1n;
const SHUTDOWN = 2n;
const SIPI = 3n;
const STI = 1n;
const MOV_SS = 2n;
const SMI = 4n;
const NMI_BLOCKING = 8n;
const ENCLAVE = 16n;
const VALID = bit(31);
const event = (type: number, vector: number): bigint => VALID | (BigInt(type) << 8n) | BigInt(vector);
const EXTERNAL = event(0, 0x20);
const NMI = event(2, 2);
const ENTRY_TO_SMM = bit(ENTRY_CONTROL.ENTRY_TO_SMM);
const IA32E = bit(ENTRY_CONTROL.IA32E_MODE_GUEST);
const SS_DPL3 = 0xf3n;
const SS_DPL0 = 0x93n;

describe('guest non-register state', () => {
  it('has one rule per catalogue entry, in catalogue (SDM) order', () => {
    expect(GUEST_NON_REGISTER_STATE_RULES.map((r) => r.id)).toEqual(GUEST_NON_REGISTER_STATE_CHECKS.map((c) => c.id));
  });

  describe('activity state', () => {
    checkCases('guest-non-register-state.activity-state-supported', `${S2016}: a supported activity state`, [
      { says: 'state 4 (none) fails', fields: { GUEST_ACTIVITY_STATE: 4n }, outcome: 'fail' },
      { says: 'active passes', fields: { GUEST_ACTIVITY_STATE: ACTIVE }, outcome: 'pass' },
      { says: 'wait-for-SIPI passes where IA32_VMX_MISC[8] = 1', fields: { GUEST_ACTIVITY_STATE: SIPI }, outcome: 'pass' },
      { says: 'HLT passes on core2 (IA32_VMX_MISC = 401C0H, bit 6 set)', fields: { GUEST_ACTIVITY_STATE: HLT }, outcome: 'pass', setting: { profile: core2() } },
    ]);
    checkCases('guest-non-register-state.activity-hlt-requires-ss-dpl-0', `${S2016}: not HLT when SS.DPL is not 0`, [
      { says: 'HLT at SS.DPL 3 fails', fields: { GUEST_ACTIVITY_STATE: HLT, GUEST_SS_ACCESS_RIGHTS: SS_DPL3 }, outcome: 'fail' },
      { says: 'HLT at SS.DPL 0 passes', fields: { GUEST_ACTIVITY_STATE: HLT, GUEST_SS_ACCESS_RIGHTS: SS_DPL0 }, outcome: 'pass' },
      { says: 'active at SS.DPL 3 passes', fields: { GUEST_ACTIVITY_STATE: ACTIVE, GUEST_SS_ACCESS_RIGHTS: SS_DPL3 }, outcome: 'pass' },
    ]);
    checkCases('guest-non-register-state.activity-active-when-blocking', `${S2016}: active when blocking by STI or MOV SS`, [
      { says: 'HLT with STI blocking fails', fields: { GUEST_ACTIVITY_STATE: HLT, GUEST_INTERRUPTIBILITY_STATE: STI }, outcome: 'fail' },
      { says: 'shutdown with MOV-SS blocking fails', fields: { GUEST_ACTIVITY_STATE: SHUTDOWN, GUEST_INTERRUPTIBILITY_STATE: MOV_SS }, outcome: 'fail' },
      { says: 'active with STI blocking passes', fields: { GUEST_ACTIVITY_STATE: ACTIVE, GUEST_INTERRUPTIBILITY_STATE: STI }, outcome: 'pass' },
      { says: 'HLT with only NMI blocking passes', fields: { GUEST_ACTIVITY_STATE: HLT, GUEST_INTERRUPTIBILITY_STATE: NMI_BLOCKING }, outcome: 'pass' },
    ]);
    checkCases('guest-non-register-state.injection-in-hlt', `${S2009}: in HLT only external interrupts, NMIs, #DB, #MC and pending MTF`, [
      { says: 'a #PF (type 3, vector 14) fails', fields: { GUEST_ACTIVITY_STATE: HLT, VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 14) }, outcome: 'fail' },
      { says: 'a software interrupt (type 4) fails', fields: { GUEST_ACTIVITY_STATE: HLT, VM_ENTRY_INTERRUPTION_INFORMATION: event(4, 0x80) }, outcome: 'fail' },
      { says: 'other event with vector 1 fails', fields: { GUEST_ACTIVITY_STATE: HLT, VM_ENTRY_INTERRUPTION_INFORMATION: event(7, 1) }, outcome: 'fail' },
      { says: 'an external interrupt passes', fields: { GUEST_ACTIVITY_STATE: HLT, VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL }, outcome: 'pass' },
      { says: 'an NMI passes', fields: { GUEST_ACTIVITY_STATE: HLT, VM_ENTRY_INTERRUPTION_INFORMATION: NMI }, outcome: 'pass' },
      { says: 'a #DB passes', fields: { GUEST_ACTIVITY_STATE: HLT, VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 1) }, outcome: 'pass' },
      { says: 'a #MC passes', fields: { GUEST_ACTIVITY_STATE: HLT, VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 18) }, outcome: 'pass' },
      { says: 'a pending MTF VM exit (type 7, vector 0) passes', fields: { GUEST_ACTIVITY_STATE: HLT, VM_ENTRY_INTERRUPTION_INFORMATION: event(7, 0) }, outcome: 'pass' },
      { says: 'no injection passes', fields: { GUEST_ACTIVITY_STATE: HLT, VM_ENTRY_INTERRUPTION_INFORMATION: 0n }, outcome: 'pass' },
      { says: 'an active guest is not this check', fields: { GUEST_ACTIVITY_STATE: ACTIVE, VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 14) }, outcome: 'not-applicable' },
    ]);
    checkCases('guest-non-register-state.injection-in-shutdown', `${S2009}: in shutdown only NMIs and #MC`, [
      { says: 'an external interrupt fails', fields: { GUEST_ACTIVITY_STATE: SHUTDOWN, VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL }, outcome: 'fail' },
      { says: 'a #DB fails', fields: { GUEST_ACTIVITY_STATE: SHUTDOWN, VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 1) }, outcome: 'fail' },
      { says: 'an NMI passes', fields: { GUEST_ACTIVITY_STATE: SHUTDOWN, VM_ENTRY_INTERRUPTION_INFORMATION: NMI }, outcome: 'pass' },
      { says: 'a #MC passes', fields: { GUEST_ACTIVITY_STATE: SHUTDOWN, VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 18) }, outcome: 'pass' },
      { says: 'an external interrupt with vector 18 fails (#MC is the hardware exception with that vector)', fields: { GUEST_ACTIVITY_STATE: SHUTDOWN, VM_ENTRY_INTERRUPTION_INFORMATION: event(0, 18) }, outcome: 'fail' },
      { says: 'no injection passes', fields: { GUEST_ACTIVITY_STATE: SHUTDOWN, VM_ENTRY_INTERRUPTION_INFORMATION: 0n }, outcome: 'pass' },
      { says: 'an active guest is not this check', fields: { GUEST_ACTIVITY_STATE: ACTIVE, VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL }, outcome: 'not-applicable' },
    ]);
    checkCases('guest-non-register-state.injection-in-wait-for-sipi', `${S2009}: nothing injected in wait-for-SIPI`, [
      { says: 'an NMI fails', fields: { GUEST_ACTIVITY_STATE: SIPI, VM_ENTRY_INTERRUPTION_INFORMATION: NMI }, outcome: 'fail' },
      { says: 'no injection passes', fields: { GUEST_ACTIVITY_STATE: SIPI, VM_ENTRY_INTERRUPTION_INFORMATION: NMI & ~VALID }, outcome: 'pass' },
      { says: 'an active guest is not this check', fields: { GUEST_ACTIVITY_STATE: ACTIVE, VM_ENTRY_INTERRUPTION_INFORMATION: NMI }, outcome: 'not-applicable' },
    ]);
    checkCases('guest-non-register-state.wait-for-sipi-not-entering-smm', `${S2009}: not wait-for-SIPI with "entry to SMM"`, [
      { says: 'wait-for-SIPI entering SMM fails', fields: { VM_ENTRY_CONTROLS: ENTRY_TO_SMM, GUEST_ACTIVITY_STATE: SIPI }, outcome: 'fail' },
      { says: 'HLT entering SMM passes', fields: { VM_ENTRY_CONTROLS: ENTRY_TO_SMM, GUEST_ACTIVITY_STATE: HLT }, outcome: 'pass' },
      { says: 'wait-for-SIPI without "entry to SMM" is not this check', fields: { VM_ENTRY_CONTROLS: 0n, GUEST_ACTIVITY_STATE: SIPI }, outcome: 'not-applicable' },
    ]);
  });

  describe('interruptibility state', () => {
    checkCases('guest-non-register-state.interruptibility-reserved', `${S2009}: bits 31:5 reserved; bit 4 exists only with SGX`, [
      { says: 'bit 5 fails', fields: { GUEST_INTERRUPTIBILITY_STATE: bit(5) }, outcome: 'fail' },
      { says: 'bits 3:0 pass', fields: { GUEST_INTERRUPTIBILITY_STATE: 0xdn }, outcome: 'pass' },
      { says: 'bit 4 may fail: the profile does not record SGX', fields: { GUEST_INTERRUPTIBILITY_STATE: ENCLAVE }, outcome: 'may-fail' },
    ]);
    checkCases('guest-non-register-state.sti-and-mov-ss-exclusive', `${S2009}: STI and MOV-SS blocking not both 1`, [
      { says: 'both fail', fields: { GUEST_INTERRUPTIBILITY_STATE: STI | MOV_SS }, outcome: 'fail' },
      { says: 'MOV SS alone passes', fields: { GUEST_INTERRUPTIBILITY_STATE: MOV_SS }, outcome: 'pass' },
    ]);
    checkCases('guest-non-register-state.sti-blocking-requires-if', `${S2009}: STI blocking 0 when IF is 0`, [
      { says: 'STI blocking with IF clear fails', fields: { GUEST_INTERRUPTIBILITY_STATE: STI, GUEST_RFLAGS: 2n }, outcome: 'fail' },
      { says: 'STI blocking with IF set passes', fields: { GUEST_INTERRUPTIBILITY_STATE: STI, GUEST_RFLAGS: 0x202n }, outcome: 'pass' },
    ]);
    checkCases('guest-non-register-state.sti-blocking-vs-external-interrupt', `${S2016}: no STI blocking when injecting an external interrupt`, [
      { says: 'STI blocking fails', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL, GUEST_INTERRUPTIBILITY_STATE: STI }, outcome: 'fail' },
      { says: 'no blocking passes', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL, GUEST_INTERRUPTIBILITY_STATE: 0n }, outcome: 'pass' },
      { says: 'an NMI is not this check', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: NMI, GUEST_INTERRUPTIBILITY_STATE: STI }, outcome: 'not-applicable' },
    ]);
    checkCases('guest-non-register-state.mov-ss-blocking-vs-external-interrupt', `${S2016}: no MOV-SS blocking when injecting an external interrupt`, [
      { says: 'MOV-SS blocking fails', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL, GUEST_INTERRUPTIBILITY_STATE: MOV_SS }, outcome: 'fail' },
      { says: 'NMI blocking only passes', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL, GUEST_INTERRUPTIBILITY_STATE: NMI_BLOCKING }, outcome: 'pass' },
    ]);
    checkCases('guest-non-register-state.mov-ss-blocking-vs-nmi', `${S2016}: no MOV-SS blocking when injecting an NMI`, [
      { says: 'MOV-SS blocking fails', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: NMI, GUEST_INTERRUPTIBILITY_STATE: MOV_SS }, outcome: 'fail' },
      { says: 'no blocking passes', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: NMI, GUEST_INTERRUPTIBILITY_STATE: 0n }, outcome: 'pass' },
    ]);
    checkCases('guest-non-register-state.smi-blocking-outside-smm', `${S2016}: SMI blocking is 0 outside SMM`, [
      { says: 'SMI blocking outside SMM fails', fields: { GUEST_INTERRUPTIBILITY_STATE: SMI }, outcome: 'fail' },
      { says: 'no SMI blocking passes', fields: { GUEST_INTERRUPTIBILITY_STATE: 0n }, outcome: 'pass' },
      { says: 'in SMM it is not this check', fields: { GUEST_INTERRUPTIBILITY_STATE: SMI }, outcome: 'not-applicable', setting: { environment: { inSmm: true } } },
    ]);
    checkCases('guest-non-register-state.smi-blocking-entering-smm', `${S2016}: SMI blocking is 1 with "entry to SMM"`, [
      { says: 'no SMI blocking entering SMM fails', fields: { VM_ENTRY_CONTROLS: ENTRY_TO_SMM, GUEST_INTERRUPTIBILITY_STATE: 0n }, outcome: 'fail' },
      { says: 'SMI blocking entering SMM passes', fields: { VM_ENTRY_CONTROLS: ENTRY_TO_SMM, GUEST_INTERRUPTIBILITY_STATE: SMI }, outcome: 'pass' },
    ]);
    checkCases('guest-non-register-state.sti-blocking-vs-nmi', `${S2016}: "some processors" require no STI blocking when injecting an NMI`, [
      { says: 'STI blocking with an NMI may fail (qualification 3) or not', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: NMI, GUEST_INTERRUPTIBILITY_STATE: STI }, outcome: 'may-fail' },
      { says: 'no STI blocking passes', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: NMI, GUEST_INTERRUPTIBILITY_STATE: 0n }, outcome: 'pass' },
    ]);
    const vnmi = bit(PIN_CONTROL.VIRTUAL_NMIS);
    checkCases('guest-non-register-state.nmi-blocking-vs-virtual-nmi', `${S2016}: with "virtual NMIs", no NMI blocking when injecting an NMI`, [
      { says: 'NMI blocking fails', fields: { PIN_BASED_CONTROLS: vnmi, VM_ENTRY_INTERRUPTION_INFORMATION: NMI, GUEST_INTERRUPTIBILITY_STATE: NMI_BLOCKING }, outcome: 'fail' },
      { says: 'no NMI blocking passes', fields: { PIN_BASED_CONTROLS: vnmi, VM_ENTRY_INTERRUPTION_INFORMATION: NMI, GUEST_INTERRUPTIBILITY_STATE: 0n }, outcome: 'pass' },
      { says: 'without "virtual NMIs" there is no such requirement', fields: { PIN_BASED_CONTROLS: 0n, VM_ENTRY_INTERRUPTION_INFORMATION: NMI, GUEST_INTERRUPTIBILITY_STATE: NMI_BLOCKING }, outcome: 'not-applicable' },
    ]);
    checkCases('guest-non-register-state.enclave-interruption-vs-mov-ss', `${S2016}: enclave interruption excludes MOV-SS blocking`, [
      { says: 'both fail', fields: { GUEST_INTERRUPTIBILITY_STATE: ENCLAVE | MOV_SS }, outcome: 'fail' },
      { says: 'enclave interruption with STI blocking passes', fields: { GUEST_INTERRUPTIBILITY_STATE: ENCLAVE | STI }, outcome: 'pass' },
    ]);
    checkCases('guest-non-register-state.enclave-interruption-requires-sgx', `${S2016}: enclave interruption only with SGX (not in the profile)`, [
      { says: 'enclave interruption may fail', fields: { GUEST_INTERRUPTIBILITY_STATE: ENCLAVE }, outcome: 'may-fail' },
      { says: 'no enclave interruption passes', fields: { GUEST_INTERRUPTIBILITY_STATE: STI }, outcome: 'pass' },
    ]);
    const fred = { VM_ENTRY_CONTROLS: IA32E, GUEST_CR4: bit(32) | 0x2020n };
    checkCases('guest-non-register-state.sti-blocking-fred', 'Bochs and the KVM FRED patches: with FRED, no STI blocking at CPL 3', [
      { says: 'STI blocking at SS.DPL 3 fails', fields: { ...fred, GUEST_SS_ACCESS_RIGHTS: SS_DPL3, GUEST_INTERRUPTIBILITY_STATE: STI }, outcome: 'fail' },
      { says: 'STI blocking at SS.DPL 0 passes', fields: { ...fred, GUEST_SS_ACCESS_RIGHTS: SS_DPL0, GUEST_INTERRUPTIBILITY_STATE: STI }, outcome: 'pass' },
      { says: 'an IA-32e guest without CR4.FRED is not this check', fields: { ...fred, GUEST_CR4: 0x2020n, GUEST_SS_ACCESS_RIGHTS: SS_DPL3, GUEST_INTERRUPTIBILITY_STATE: STI }, outcome: 'not-applicable' },
    ]);
  });

  describe('pending debug exceptions', () => {
    checkCases('guest-non-register-state.pending-debug-reserved', `${S2016}: bits 11:4, 13, 15 and 63:17 are 0`, [
      { says: 'bit 4 fails', fields: { GUEST_PENDING_DEBUG_EXCEPTIONS: bit(4) }, outcome: 'fail' },
      { says: 'bit 13 fails', fields: { GUEST_PENDING_DEBUG_EXCEPTIONS: bit(13) }, outcome: 'fail' },
      { says: 'bit 17 fails', fields: { GUEST_PENDING_DEBUG_EXCEPTIONS: bit(17) }, outcome: 'fail' },
      { says: 'B0-B3, enabled breakpoint, BS and RTM pass', fields: { GUEST_PENDING_DEBUG_EXCEPTIONS: 0xfn | bit(12) | bit(14) | bit(16) }, outcome: 'pass' },
    ]);
    const underSti = { GUEST_INTERRUPTIBILITY_STATE: STI, GUEST_ACTIVITY_STATE: ACTIVE };
    const TF = 0x102n;
    checkCases('guest-non-register-state.pending-debug-bs-set', `${S2009}: under blocking or in HLT, TF = 1 and BTF = 0 require BS`, [
      { says: 'TF without BS under STI blocking fails', fields: { ...underSti, GUEST_RFLAGS: TF, GUEST_IA32_DEBUGCTL: 0n, GUEST_PENDING_DEBUG_EXCEPTIONS: 0n }, outcome: 'fail' },
      { says: 'TF without BS in HLT fails', fields: { GUEST_INTERRUPTIBILITY_STATE: 0n, GUEST_ACTIVITY_STATE: HLT, GUEST_RFLAGS: TF, GUEST_IA32_DEBUGCTL: 0n, GUEST_PENDING_DEBUG_EXCEPTIONS: 0n }, outcome: 'fail' },
      { says: 'TF with BS passes', fields: { ...underSti, GUEST_RFLAGS: TF, GUEST_IA32_DEBUGCTL: 0n, GUEST_PENDING_DEBUG_EXCEPTIONS: bit(14) }, outcome: 'pass' },
      { says: 'TF with BTF needs no BS', fields: { ...underSti, GUEST_RFLAGS: TF, GUEST_IA32_DEBUGCTL: 2n, GUEST_PENDING_DEBUG_EXCEPTIONS: 0n }, outcome: 'pass' },
      { says: 'active without blocking is not this check', fields: { GUEST_INTERRUPTIBILITY_STATE: 0n, GUEST_ACTIVITY_STATE: ACTIVE }, outcome: 'not-applicable' },
    ]);
    checkCases('guest-non-register-state.pending-debug-bs-clear', `${S2009}: under blocking or in HLT, TF = 0 or BTF = 1 require BS = 0`, [
      { says: 'BS with TF clear fails', fields: { ...underSti, GUEST_RFLAGS: 2n, GUEST_IA32_DEBUGCTL: 0n, GUEST_PENDING_DEBUG_EXCEPTIONS: bit(14) }, outcome: 'fail' },
      { says: 'BS with TF and BTF fails', fields: { ...underSti, GUEST_RFLAGS: TF, GUEST_IA32_DEBUGCTL: 2n, GUEST_PENDING_DEBUG_EXCEPTIONS: bit(14) }, outcome: 'fail' },
      { says: 'no BS with TF clear passes', fields: { ...underSti, GUEST_RFLAGS: 2n, GUEST_IA32_DEBUGCTL: 0n, GUEST_PENDING_DEBUG_EXCEPTIONS: 0n }, outcome: 'pass' },
    ]);
  });

  describe('VMCS link pointer', () => {
    const UNUSED = 0xffff_ffff_ffff_ffffn;
    const LINK = 0x5000n;
    checkCases('guest-non-register-state.link-pointer-aligned', `${S2009}: bits 11:0 are 0 when the pointer is in use`, [
      { says: 'a pointer with bit 3 set fails', fields: { VMCS_LINK_POINTER: LINK | 8n }, outcome: 'fail' },
      { says: 'a 4-KByte aligned pointer passes', fields: { VMCS_LINK_POINTER: LINK }, outcome: 'pass' },
      { says: 'FFFFFFFF_FFFFFFFFH (not in use) is not checked', fields: { VMCS_LINK_POINTER: UNUSED }, outcome: 'not-applicable' },
    ]);
    checkCases('guest-non-register-state.link-pointer-physical-width', `${S2009}: no bit at or above the physical-address width`, [
      { says: 'bit 46 with width 46 fails', fields: { VMCS_LINK_POINTER: bit(46) }, outcome: 'fail' },
      { says: 'bit 45 passes', fields: { VMCS_LINK_POINTER: bit(45) }, outcome: 'pass' },
    ]);
    const header = (word: number): ReadonlyMap<bigint, number> => new Map([[LINK, word]]);
    checkCases('guest-non-register-state.link-pointer-revision', 'Bochs and KVM nested_vmx_check_vmcs_link_ptr: the referenced region carries the revision identifier', [
      { says: 'revision 5 (skylake has 4) fails', fields: { VMCS_LINK_POINTER: LINK }, outcome: 'fail', setting: { memory: header(5) } },
      { says: 'revision 4 passes', fields: { VMCS_LINK_POINTER: LINK }, outcome: 'pass', setting: { memory: header(4) } },
      { says: 'revision 4 with the shadow indicator passes (bits 30:0 compared)', fields: { VMCS_LINK_POINTER: LINK }, outcome: 'pass', setting: { memory: header(0x8000_0004) } },
    ]);
    const shadowing = { PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS), SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY_CONTROL.VMCS_SHADOWING) };
    const notShadowing = { PRIMARY_PROCESSOR_BASED_CONTROLS: 0n, SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY_CONTROL.VMCS_SHADOWING) };
    checkCases('guest-non-register-state.link-pointer-shadow-indicator', `${S2016}: bit 31 of the referenced region equals "VMCS shadowing"`, [
      { says: 'an ordinary VMCS with "VMCS shadowing" fails', fields: { VMCS_LINK_POINTER: LINK, ...shadowing }, outcome: 'fail', setting: { memory: header(4) } },
      { says: 'a shadow VMCS without "VMCS shadowing" (secondary controls not activated) fails', fields: { VMCS_LINK_POINTER: LINK, ...notShadowing }, outcome: 'fail', setting: { memory: header(0x8000_0004) } },
      { says: 'a shadow VMCS with "VMCS shadowing" passes', fields: { VMCS_LINK_POINTER: LINK, ...shadowing }, outcome: 'pass', setting: { memory: header(0x8000_0004) } },
    ]);
    checkCases('guest-non-register-state.link-pointer-not-current-vmcs', `${S2016}: outside SMM the pointer is not the current-VMCS pointer`, [
      { says: 'the current VMCS fails', fields: { VMCS_LINK_POINTER: LINK, VM_ENTRY_CONTROLS: 0n }, outcome: 'fail', setting: { environment: { currentVmcsPointer: LINK } } },
      { says: 'another VMCS passes', fields: { VMCS_LINK_POINTER: LINK, VM_ENTRY_CONTROLS: 0n }, outcome: 'pass', setting: { environment: { currentVmcsPointer: 0x6000n } } },
      { says: 'an unknown current-VMCS pointer is undecided', fields: { VMCS_LINK_POINTER: LINK, VM_ENTRY_CONTROLS: 0n }, outcome: 'undecided' },
      { says: 'in SMM without "entry to SMM" it is not this check', fields: { VMCS_LINK_POINTER: LINK, VM_ENTRY_CONTROLS: 0n }, outcome: 'not-applicable', setting: { environment: { inSmm: true, currentVmcsPointer: LINK } } },
    ]);
    checkCases('guest-non-register-state.link-pointer-not-executive-vmcs', `${S2016}: in SMM without "entry to SMM", the pointer differs from the executive-VMCS pointer`, [
      { says: 'the executive VMCS fails', fields: { VMCS_LINK_POINTER: LINK, VM_ENTRY_CONTROLS: 0n, EXECUTIVE_VMCS_POINTER: LINK }, outcome: 'fail', setting: { environment: { inSmm: true } } },
      { says: 'another VMCS passes', fields: { VMCS_LINK_POINTER: LINK, VM_ENTRY_CONTROLS: 0n, EXECUTIVE_VMCS_POINTER: 0x6000n }, outcome: 'pass', setting: { environment: { inSmm: true } } },
      { says: 'outside SMM (the model\'s assumption) it is not this check', fields: { VMCS_LINK_POINTER: LINK, VM_ENTRY_CONTROLS: 0n }, outcome: 'not-applicable' },
    ]);
  });

  checkCases('guest-non-register-state.uinv-high-zero', 'Bochs: with "load UINV", UINV bits 15:8 are 0', [
    { says: 'bit 8 fails', fields: { VM_ENTRY_CONTROLS: bit(ENTRY_CONTROL.LOAD_UINV), GUEST_UINV: 0x100n }, outcome: 'fail' },
    { says: 'a vector in 7:0 passes', fields: { VM_ENTRY_CONTROLS: bit(ENTRY_CONTROL.LOAD_UINV), GUEST_UINV: 0xecn }, outcome: 'pass' },
  ]);
});
