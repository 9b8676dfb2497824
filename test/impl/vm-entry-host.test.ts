/**
 * Phase one of VM entry, the checks on the host-state area: every check of the catalogue groups
 * `host-control-registers`, `host-segment-registers` and `address-space-size` fails with
 * VMfailValid(8) (SDM Vol. 3C, December 2023, §27.2.2 "Checks on Host Control Registers, MSRs,
 * and SSP", §27.2.3 "Checks on Host Segment and Descriptor-Table Registers", §27.2.4 "Checks
 * Related to Address-Space Size"; error 8 "VM entry with invalid host-state field(s)", §31.4),
 * and a neighbouring VMCS passes. For the address-space-size checks the SDM names no number;
 * impl/ reports 8 (impl/README.md).
 */
import { describe, expect, it } from 'vitest';
import { hostControlRegistersOk } from '../../impl/vm-entry/host-state.ts';
import { ENTRY_CONTROL as ENTRY, EXIT_CONTROL as EXIT } from '../../spec/control-bits.ts';
import { ENTRY_CHECKS_BY_GROUP } from '../../spec/entry-checks/index.ts';
import { MAXIMAL, SKYLAKE } from './fixtures.ts';
import { bit, type CheckCase, type Changes, expectFailure, expectPass, fredImage, type Setting } from './vm-entry-rig.ts';

const or = (mask: bigint) => (valid: bigint) => valid | mask;
const clear = (mask: bigint) => (valid: bigint) => valid & ~mask;
const NON_CANONICAL = 0x0000_8000_0000_0000n;
const CANONICAL_HIGH = 0xffff_8000_0000_0000n;
const exitWith = (control: number): Changes => ({ PRIMARY_VM_EXIT_CONTROLS: or(bit(control)) });
const HOST_32: Changes = { PRIMARY_VM_EXIT_CONTROLS: clear(bit(EXIT.HOST_ADDRESS_SPACE_SIZE)) };
/** A 32-bit host entered from outside IA-32e mode (IA32_EFER.LMA = 0). */
const legacy = (changes: Changes = {}): Setting => ({ legacy: true, changes: { ...HOST_32, ...changes } });
const CET = exitWith(EXIT.LOAD_CET_STATE);
const maximal = (changes: Changes): Setting => ({ profile: MAXIMAL, changes });

function canonicalCase(id: string, field: keyof Changes & string, enable: Changes = {}, profile = SKYLAKE): CheckCase {
  return { id, fail: { profile, changes: { ...enable, [field]: NON_CANONICAL } }, pass: { profile, changes: { ...enable, [field]: CANONICAL_HIGH } } };
}
function selectorCases(register: string, field: keyof Changes & string, valid: bigint): CheckCase[] {
  return [
    { id: `host-segment-registers.${register}-selector-rpl`, fail: { changes: { [field]: valid | 3n } }, pass: { changes: { [field]: valid | 0x8n } } },
    { id: `host-segment-registers.${register}-selector-ti`, fail: { changes: { [field]: valid | 4n } }, pass: { changes: { [field]: valid | 0x80n } } },
  ];
}

