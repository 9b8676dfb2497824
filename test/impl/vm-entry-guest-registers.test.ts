/**
 * VM entry, the guest-state checks on control registers, debug registers and MSRs, on RIP,
 * RFLAGS and SSP, and on GDTR/IDTR: every check of the catalogue groups
 * `guest-control-registers`, `guest-rip-rflags` and `guest-descriptor-tables` fails the entry
 * with exit reason 33 (bit 31 set) and qualification 0, and a neighbouring VMCS enters the guest.
 * Conditions from SDM Vol. 3C, December 2023, §27.3.1.1 "Checks on Guest Control Registers, Debug
 * Registers, and MSRs", §27.3.1.3 "Checks on Guest Descriptor-Table Registers", §27.3.1.4
 * "Checks on Guest RIP, RFLAGS, and SSP", as the catalogue states them; the outcome from §27.8
 * "VM-Entry Failures During or After Loading Guest State".
 */
import { describe, expect, it } from 'vitest';
import { guestControlRegistersOk, guestRipRflagsOk } from '../../impl/vm-entry/guest-registers.ts';
import { ENTRY_CONTROL as ENTRY, PRIMARY_CONTROL as PRIMARY, SECONDARY_CONTROL as SECONDARY } from '../../spec/control-bits.ts';
import { ENTRY_CHECKS_BY_GROUP } from '../../spec/entry-checks/index.ts';
import { LATER_ENTRY_CONTROL } from '../../spec/guest-state-bits.ts';
import { MAXIMAL, SKYLAKE } from './fixtures.ts';
import { bit, type CheckCase, type Changes, expectGuestFailure, expectPass, guestImage } from './vm-entry-rig.ts';

const or = (mask: bigint) => (valid: bigint) => valid | mask;
const IA32E = bit(ENTRY.IA32E_MODE_GUEST);
/** A 64-bit guest: "IA-32e mode guest", CS.L = 1 (D/B = 0), IA32_EFER.LMA/LME. */
const SIXTY_FOUR: Changes = { VM_ENTRY_CONTROLS: or(IA32E), GUEST_CS_ACCESS_RIGHTS: 0xa09bn, GUEST_IA32_EFER: 0x500n };
const entry = (control: number, more: Changes = {}): Changes => ({ ...more, VM_ENTRY_CONTROLS: or(bit(control)) });
/** A 64-bit guest with the VM-entry control `control` set too. */
const entry64 = (control: number, more: Changes = {}): Changes => ({ ...SIXTY_FOUR, ...more, VM_ENTRY_CONTROLS: or(IA32E | bit(control)) });
const DEBUG = ENTRY.LOAD_DEBUG_CONTROLS;
const UNRESTRICTED: Changes = {
  PRIMARY_PROCESSOR_BASED_CONTROLS: or(bit(PRIMARY.ACTIVATE_SECONDARY_CONTROLS)),
  SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY.ENABLE_EPT) | bit(SECONDARY.UNRESTRICTED_GUEST),
  EPT_POINTER: 0x1en,
};
const max = (changes: Changes) => ({ profile: MAXIMAL, changes });
const NOT_CANONICAL = 0x0000_8000_0000_0000n;
const CANONICAL_HIGH = 0xffff_8000_0000_0000n;

