/**
 * Checks on the guest RIP, RFLAGS and SSP. Expected outcomes from SDM Vol. 3C §26.3.1.4 "Checks on
 * Guest RIP and RFLAGS" (2016; December 2023 §27.3.1.4 "Checks on Guest RIP, RFLAGS, and SSP") and
 * the c.2009 §22.3.1.4: RIP bits 63:32 are 0 unless the guest runs 64-bit code ("IA-32e mode
 * guest" and CS.L), where bits 63:N are identical (N the linear-address width, 48 or 57: not in
 * the profile, so a value that differs between them may fail); RFLAGS reserved bits 63:22, 15, 5,
 * 3 are 0 and bit 1 is 1; VM is 0 for an IA-32e guest or with CR0.PE = 0; IF is 1 when an external
 * interrupt is injected. SSP and the FRED rule from Bochs and the KVM FRED patches.
 */
import { describe, expect, it } from 'vitest';
import { GUEST_RIP_RFLAGS_RULES } from '../../../model/vm-entry/checks/guest-rip-rflags.ts';
import { ENTRY_CONTROL } from '../../../spec/control-bits.ts';
import { GUEST_RIP_RFLAGS_CHECKS } from '../../../spec/entry-checks/guest-rip-rflags.ts';
import { bit, checkCases } from './check-cases.ts';

const S2016 = 'SDM 2016 §26.3.1.4';
const S2009 = 'SDM c.2009 §22.3.1.4';
const IA32E = bit(ENTRY_CONTROL.IA32E_MODE_GUEST);
const LOAD_CET = bit(ENTRY_CONTROL.LOAD_CET_STATE);
const CS_L = bit(13);
const RFLAGS_OK = 0x2n;
const VALID = bit(31);