const CASES: CheckCase[] = [
  // ---- control registers and MSRs (Skylake: CR0 FIXED0 = 80000021H, CR4 FIXED0 = 2000H, CR4 FIXED1 = 3767FFH)
  { id: 'host-control-registers.cr0-fixed-0', fail: { changes: { HOST_CR0: clear(1n) } }, pass: { changes: { HOST_CR0: or(bit(30)) } } },
  { id: 'host-control-registers.cr0-fixed-1', fail: { changes: { HOST_CR0: or(bit(32)) } }, pass: { changes: { HOST_CR0: or(bit(16)) } } },
  { id: 'host-control-registers.cr4-fixed-0', fail: { changes: { HOST_CR4: clear(bit(13)) } }, pass: { changes: { HOST_CR4: or(bit(7)) } } },
  { id: 'host-control-registers.cr4-fixed-1', fail: { changes: { HOST_CR4: or(bit(11)) } }, pass: { changes: { HOST_CR4: or(bit(10)) } } },
  { id: 'host-control-registers.cr4-cet-needs-cr0-wp', fail: maximal({ HOST_CR4: or(bit(23)), HOST_CR0: clear(bit(16)) }), pass: maximal({ HOST_CR4: or(bit(23)), HOST_CR0: or(bit(16)) }) },
  { id: 'host-control-registers.cr3-width', fail: { changes: { HOST_CR3: bit(46) } }, pass: { changes: { HOST_CR3: bit(46) - 0x1000n } } },
  canonicalCase('host-control-registers.sysenter-esp-canonical', 'HOST_IA32_SYSENTER_ESP'),
  canonicalCase('host-control-registers.sysenter-eip-canonical', 'HOST_IA32_SYSENTER_EIP'),
  // Bits 63:35 are reserved on any processor with at most 3 fixed-function counters.
  { id: 'host-control-registers.perf-global-ctrl-reserved', fail: { changes: { ...exitWith(EXIT.LOAD_IA32_PERF_GLOBAL_CTRL), HOST_IA32_PERF_GLOBAL_CTRL: bit(40) } }, pass: { changes: { ...exitWith(EXIT.LOAD_IA32_PERF_GLOBAL_CTRL), HOST_IA32_PERF_GLOBAL_CTRL: 0x7_0000_000fn } } },
  // Memory type 2 is reserved; 1 (WC) is allowed; in the high half too.
  { id: 'host-control-registers.pat-memory-types', fail: { changes: { ...exitWith(EXIT.LOAD_IA32_PAT), HOST_IA32_PAT: 0x0002_0000_0000_0000n } }, pass: { changes: { ...exitWith(EXIT.LOAD_IA32_PAT), HOST_IA32_PAT: 0x0701_0405_0607_0001n } } },
  { id: 'host-control-registers.efer-reserved', fail: { changes: { ...exitWith(EXIT.LOAD_IA32_EFER), HOST_IA32_EFER: 0xd03n } }, pass: { changes: { ...exitWith(EXIT.LOAD_IA32_EFER), HOST_IA32_EFER: 0xd00n } } },
  { id: 'host-control-registers.efer-lma-matches-address-space-size', fail: { changes: { ...exitWith(EXIT.LOAD_IA32_EFER), HOST_IA32_EFER: 0x901n } }, pass: legacy({ PRIMARY_VM_EXIT_CONTROLS: (v) => (v | bit(EXIT.LOAD_IA32_EFER)) & ~bit(EXIT.HOST_ADDRESS_SPACE_SIZE), HOST_IA32_EFER: 0x801n }) },
  { id: 'host-control-registers.efer-lme-matches-address-space-size', fail: { changes: { ...exitWith(EXIT.LOAD_IA32_EFER), HOST_IA32_EFER: 0x401n } }, pass: { changes: { ...exitWith(EXIT.LOAD_IA32_EFER), HOST_IA32_EFER: 0x500n } } },
  canonicalCase('host-control-registers.s-cet-canonical', 'HOST_IA32_S_CET', CET, MAXIMAL),
  { id: 'host-control-registers.s-cet-reserved', fail: maximal({ ...CET, HOST_IA32_S_CET: bit(6) }), pass: maximal({ ...CET, HOST_IA32_S_CET: 0x3fn }) },
  { id: 'host-control-registers.s-cet-suppress-and-tracker', fail: maximal({ ...CET, HOST_IA32_S_CET: 0xc00n }), pass: maximal({ ...CET, HOST_IA32_S_CET: 0x800n }) },
  canonicalCase('host-control-registers.ssp-canonical', 'HOST_SSP', CET, MAXIMAL),
  { id: 'host-control-registers.ssp-aligned', fail: maximal({ ...CET, HOST_SSP: 0x1002n }), pass: maximal({ ...CET, HOST_SSP: 0x1004n }) },
  canonicalCase('host-control-registers.interrupt-ssp-table-canonical', 'HOST_IA32_INTERRUPT_SSP_TABLE_ADDR', CET, MAXIMAL),
  { id: 'host-control-registers.pkrs-reserved', fail: maximal({ ...exitWith(EXIT.LOAD_PKRS), HOST_IA32_PKRS: bit(32) }), pass: maximal({ ...exitWith(EXIT.LOAD_PKRS), HOST_IA32_PKRS: 0xffff_ffffn }) },
  // ---- segment and descriptor-table registers
  ...selectorCases('cs', 'HOST_CS_SELECTOR', 0x10n),
  ...selectorCases('ss', 'HOST_SS_SELECTOR', 0x18n),
  ...selectorCases('ds', 'HOST_DS_SELECTOR', 0x18n),
  ...selectorCases('es', 'HOST_ES_SELECTOR', 0x18n),
  ...selectorCases('fs', 'HOST_FS_SELECTOR', 0n),
  ...selectorCases('gs', 'HOST_GS_SELECTOR', 0n),
  ...selectorCases('tr', 'HOST_TR_SELECTOR', 0x40n),
  { id: 'host-segment-registers.cs-selector-nonzero', fail: { changes: { HOST_CS_SELECTOR: 0n } }, pass: { changes: { HOST_CS_SELECTOR: 0x8n } } },
  { id: 'host-segment-registers.tr-selector-nonzero', fail: { changes: { HOST_TR_SELECTOR: 0n } }, pass: { changes: { HOST_TR_SELECTOR: 0x8n } } },
  // SS may be 0000H for a 64-bit host only.
  { id: 'host-segment-registers.ss-selector-nonzero-outside-64-bit', fail: legacy({ HOST_SS_SELECTOR: 0n }), pass: { changes: { HOST_SS_SELECTOR: 0n } } },
  canonicalCase('host-segment-registers.fs-base-canonical', 'HOST_FS_BASE'),
  canonicalCase('host-segment-registers.gs-base-canonical', 'HOST_GS_BASE'),
  canonicalCase('host-segment-registers.gdtr-base-canonical', 'HOST_GDTR_BASE'),
  canonicalCase('host-segment-registers.idtr-base-canonical', 'HOST_IDTR_BASE'),
  canonicalCase('host-segment-registers.tr-base-canonical', 'HOST_TR_BASE'),
  // ---- address-space size
  { id: 'address-space-size.ia32e-guest-needs-ia32e-host-processor', fail: legacy({ VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)) }), pass: { changes: { VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)) } } },
  { id: 'address-space-size.host-size-zero-outside-ia32e', fail: { legacy: true }, pass: legacy() },
  { id: 'address-space-size.host-size-one-in-ia32e', fail: { changes: HOST_32 }, pass: { changes: {} } },
  // Outside IA-32e mode the first check fails as well; inside it, "host-size-one-in-ia32e": error 8 either way.
  { id: 'address-space-size.ia32e-guest-needs-64-bit-host', fail: legacy({ VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)) }), pass: { changes: { VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)) } } },
  { id: 'address-space-size.pcide-needs-64-bit-host', fail: legacy({ HOST_CR4: or(bit(17)) }), pass: { changes: { HOST_CR4: or(bit(17)) } } },
  { id: 'address-space-size.host-rip-32-bit', fail: legacy({ HOST_RIP: bit(32) }), pass: legacy({ HOST_RIP: 0xffff_fff0n }) },
  { id: 'address-space-size.host-pae-for-64-bit-host', fail: { changes: { HOST_CR4: clear(bit(5)) } }, pass: legacy({ HOST_CR4: clear(bit(5)) }) },
  canonicalCase('address-space-size.host-rip-canonical', 'HOST_RIP'),
];