const CASES: CheckCase[] = [
  { id: 'guest-control-registers.cr0-fixed0', fail: { changes: { GUEST_CR0: 0x8000_0011n } }, pass: { changes: { GUEST_CR0: 0x8000_0031n } } },
  { id: 'guest-control-registers.cr0-fixed1', fail: { profile: { ...SKYLAKE, msrs: { ...SKYLAKE.msrs, IA32_VMX_CR0_FIXED1: '0xfffbffff' } }, changes: { GUEST_CR0: 0x8000_0031n | bit(18) } }, pass: { changes: { GUEST_CR0: 0x8000_0031n | bit(18) } } },
  { id: 'guest-control-registers.cr0-pg-requires-pe', fail: { changes: { ...UNRESTRICTED, GUEST_CR0: 0x8000_0030n } }, pass: { changes: { ...UNRESTRICTED, GUEST_CR0: 0x30n, GUEST_CR4: 0x2000n } } },
  { id: 'guest-control-registers.cr4-fixed0', fail: { changes: { GUEST_CR4: 0x20n } }, pass: { changes: { GUEST_CR4: 0x2020n } } },
  { id: 'guest-control-registers.cr4-fixed1', fail: { changes: { GUEST_CR4: 0x2020n | bit(12) } }, pass: { profile: MAXIMAL, changes: { GUEST_CR4: 0x2020n | bit(12) } } },
  { id: 'guest-control-registers.cr4-cet-requires-cr0-wp', fail: max({ GUEST_CR4: 0x2020n | bit(23) }), pass: max({ GUEST_CR4: 0x2020n | bit(23), GUEST_CR0: 0x8001_0031n }) },
  { id: 'guest-control-registers.debugctl-reserved', fail: { changes: entry(DEBUG, { GUEST_IA32_DEBUGCTL: bit(3) }) }, pass: { changes: entry(DEBUG, { GUEST_IA32_DEBUGCTL: 0x3n }) } },
  { id: 'guest-control-registers.ia32e-requires-cr0-pg', fail: { changes: { ...SIXTY_FOUR, ...UNRESTRICTED, GUEST_CR0: 0x31n } }, pass: { changes: { ...SIXTY_FOUR, ...UNRESTRICTED } } },
  { id: 'guest-control-registers.ia32e-requires-cr4-pae', fail: { changes: { ...SIXTY_FOUR, GUEST_CR4: 0x2000n } }, pass: { changes: SIXTY_FOUR } },
  { id: 'guest-control-registers.cr4-pcide-requires-ia32e', fail: { changes: { GUEST_CR4: 0x2020n | bit(17) } }, pass: { changes: { ...SIXTY_FOUR, GUEST_CR4: 0x2020n | bit(17) } } },
  { id: 'guest-control-registers.cr3-physical-width', fail: { changes: { GUEST_CR3: bit(46) } }, pass: { changes: { GUEST_CR3: bit(45) } } },
  { id: 'guest-control-registers.dr7-high-zero', fail: { changes: entry(DEBUG, { GUEST_DR7: bit(32) | 0x400n }) }, pass: { changes: entry(DEBUG, { GUEST_DR7: 0xffff_0400n }) } },
  { id: 'guest-control-registers.sysenter-esp-canonical', fail: { changes: { GUEST_IA32_SYSENTER_ESP: NOT_CANONICAL } }, pass: { changes: { GUEST_IA32_SYSENTER_ESP: CANONICAL_HIGH } } },
  { id: 'guest-control-registers.sysenter-eip-canonical', fail: { changes: { GUEST_IA32_SYSENTER_EIP: NOT_CANONICAL } }, pass: { changes: { GUEST_IA32_SYSENTER_EIP: CANONICAL_HIGH } } },
  { id: 'guest-control-registers.s-cet-canonical', fail: max(entry64(ENTRY.LOAD_CET_STATE, { GUEST_IA32_S_CET: NOT_CANONICAL })), pass: max(entry64(ENTRY.LOAD_CET_STATE, { GUEST_IA32_S_CET: CANONICAL_HIGH })) },
  { id: 'guest-control-registers.s-cet-high-zero', fail: max({ ...entry(ENTRY.LOAD_CET_STATE), GUEST_IA32_S_CET: CANONICAL_HIGH }), pass: max({ ...entry(ENTRY.LOAD_CET_STATE), GUEST_IA32_S_CET: 0xffff_f000n }) },
  { id: 'guest-control-registers.s-cet-reserved', fail: max(entry(ENTRY.LOAD_CET_STATE, { GUEST_IA32_S_CET: bit(6) })), pass: max(entry(ENTRY.LOAD_CET_STATE, { GUEST_IA32_S_CET: bit(5) })) },
  { id: 'guest-control-registers.s-cet-suppress-and-tracker', fail: max(entry(ENTRY.LOAD_CET_STATE, { GUEST_IA32_S_CET: 0xc00n })), pass: max(entry(ENTRY.LOAD_CET_STATE, { GUEST_IA32_S_CET: 0x800n })) },
  { id: 'guest-control-registers.interrupt-ssp-table-canonical', fail: max(entry(ENTRY.LOAD_CET_STATE, { GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR: NOT_CANONICAL })), pass: max(entry(ENTRY.LOAD_CET_STATE, { GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR: CANONICAL_HIGH })) },
  // impl/ choice: IA32_PERF_GLOBAL_CTRL implements bits 7:0 and 34:32.
  { id: 'guest-control-registers.perf-global-ctrl-reserved', fail: { changes: entry(ENTRY.LOAD_IA32_PERF_GLOBAL_CTRL, { GUEST_IA32_PERF_GLOBAL_CTRL: bit(35) }) }, pass: { changes: entry(ENTRY.LOAD_IA32_PERF_GLOBAL_CTRL, { GUEST_IA32_PERF_GLOBAL_CTRL: 0x7_0000_00ffn }) } },
  { id: 'guest-control-registers.pat-memory-types', fail: { changes: entry(ENTRY.LOAD_IA32_PAT, { GUEST_IA32_PAT: 0x0007_0406_0007_0402n }) }, pass: { changes: entry(ENTRY.LOAD_IA32_PAT, { GUEST_IA32_PAT: 0x0007_0406_0007_0401n }) } },
  { id: 'guest-control-registers.efer-reserved', fail: { changes: entry(ENTRY.LOAD_IA32_EFER, { GUEST_IA32_EFER: bit(1) }) }, pass: { changes: entry(ENTRY.LOAD_IA32_EFER, { GUEST_IA32_EFER: 0x801n }) } },
  { id: 'guest-control-registers.efer-lma-matches-ia32e', fail: { changes: entry64(ENTRY.LOAD_IA32_EFER, { GUEST_IA32_EFER: 0x100n }) }, pass: { changes: entry64(ENTRY.LOAD_IA32_EFER) } },
  { id: 'guest-control-registers.efer-lme-matches-lma', fail: { changes: entry(ENTRY.LOAD_IA32_EFER, { GUEST_IA32_EFER: 0x100n }) }, pass: { changes: { ...UNRESTRICTED, ...entry(ENTRY.LOAD_IA32_EFER, { GUEST_IA32_EFER: 0x100n, GUEST_CR0: 0x31n }) } } },
  { id: 'guest-control-registers.bndcfgs-reserved', fail: { changes: entry(ENTRY.LOAD_IA32_BNDCFGS, { GUEST_IA32_BNDCFGS: bit(2) }) }, pass: { changes: entry(ENTRY.LOAD_IA32_BNDCFGS, { GUEST_IA32_BNDCFGS: 0x1003n }) } },
  { id: 'guest-control-registers.bndcfgs-canonical', fail: { changes: entry(ENTRY.LOAD_IA32_BNDCFGS, { GUEST_IA32_BNDCFGS: NOT_CANONICAL }) }, pass: { changes: entry(ENTRY.LOAD_IA32_BNDCFGS, { GUEST_IA32_BNDCFGS: CANONICAL_HIGH }) } },
  { id: 'guest-control-registers.pkrs-high-zero', fail: max(entry(ENTRY.LOAD_PKRS, { GUEST_IA32_PKRS: bit(32) })), pass: max(entry(ENTRY.LOAD_PKRS, { GUEST_IA32_PKRS: 0xffff_ffffn })) },
  { id: 'guest-rip-rflags.rip-high-zero', fail: { changes: { GUEST_RIP: bit(32) } }, pass: { changes: { GUEST_RIP: 0xffff_ffffn } } },
  { id: 'guest-rip-rflags.rip-canonical', fail: { changes: { ...SIXTY_FOUR, GUEST_RIP: bit(48) } }, pass: { changes: { ...SIXTY_FOUR, GUEST_RIP: bit(47) } } },
  { id: 'guest-rip-rflags.rflags-reserved-zero', fail: { changes: { GUEST_RFLAGS: 0xan } }, pass: { changes: { GUEST_RFLAGS: 0x17702n } } },
  { id: 'guest-rip-rflags.rflags-bit1-set', fail: { changes: { GUEST_RFLAGS: 0n } }, pass: { changes: { GUEST_RFLAGS: 2n } } },
  { id: 'guest-rip-rflags.rflags-vm-ia32e', fail: { changes: { ...SIXTY_FOUR, GUEST_RFLAGS: bit(17) | 2n } }, pass: { changes: SIXTY_FOUR } },
  { id: 'guest-rip-rflags.rflags-vm-real-mode', fail: { changes: { ...UNRESTRICTED, GUEST_CR0: 0x30n, GUEST_CR4: 0x2000n, GUEST_RFLAGS: bit(17) | 2n } }, pass: { changes: { ...UNRESTRICTED, GUEST_CR0: 0x30n, GUEST_CR4: 0x2000n } } },
  { id: 'guest-rip-rflags.rflags-if-for-external-interrupt', fail: { changes: { VM_ENTRY_INTERRUPTION_INFORMATION: bit(31) | 0x20n } }, pass: { changes: { VM_ENTRY_INTERRUPTION_INFORMATION: bit(31) | 0x20n, GUEST_RFLAGS: 0x202n } } },
  { id: 'guest-rip-rflags.ssp-high-zero', fail: max(entry(ENTRY.LOAD_CET_STATE, { GUEST_SSP: bit(32) })), pass: max(entry64(ENTRY.LOAD_CET_STATE, { GUEST_SSP: bit(32) })) },
  { id: 'guest-rip-rflags.ssp-canonical', fail: max(entry64(ENTRY.LOAD_CET_STATE, { GUEST_SSP: bit(50) })), pass: max(entry64(ENTRY.LOAD_CET_STATE, { GUEST_SSP: CANONICAL_HIGH })) },
  { id: 'guest-rip-rflags.ssp-aligned', fail: max(entry(ENTRY.LOAD_CET_STATE, { GUEST_SSP: 0x1002n })), pass: max(entry(ENTRY.LOAD_CET_STATE, { GUEST_SSP: 0x1004n })) },
  { id: 'guest-descriptor-tables.gdtr-base-canonical', fail: { changes: { GUEST_GDTR_BASE: NOT_CANONICAL } }, pass: { changes: { GUEST_GDTR_BASE: CANONICAL_HIGH } } },
  { id: 'guest-descriptor-tables.idtr-base-canonical', fail: { changes: { GUEST_IDTR_BASE: NOT_CANONICAL } }, pass: { changes: { GUEST_IDTR_BASE: CANONICAL_HIGH } } },
  { id: 'guest-descriptor-tables.gdtr-limit-high-zero', fail: { changes: { GUEST_GDTR_LIMIT: 0x1_0000n } }, pass: { changes: { GUEST_GDTR_LIMIT: 0xffffn } } },
  { id: 'guest-descriptor-tables.idtr-limit-high-zero', fail: { changes: { GUEST_IDTR_LIMIT: 0x1_0000n } }, pass: { changes: { GUEST_IDTR_LIMIT: 0xffffn } } },
];