describe('guest RIP, RFLAGS and SSP', () => {
  it('has one rule per catalogue entry, in catalogue (SDM) order', () => {
    expect(GUEST_RIP_RFLAGS_RULES.map((r) => r.id)).toEqual(GUEST_RIP_RFLAGS_CHECKS.map((c) => c.id));
  });

  checkCases('guest-rip-rflags.rip-high-zero', `${S2009}: outside 64-bit code RIP bits 63:32 are 0`, [
    { says: 'bit 32 in a non-IA-32e guest fails', fields: { VM_ENTRY_CONTROLS: 0n, GUEST_CS_ACCESS_RIGHTS: 0n, GUEST_RIP: bit(32) }, outcome: 'fail' },
    { says: 'bit 32 in compatibility mode (IA-32e, CS.L = 0) fails', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CS_ACCESS_RIGHTS: 0n, GUEST_RIP: bit(32) }, outcome: 'fail' },
    { says: 'FFFFFFFFH passes', fields: { VM_ENTRY_CONTROLS: 0n, GUEST_CS_ACCESS_RIGHTS: 0n, GUEST_RIP: 0xffff_ffffn }, outcome: 'pass' },
    { says: 'not checked in 64-bit code', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CS_ACCESS_RIGHTS: CS_L, GUEST_RIP: bit(32) }, outcome: 'not-applicable' },
  ]);
  checkCases('guest-rip-rflags.rip-canonical', `${S2009}: in 64-bit code RIP bits 63:N are identical`, [
    { says: 'bit 60 alone fails for both widths', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CS_ACCESS_RIGHTS: CS_L, GUEST_RIP: bit(60) }, outcome: 'fail' },
    { says: 'bit 47 alone passes: bits 63:48 are identical (the check is 63:N, not 63:N-1)', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CS_ACCESS_RIGHTS: CS_L, GUEST_RIP: bit(47) }, outcome: 'pass' },
    { says: 'bit 50 alone may fail: bits 63:48 differ, bits 63:57 do not', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CS_ACCESS_RIGHTS: CS_L, GUEST_RIP: bit(50) }, outcome: 'may-fail' },
  ]);
  checkCases('guest-rip-rflags.rflags-reserved-zero', `${S2016}: RFLAGS bits 63:22, 15, 5 and 3 are 0`, [
    { says: 'bit 3 fails', fields: { GUEST_RFLAGS: RFLAGS_OK | bit(3) }, outcome: 'fail' },
    { says: 'bit 15 fails', fields: { GUEST_RFLAGS: RFLAGS_OK | bit(15) }, outcome: 'fail' },
    { says: 'bit 22 fails', fields: { GUEST_RFLAGS: RFLAGS_OK | bit(22) }, outcome: 'fail' },
    { says: 'ID (bit 21) and IF pass', fields: { GUEST_RFLAGS: RFLAGS_OK | bit(21) | bit(9) }, outcome: 'pass' },
  ]);
  checkCases('guest-rip-rflags.rflags-bit1-set', `${S2016}: RFLAGS bit 1 is 1`, [
    { says: 'bit 1 clear fails', fields: { GUEST_RFLAGS: 0n }, outcome: 'fail' },
    { says: 'bit 1 set passes', fields: { GUEST_RFLAGS: RFLAGS_OK }, outcome: 'pass' },
  ]);
  checkCases('guest-rip-rflags.rflags-vm-ia32e', `${S2016}: VM is 0 for an IA-32e guest`, [
    { says: 'VM set in an IA-32e guest fails', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_RFLAGS: RFLAGS_OK | bit(17) }, outcome: 'fail' },
    { says: 'VM clear passes', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_RFLAGS: RFLAGS_OK }, outcome: 'pass' },
    { says: 'a virtual-8086 guest outside IA-32e mode is not this check', fields: { VM_ENTRY_CONTROLS: 0n, GUEST_RFLAGS: RFLAGS_OK | bit(17) }, outcome: 'not-applicable' },
  ]);
  checkCases('guest-rip-rflags.rflags-vm-real-mode', `${S2016}: VM is 0 when CR0.PE is 0`, [
    { says: 'VM set with PE clear fails', fields: { GUEST_CR0: 0x20n, GUEST_RFLAGS: RFLAGS_OK | bit(17) }, outcome: 'fail' },
    { says: 'VM clear with PE clear passes', fields: { GUEST_CR0: 0x20n, GUEST_RFLAGS: RFLAGS_OK }, outcome: 'pass' },
    { says: 'VM set with PE set is not this check', fields: { GUEST_CR0: 0x21n, GUEST_RFLAGS: RFLAGS_OK | bit(17) }, outcome: 'not-applicable' },
  ]);
  checkCases('guest-rip-rflags.rflags-if-for-external-interrupt', `${S2016}: IF is 1 when injecting an external interrupt`, [
    { says: 'an external interrupt (type 0, vector 20H) with IF clear fails', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: VALID | 0x20n, GUEST_RFLAGS: RFLAGS_OK }, outcome: 'fail' },
    { says: 'an external interrupt with IF set passes', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: VALID | 0x20n, GUEST_RFLAGS: RFLAGS_OK | bit(9) }, outcome: 'pass' },
    { says: 'an NMI (type 2) with IF clear is not this check', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: VALID | 0x202n, GUEST_RFLAGS: RFLAGS_OK }, outcome: 'not-applicable' },
    { says: 'no injection (valid bit clear) is not this check', fields: { VM_ENTRY_INTERRUPTION_INFORMATION: 0x20n, GUEST_RFLAGS: RFLAGS_OK }, outcome: 'not-applicable' },
  ]);
  checkCases('guest-rip-rflags.ssp-high-zero', 'Bochs: with "load CET state" outside IA-32e mode, SSP bits 63:32 are 0', [
    { says: 'bit 32 fails', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_SSP: bit(32) }, outcome: 'fail' },
    { says: 'a 32-bit value passes', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_SSP: 0xffff_fff0n }, outcome: 'pass' },
    { says: 'not checked for an IA-32e guest', fields: { VM_ENTRY_CONTROLS: LOAD_CET | IA32E, GUEST_SSP: bit(32) }, outcome: 'not-applicable' },
  ]);
  checkCases('guest-rip-rflags.ssp-canonical', 'Bochs: with "load CET state", SSP bits 63:N are identical', [
    { says: 'bit 60 alone fails', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_SSP: bit(60) }, outcome: 'fail' },
    { says: 'a high-half value passes', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_SSP: 0xffff_8000_0000_0000n }, outcome: 'pass' },
    { says: 'bit 50 alone may fail (identical above 57, not above 48)', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_SSP: bit(50) }, outcome: 'may-fail' },
  ]);
  checkCases('guest-rip-rflags.ssp-aligned', 'Bochs: with "load CET state", SSP bits 1:0 are 0', [
    { says: 'bit 1 set fails', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_SSP: 0x1002n }, outcome: 'fail' },
    { says: '4-byte aligned passes', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_SSP: 0x1004n }, outcome: 'pass' },
  ]);
  const fred = { VM_ENTRY_CONTROLS: IA32E, GUEST_CR4: bit(32) | 0x2020n };
  checkCases('guest-rip-rflags.rflags-iopl-fred', 'Bochs and the KVM FRED patches: with FRED and SS.DPL = 3, IOPL is 0', [
    { says: 'IOPL 3 at CPL 3 fails', fields: { ...fred, GUEST_SS_ACCESS_RIGHTS: 0x60n | 0x93n, GUEST_RFLAGS: RFLAGS_OK | 0x3000n }, outcome: 'fail' },
    { says: 'IOPL 0 at CPL 3 passes', fields: { ...fred, GUEST_SS_ACCESS_RIGHTS: 0x60n | 0x93n, GUEST_RFLAGS: RFLAGS_OK }, outcome: 'pass' },
    { says: 'IOPL 3 at CPL 0 passes', fields: { ...fred, GUEST_SS_ACCESS_RIGHTS: 0x93n, GUEST_RFLAGS: RFLAGS_OK | 0x3000n }, outcome: 'pass' },
    { says: 'not checked without CR4.FRED', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CR4: 0x2020n }, outcome: 'not-applicable' },
  ]);
});