/** "Load FRED" (secondary VM-exit control bit 1): reachable on no profile, checked directly. */
const FRED_ON: Changes = { PRIMARY_VM_EXIT_CONTROLS: or(bit(EXIT.ACTIVATE_SECONDARY_CONTROLS)), SECONDARY_VM_EXIT_CONTROLS: 2n };
const FRED_CASES: { id: string; fail: Changes; pass: Changes }[] = [
  { id: 'host-control-registers.fred-config-reserved', fail: { ...FRED_ON, HOST_IA32_FRED_CONFIG: bit(2) }, pass: { ...FRED_ON, HOST_IA32_FRED_CONFIG: 0x10bn } },
  ...(['RSP', 'SSP'] as const).flatMap((kind) =>
    ([1, 2, 3] as const).flatMap((level) => {
      const field = `HOST_IA32_FRED_${kind}${level}` as const;
      const misaligned = kind === 'RSP' ? 0x1020n : 0x1004n;
      return [
        { id: `host-control-registers.fred-${kind.toLowerCase()}${level}-canonical`, fail: { ...FRED_ON, [field]: NON_CANONICAL }, pass: { ...FRED_ON, [field]: CANONICAL_HIGH } },
        { id: `host-control-registers.fred-${kind.toLowerCase()}${level}-aligned`, fail: { ...FRED_ON, [field]: misaligned }, pass: { ...FRED_ON, [field]: 0x1040n } },
      ];
    }),
  ),
];

const GROUPS = ['host-control-registers', 'host-segment-registers', 'address-space-size'] as const;

describe('VM entry, checks on the host-state area: VMfailValid(8)', () => {
  it.each(CASES)('$id fails the entry with error 8', ({ fail }) => expectFailure(fail, 8));
  it.each(CASES)('$id: the neighbouring VMCS passes', ({ pass }) => expectPass(pass));

  it.each(FRED_CASES)('$id (FRED processor, checked directly)', ({ fail, pass }) => {
    const bad = fredImage(MAXIMAL, fail);
    expect(hostControlRegistersOk(bad.facts, bad.words, 0)).toBe(false);
    const good = fredImage(MAXIMAL, pass);
    expect(hostControlRegistersOk(good.facts, good.words, 0)).toBe(true);
  });

  it('has a case for every catalogue check of the host groups', () => {
    const ids = new Set([...CASES, ...FRED_CASES].map((c) => c.id));
    const missing = GROUPS.flatMap((group) => ENTRY_CHECKS_BY_GROUP[group].map((check) => check.id)).filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
  });

  it('requires bits 63:32 of IA32_S_CET and SSP to be 0 for a 32-bit host', () => {
    const cet32 = (more: Changes): Setting => ({ profile: MAXIMAL, legacy: true, changes: { ...HOST_32, PRIMARY_VM_EXIT_CONTROLS: (v) => (v | bit(EXIT.LOAD_CET_STATE)) & ~bit(EXIT.HOST_ADDRESS_SPACE_SIZE), ...more } });
    expectFailure(cet32({ HOST_IA32_S_CET: CANONICAL_HIGH }), 8);
    expectFailure(cet32({ HOST_SSP: CANONICAL_HIGH }), 8);
    expectPass(cet32({ HOST_IA32_S_CET: 0xffff_f000n, HOST_SSP: 0xffff_fff0n }));
  });

  it('reports error 7 when a control check fails too (impl makes the control checks first)', () => {
    expectFailure({ changes: { HOST_CS_SELECTOR: 0n, CR3_TARGET_COUNT: 9n } }, 7);
  });

  it('writes the error to the VM-instruction error field and sets ZF only (VMfailValid)', () => {
    expectFailure({ changes: { HOST_TR_SELECTOR: 0n } }, 8);
  });
});