const FRED = LATER_ENTRY_CONTROL.LOAD_IA32_FRED;
const fredStack = (kind: 'RSP' | 'SSP', level: 1 | 2 | 3): { id: string; fail: Changes; pass: Changes }[] => {
  const field = `GUEST_IA32_FRED_${kind}${level}` as const;
  const misaligned = kind === 'RSP' ? 0x1020n : 0x1004n;
  return [
    { id: `guest-control-registers.fred-${kind.toLowerCase()}${level}-canonical`, fail: entry(FRED, { [field]: NOT_CANONICAL }), pass: entry(FRED, { [field]: CANONICAL_HIGH }) },
    { id: `guest-control-registers.fred-${kind.toLowerCase()}${level}-aligned`, fail: entry(FRED, { [field]: misaligned }), pass: entry(FRED, { [field]: 0x1000n }) },
  ];
};
const CR4_FRED = 0x2020n | bit(32);
/** Checks no profile reaches (CR4.FRED, "load IA32_FRED", "load guest IA32_SPEC_CTRL"): checked on the functions. */
const DIRECT_CASES: { id: string; fail: Changes; pass: Changes; check: 'registers' | 'rip' }[] = [
  { id: 'guest-control-registers.cr4-fred-requires-ia32e', fail: { GUEST_CR4: CR4_FRED }, pass: { ...SIXTY_FOUR, GUEST_CR4: CR4_FRED }, check: 'registers' },
  { id: 'guest-control-registers.fred-config-reserved', fail: entry(FRED, { GUEST_IA32_FRED_CONFIG: bit(2) }), pass: entry(FRED, { GUEST_IA32_FRED_CONFIG: 0x1003n }), check: 'registers' },
  { id: 'guest-control-registers.fred-config-canonical', fail: entry(FRED, { GUEST_IA32_FRED_CONFIG: NOT_CANONICAL }), pass: entry(FRED, { GUEST_IA32_FRED_CONFIG: CANONICAL_HIGH }), check: 'registers' },
  ...([1, 2, 3] as const).flatMap((level) => [...fredStack('RSP', level), ...fredStack('SSP', level)]).map((c) => ({ ...c, check: 'registers' as const })),
  // impl/ choice: IA32_SPEC_CTRL implements IBRS, STIBP and SSBD (bits 2:0).
  { id: 'guest-control-registers.spec-ctrl-writable', fail: entry(LATER_ENTRY_CONTROL.LOAD_IA32_SPEC_CTRL, { GUEST_IA32_SPEC_CTRL: bit(3) }), pass: entry(LATER_ENTRY_CONTROL.LOAD_IA32_SPEC_CTRL, { GUEST_IA32_SPEC_CTRL: 7n }), check: 'registers' },
  { id: 'guest-rip-rflags.rflags-iopl-fred', fail: { ...SIXTY_FOUR, GUEST_CR4: CR4_FRED, GUEST_SS_ACCESS_RIGHTS: 0xc0f3n, GUEST_RFLAGS: 0x3002n }, pass: { ...SIXTY_FOUR, GUEST_CR4: CR4_FRED, GUEST_SS_ACCESS_RIGHTS: 0xc0f3n }, check: 'rip' },
];

