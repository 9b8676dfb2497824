/**
 * Checks on the guest control registers, debug registers and MSRs. Expected outcomes from SDM Vol.
 * 3C §26.3.1.1 "Checks on Guest Control Registers, Debug Registers, and MSRs" (2016; December
 * 2023 §27.3.1.1) and the c.2009 §22.3.1.1; checks added later from the code the catalogue names
 * (Bochs VMenterLoadCheckGuestState, KVM nested_vmx_check_guest_state, the KVM nested FRED
 * patches). Canonical addresses: Vol. 3A §3.3.7.1 "Canonical Addressing", with the width 48 or 57
 * (the profile does not record it, so a value that differs between the two may fail).
 * skylake: CR0 FIXED0 = 80000021H (PG, NE, PE), FIXED1 = FFFFFFFFH, CR4 FIXED0 = 2000H (VMXE),
 * FIXED1 = 3767FFH (no LA57, bit 12), MAXPHYADDR = 46.
 */
import { describe, expect, it } from 'vitest';
import { GUEST_CONTROL_REGISTER_RULES } from '../../../model/vm-entry/checks/guest-control-registers.ts';
import { ENTRY_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { GUEST_CONTROL_REGISTERS_CHECKS } from '../../../spec/entry-checks/guest-control-registers.ts';
import { LATER_ENTRY_CONTROL } from '../../../spec/guest-state-bits.ts';
import { maximal } from '../helpers.ts';
import { bit, checkCases } from './check-cases.ts';

const S2016 = 'SDM 2016 §26.3.1.1';
const S2009 = 'SDM c.2009 §22.3.1.1';
const IA32E = bit(ENTRY_CONTROL.IA32E_MODE_GUEST);
const LOAD_DEBUG = bit(ENTRY_CONTROL.LOAD_DEBUG_CONTROLS);
const LOAD_CET = bit(ENTRY_CONTROL.LOAD_CET_STATE);
const LOAD_EFER = bit(ENTRY_CONTROL.LOAD_IA32_EFER);
const LOAD_FRED = bit(LATER_ENTRY_CONTROL.LOAD_IA32_FRED);
const CR0_OK = 0x8000_0021n;
const CR4_OK = 0x2020n;
/** Canonical for 57-bit linear addresses, not for 48-bit ones. */
const ONLY_57 = 0x0000_8000_0000_0000n;
/** Canonical for neither width (bit 56 set, 63:57 clear). */
const NEITHER = bit(56);
const HIGH_HALF = 0xffff_8000_0000_0000n;

describe('guest control registers, debug registers and MSRs', () => {
  it('has one rule per catalogue entry, in catalogue (SDM) order', () => {
    expect(GUEST_CONTROL_REGISTER_RULES.map((r) => r.id)).toEqual(GUEST_CONTROL_REGISTERS_CHECKS.map((c) => c.id));
  });

  const ug = { PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS), SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY_CONTROL.UNRESTRICTED_GUEST) };
  const noUg = { PRIMARY_PROCESSOR_BASED_CONTROLS: 0n, SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY_CONTROL.UNRESTRICTED_GUEST) };
  checkCases('guest-control-registers.cr0-fixed0', `${S2016}: no bit set to a value not supported in VMX operation; PE and PG not checked with "unrestricted guest"`, [
    { says: 'CR0.NE (fixed to 1) clear fails', fields: { GUEST_CR0: 0x8000_0001n, ...noUg }, outcome: 'fail' },
    { says: 'PG, NE and PE set passes', fields: { GUEST_CR0: CR0_OK, ...noUg }, outcome: 'pass' },
    { says: 'PE and PG clear fail without "unrestricted guest" (secondary controls not activated)', fields: { GUEST_CR0: 0x20n, ...noUg }, outcome: 'fail' },
    { says: 'PE and PG clear pass with "unrestricted guest"', fields: { GUEST_CR0: 0x20n, ...ug }, outcome: 'pass' },
    {
      says: 'secondary controls not activated: the secondary field is not needed (SDM §25.6.2: they count as 0)',
      fields: { GUEST_CR0: 0x20n, PRIMARY_PROCESSOR_BASED_CONTROLS: 0n },
      outcome: 'fail',
    },
    {
      says: 'secondary controls activated but the field unknown: undecided',
      fields: { GUEST_CR0: 0x20n, PRIMARY_PROCESSOR_BASED_CONTROLS: ug.PRIMARY_PROCESSOR_BASED_CONTROLS },
      outcome: 'undecided',
    },
  ]);
  checkCases('guest-control-registers.cr0-fixed1', `${S2016}: bits fixed to 0 must be 0; NW and CD never checked`, [
    { says: 'bit 32 (fixed to 0 by FIXED1) set fails', fields: { GUEST_CR0: CR0_OK | bit(32) }, outcome: 'fail' },
    { says: 'CD and NW set pass (never checked)', fields: { GUEST_CR0: CR0_OK | bit(29) | bit(30) }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.cr0-pg-requires-pe', 'KVM and Bochs: PG set with PE clear fails', [
    { says: 'PG without PE fails', fields: { GUEST_CR0: 0x8000_0020n }, outcome: 'fail' },
    { says: 'PG with PE passes', fields: { GUEST_CR0: CR0_OK }, outcome: 'pass' },
    { says: 'neither PG nor PE passes', fields: { GUEST_CR0: 0x20n }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.cr4-fixed0', `${S2009}: bits fixed to 1 must be 1`, [
    { says: 'VMXE clear fails', fields: { GUEST_CR4: 0x20n }, outcome: 'fail' },
    { says: 'VMXE set passes', fields: { GUEST_CR4: CR4_OK }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.cr4-fixed1', `${S2009}: bits fixed to 0 must be 0`, [
    { says: 'LA57 (not allowed by skylake FIXED1) set fails', fields: { GUEST_CR4: CR4_OK | bit(12) }, outcome: 'fail' },
    { says: 'PAE and VMXE pass', fields: { GUEST_CR4: CR4_OK }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.cr4-cet-requires-cr0-wp', 'Bochs and KVM (CET): CR4.CET requires CR0.WP', [
    { says: 'CET without WP fails', fields: { GUEST_CR0: CR0_OK, GUEST_CR4: CR4_OK | bit(23) }, outcome: 'fail' },
    { says: 'CET with WP passes', fields: { GUEST_CR0: CR0_OK | bit(16), GUEST_CR4: CR4_OK | bit(23) }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.debugctl-reserved', `${S2009} with "load debug controls"; IA32_DEBUGCTL layout Vol. 4 (5:3 and 63:16 reserved, 2 and 15:6 feature-dependent)`, [
    { says: 'bit 16 set fails', fields: { VM_ENTRY_CONTROLS: LOAD_DEBUG, GUEST_IA32_DEBUGCTL: bit(16) }, outcome: 'fail' },
    { says: 'bit 3 set fails', fields: { VM_ENTRY_CONTROLS: LOAD_DEBUG, GUEST_IA32_DEBUGCTL: bit(3) }, outcome: 'fail' },
    { says: 'LBR and BTF pass', fields: { VM_ENTRY_CONTROLS: LOAD_DEBUG, GUEST_IA32_DEBUGCTL: 3n }, outcome: 'pass' },
    { says: 'RTM_DEBUG (bit 15, only with RTM) may fail', fields: { VM_ENTRY_CONTROLS: LOAD_DEBUG, GUEST_IA32_DEBUGCTL: bit(15) }, outcome: 'may-fail' },
    { says: 'not checked without "load debug controls"', fields: { VM_ENTRY_CONTROLS: 0n, GUEST_IA32_DEBUGCTL: bit(16) }, outcome: 'not-applicable' },
  ]);
  checkCases('guest-control-registers.ia32e-requires-cr0-pg', 'KVM and VirtualBox: an IA-32e guest needs CR0.PG', [
    { says: 'IA-32e guest without PG fails', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CR0: 0x21n }, outcome: 'fail' },
    { says: 'IA-32e guest with PG passes', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CR0: CR0_OK }, outcome: 'pass' },
    { says: 'not checked for other guests', fields: { VM_ENTRY_CONTROLS: 0n, GUEST_CR0: 0x21n }, outcome: 'not-applicable' },
  ]);
  checkCases('guest-control-registers.ia32e-requires-cr4-pae', `${S2009}: "IA-32e mode guest" = 1 requires CR4.PAE`, [
    { says: 'IA-32e guest without PAE fails', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CR4: 0x2000n }, outcome: 'fail' },
    { says: 'IA-32e guest with PAE passes', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CR4: CR4_OK }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.cr4-pcide-requires-ia32e', 'Bochs and VirtualBox: CR4.PCIDE only in IA-32e guests', [
    { says: 'PCIDE in a non-IA-32e guest fails', fields: { VM_ENTRY_CONTROLS: 0n, GUEST_CR4: CR4_OK | bit(17) }, outcome: 'fail' },
    { says: 'no PCIDE in a non-IA-32e guest passes', fields: { VM_ENTRY_CONTROLS: 0n, GUEST_CR4: CR4_OK }, outcome: 'pass' },
    { says: 'PCIDE in an IA-32e guest is not this check', fields: { VM_ENTRY_CONTROLS: IA32E, GUEST_CR4: CR4_OK | bit(17) }, outcome: 'not-applicable' },
  ]);
  checkCases('guest-control-registers.cr4-fred-requires-ia32e', 'Bochs and the KVM FRED patches: CR4.FRED only in IA-32e guests', [
    { says: 'FRED (bit 32) in a non-IA-32e guest fails', fields: { VM_ENTRY_CONTROLS: 0n, GUEST_CR4: CR4_OK | bit(32) }, outcome: 'fail' },
    { says: 'no FRED passes', fields: { VM_ENTRY_CONTROLS: 0n, GUEST_CR4: CR4_OK }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.cr3-physical-width', `${S2009}: CR3 bits at or above the physical-address width are 0`, [
    { says: 'bit 46 with MAXPHYADDR 46 fails', fields: { GUEST_CR3: bit(46) }, outcome: 'fail' },
    { says: 'bit 45 with MAXPHYADDR 46 passes', fields: { GUEST_CR3: bit(45) }, outcome: 'pass' },
    { says: 'bit 46 with MAXPHYADDR 52 (maximal) passes', fields: { GUEST_CR3: bit(46) }, outcome: 'pass', setting: { profile: maximal() } },
  ]);
  checkCases('guest-control-registers.dr7-high-zero', `${S2016}: with "load debug controls", DR7 bits 63:32 are 0`, [
    { says: 'bit 32 set fails', fields: { VM_ENTRY_CONTROLS: LOAD_DEBUG, GUEST_DR7: bit(32) | 0x400n }, outcome: 'fail' },
    { says: 'the reset value 400H passes', fields: { VM_ENTRY_CONTROLS: LOAD_DEBUG, GUEST_DR7: 0x400n }, outcome: 'pass' },
  ]);
  for (const name of ['esp', 'eip'] as const) {
    const field = name === 'esp' ? 'GUEST_IA32_SYSENTER_ESP' : 'GUEST_IA32_SYSENTER_EIP';
    checkCases(`guest-control-registers.sysenter-${name}-canonical`, `${S2016}: the field holds a canonical address`, [
      { says: 'an address canonical for neither width fails', fields: { [field]: NEITHER }, outcome: 'fail' },
      { says: 'a high-half canonical address passes', fields: { [field]: HIGH_HALF }, outcome: 'pass' },
      { says: 'an address canonical only for 57-bit linear addresses may fail', fields: { [field]: ONLY_57 }, outcome: 'may-fail' },
    ]);
  }
  checkCases('guest-control-registers.s-cet-canonical', 'Bochs and KVM is_valid_cet_state: S_CET bits 63:12 canonical', [
    { says: 'a non-canonical base fails', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_S_CET: NEITHER }, outcome: 'fail' },
    { says: 'a canonical base with low control bits passes', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_S_CET: HIGH_HALF | 0x3n }, outcome: 'pass' },
    { says: 'a base canonical only for 57 bits may fail', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_S_CET: ONLY_57 }, outcome: 'may-fail' },
  ]);
  checkCases('guest-control-registers.s-cet-high-zero', 'Bochs: outside IA-32e mode S_CET bits 63:32 are 0', [
    { says: 'bit 32 set in a non-IA-32e guest fails', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_S_CET: bit(32) }, outcome: 'fail' },
    { says: 'bits 31:0 only pass', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_S_CET: 0x3n }, outcome: 'pass' },
    { says: 'not checked for an IA-32e guest', fields: { VM_ENTRY_CONTROLS: LOAD_CET | IA32E, GUEST_IA32_S_CET: bit(32) }, outcome: 'not-applicable' },
  ]);
  checkCases('guest-control-registers.s-cet-reserved', 'Bochs and KVM: S_CET bits 9:6 reserved', [
    { says: 'bit 6 set fails', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_S_CET: bit(6) }, outcome: 'fail' },
    { says: 'SUPPRESS alone passes', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_S_CET: bit(10) }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.s-cet-suppress-and-tracker', 'Bochs and KVM: SUPPRESS and TRACKER not both 1', [
    { says: 'both set fail', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_S_CET: bit(10) | bit(11) }, outcome: 'fail' },
    { says: 'TRACKER alone passes', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_S_CET: bit(11) }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.interrupt-ssp-table-canonical', 'Bochs and KVM: the table address is canonical', [
    { says: 'a non-canonical address fails', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR: NEITHER }, outcome: 'fail' },
    { says: '0 passes', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR: 0n }, outcome: 'pass' },
    { says: 'canonical only for 57 bits may fail', fields: { VM_ENTRY_CONTROLS: LOAD_CET, GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR: ONLY_57 }, outcome: 'may-fail' },
  ]);
  const LOAD_PERF = bit(ENTRY_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL);
  checkCases('guest-control-registers.perf-global-ctrl-reserved', `${S2016}: reserved bits of IA32_PERF_GLOBAL_CTRL are 0 (which bits depends on the counters)`, [
    { says: '0 passes', fields: { VM_ENTRY_CONTROLS: LOAD_PERF, GUEST_IA32_PERF_GLOBAL_CTRL: 0n }, outcome: 'pass' },
    { says: 'a counter enable may fail: the profile does not record the counters', fields: { VM_ENTRY_CONTROLS: LOAD_PERF, GUEST_IA32_PERF_GLOBAL_CTRL: 1n }, outcome: 'may-fail' },
  ]);
  const LOAD_PAT = bit(ENTRY_CONTROL.LOAD_IA32_PAT);
  checkCases('guest-control-registers.pat-memory-types', `${S2016}: each PAT byte is 0, 1, 4, 5, 6 or 7`, [
    { says: 'the reset value 0007040600070406H passes', fields: { VM_ENTRY_CONTROLS: LOAD_PAT, GUEST_IA32_PAT: 0x0007_0406_0007_0406n }, outcome: 'pass' },
    { says: 'type 2 in byte 0 fails', fields: { VM_ENTRY_CONTROLS: LOAD_PAT, GUEST_IA32_PAT: 0x0007_0406_0007_0402n }, outcome: 'fail' },
    { says: 'type 8 in byte 7 fails', fields: { VM_ENTRY_CONTROLS: LOAD_PAT, GUEST_IA32_PAT: 0x0807_0406_0007_0406n }, outcome: 'fail' },
  ]);
  checkCases('guest-control-registers.efer-reserved', `${S2016}: reserved IA32_EFER bits are 0 (Vol. 4: SCE 0, LME 8, LMA 10, NXE 11 defined)`, [
    { says: 'SCE, LME and LMA pass', fields: { VM_ENTRY_CONTROLS: LOAD_EFER, GUEST_IA32_EFER: 0x501n }, outcome: 'pass' },
    { says: 'bit 9 fails', fields: { VM_ENTRY_CONTROLS: LOAD_EFER, GUEST_IA32_EFER: bit(9) }, outcome: 'fail' },
    { says: 'NXE may fail: reserved without execute-disable', fields: { VM_ENTRY_CONTROLS: LOAD_EFER, GUEST_IA32_EFER: bit(11) }, outcome: 'may-fail' },
  ]);
  checkCases('guest-control-registers.efer-lma-matches-ia32e', `${S2016}: IA32_EFER.LMA equals "IA-32e mode guest"`, [
    { says: 'LMA set in a non-IA-32e guest fails', fields: { VM_ENTRY_CONTROLS: LOAD_EFER, GUEST_IA32_EFER: 0x500n }, outcome: 'fail' },
    { says: 'LMA clear in an IA-32e guest fails', fields: { VM_ENTRY_CONTROLS: LOAD_EFER | IA32E, GUEST_IA32_EFER: 0n }, outcome: 'fail' },
    { says: 'LMA set in an IA-32e guest passes', fields: { VM_ENTRY_CONTROLS: LOAD_EFER | IA32E, GUEST_IA32_EFER: 0x500n }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.efer-lme-matches-lma', `${S2016}: with CR0.PG = 1, LME equals LMA`, [
    { says: 'LME without LMA under paging fails', fields: { VM_ENTRY_CONTROLS: LOAD_EFER, GUEST_CR0: CR0_OK, GUEST_IA32_EFER: 0x100n }, outcome: 'fail' },
    { says: 'LME with LMA passes', fields: { VM_ENTRY_CONTROLS: LOAD_EFER, GUEST_CR0: CR0_OK, GUEST_IA32_EFER: 0x500n }, outcome: 'pass' },
    { says: 'not checked without paging', fields: { VM_ENTRY_CONTROLS: LOAD_EFER, GUEST_CR0: 0x21n, GUEST_IA32_EFER: 0x100n }, outcome: 'not-applicable' },
  ]);
  const LOAD_BND = bit(ENTRY_CONTROL.LOAD_IA32_BNDCFGS);
  checkCases('guest-control-registers.bndcfgs-reserved', `${S2016}: IA32_BNDCFGS bits 11:2 are 0`, [
    { says: 'bit 2 fails', fields: { VM_ENTRY_CONTROLS: LOAD_BND, GUEST_IA32_BNDCFGS: bit(2) }, outcome: 'fail' },
    { says: 'EN and BNDPRESERVE pass', fields: { VM_ENTRY_CONTROLS: LOAD_BND, GUEST_IA32_BNDCFGS: 3n }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.bndcfgs-canonical', `${S2016}: IA32_BNDCFGS bits 63:12 canonical`, [
    { says: 'a non-canonical base fails', fields: { VM_ENTRY_CONTROLS: LOAD_BND, GUEST_IA32_BNDCFGS: NEITHER }, outcome: 'fail' },
    { says: 'a canonical base passes', fields: { VM_ENTRY_CONTROLS: LOAD_BND, GUEST_IA32_BNDCFGS: HIGH_HALF | 1n }, outcome: 'pass' },
    { says: 'canonical only for 57 bits may fail', fields: { VM_ENTRY_CONTROLS: LOAD_BND, GUEST_IA32_BNDCFGS: ONLY_57 }, outcome: 'may-fail' },
  ]);
  const LOAD_PKRS = bit(ENTRY_CONTROL.LOAD_PKRS);
  checkCases('guest-control-registers.pkrs-high-zero', 'Bochs: IA32_PKRS bits 63:32 are 0', [
    { says: 'bit 32 fails', fields: { VM_ENTRY_CONTROLS: LOAD_PKRS, GUEST_IA32_PKRS: bit(32) }, outcome: 'fail' },
    { says: 'bits 31:0 pass', fields: { VM_ENTRY_CONTROLS: LOAD_PKRS, GUEST_IA32_PKRS: 0xffff_ffffn }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.fred-config-reserved', 'Bochs and the KVM FRED patches: bits 2, 5:4 and 11 reserved', [
    { says: 'bit 2 fails', fields: { VM_ENTRY_CONTROLS: LOAD_FRED, GUEST_IA32_FRED_CONFIG: bit(2) }, outcome: 'fail' },
    { says: 'bit 11 fails', fields: { VM_ENTRY_CONTROLS: LOAD_FRED, GUEST_IA32_FRED_CONFIG: bit(11) }, outcome: 'fail' },
    { says: 'bit 3 passes', fields: { VM_ENTRY_CONTROLS: LOAD_FRED, GUEST_IA32_FRED_CONFIG: bit(3) }, outcome: 'pass' },
  ]);
  checkCases('guest-control-registers.fred-config-canonical', 'the KVM FRED patches: bits 63:12 canonical', [
    { says: 'a non-canonical entry point fails', fields: { VM_ENTRY_CONTROLS: LOAD_FRED, GUEST_IA32_FRED_CONFIG: NEITHER }, outcome: 'fail' },
    { says: 'a canonical entry point passes', fields: { VM_ENTRY_CONTROLS: LOAD_FRED, GUEST_IA32_FRED_CONFIG: HIGH_HALF }, outcome: 'pass' },
    { says: 'canonical only for 57 bits may fail', fields: { VM_ENTRY_CONTROLS: LOAD_FRED, GUEST_IA32_FRED_CONFIG: ONLY_57 }, outcome: 'may-fail' },
  ]);
  for (const kind of ['RSP', 'SSP'] as const) {
    for (const level of [1, 2, 3] as const) {
      const field = `GUEST_IA32_FRED_${kind}${level}` as const;
      const name = `${kind.toLowerCase()}${level}`;
      checkCases(`guest-control-registers.fred-${name}-canonical`, 'Bochs and the KVM FRED patches: canonical', [
        { says: 'a non-canonical value fails', fields: { VM_ENTRY_CONTROLS: LOAD_FRED, [field]: NEITHER }, outcome: 'fail' },
        { says: 'a canonical value passes', fields: { VM_ENTRY_CONTROLS: LOAD_FRED, [field]: HIGH_HALF }, outcome: 'pass' },
        { says: 'not checked without "load IA32_FRED"', fields: { VM_ENTRY_CONTROLS: 0n, [field]: NEITHER }, outcome: 'not-applicable' },
      ]);
      const [misaligned, aligned] = kind === 'RSP' ? [bit(5), bit(6)] : [bit(2), bit(3)];
      checkCases(`guest-control-registers.fred-${name}-aligned`, `Bochs and the KVM FRED patches: ${kind === 'RSP' ? '64' : '8'}-byte aligned`, [
        { says: 'a misaligned value fails', fields: { VM_ENTRY_CONTROLS: LOAD_FRED, [field]: misaligned }, outcome: 'fail' },
        { says: 'an aligned value passes', fields: { VM_ENTRY_CONTROLS: LOAD_FRED, [field]: aligned }, outcome: 'pass' },
      ]);
    }
  }
  const LOAD_SPEC = bit(LATER_ENTRY_CONTROL.LOAD_IA32_SPEC_CTRL);
  checkCases('guest-control-registers.spec-ctrl-writable', 'Bochs: a value WRMSR could write (which depends on the processor)', [
    { says: '0 passes', fields: { VM_ENTRY_CONTROLS: LOAD_SPEC, GUEST_IA32_SPEC_CTRL: 0n }, outcome: 'pass' },
    { says: 'IBRS may fail: the profile does not record the supported bits', fields: { VM_ENTRY_CONTROLS: LOAD_SPEC, GUEST_IA32_SPEC_CTRL: 1n }, outcome: 'may-fail' },
  ]);
});