function directOk(check: 'registers' | 'rip', changes: Changes): boolean {
  const image = guestImage(MAXIMAL, changes);
  // A processor whose CR4 may set bit 32 (FRED): no profile reports one.
  const entryFacts = { ...image.entry, cr4Fixed1Hi: 1 };
  return check === 'registers'
    ? guestControlRegistersOk(entryFacts, image.guest, image.words, 0)
    : guestRipRflagsOk(entryFacts, image.guest, image.words, 0);
}

const GROUPS = ['guest-control-registers', 'guest-rip-rflags', 'guest-descriptor-tables'] as const;

describe('VM entry, guest control registers, RIP/RFLAGS/SSP, descriptor tables: exit reason 33, qualification 0', () => {
  it.each(CASES)('$id fails the entry', ({ fail }) => expectGuestFailure(fail));
  it.each(CASES)('$id: the neighbouring VMCS enters the guest', ({ pass }) => expectPass(pass));

  it.each(DIRECT_CASES)('$id (no profile reaches it: checked directly)', ({ fail, pass, check }) => {
    expect(directOk(check, fail)).toBe(false);
    expect(directOk(check, pass)).toBe(true);
  });

  it('has a case for every catalogue check of these groups', () => {
    const ids = new Set([...CASES, ...DIRECT_CASES].map((c) => c.id));
    const missing = GROUPS.flatMap((group) => ENTRY_CHECKS_BY_GROUP[group].map((check) => check.id)).filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
  });

  it('exempts CR0.PE and CR0.PG from the fixed bits only under "unrestricted guest"', () => {
    expectGuestFailure({ changes: { GUEST_CR0: 0x30n, GUEST_CR4: 0x2000n } });
    expectPass({ changes: { ...UNRESTRICTED, GUEST_CR0: 0x30n, GUEST_CR4: 0x2000n } });
  });

  it('never checks CR0.NW and CR0.CD against the fixed bits', () => {
    expectPass({ profile: { ...SKYLAKE, msrs: { ...SKYLAKE.msrs, IA32_VMX_CR0_FIXED1: '0x9fffffff' } }, changes: { GUEST_CR0: 0xe000_0031n } });
  });

  it('does not check DR7 or IA32_DEBUGCTL when "load debug controls" is 0', () => {
    expectPass({ profile: MAXIMAL, changes: { VM_ENTRY_CONTROLS: (v: bigint) => v & ~bit(ENTRY.LOAD_DEBUG_CONTROLS), GUEST_DR7: bit(40), GUEST_IA32_DEBUGCTL: bit(3) } });
  });
});
