/**
 * VM entry, loading MSRs from the VM-entry MSR-load area (SDM Vol. 3C, December 2023, §27.4
 * "Loading MSRs"; catalogue group `msr-load`): entries are processed in order; the first that
 * fails ends the entry with exit reason 34 (bit 31 set) and its 1-based index as the exit
 * qualification (§27.8 "VM-Entry Failures During or After Loading Guest State"). An entry fails
 * when bits 63:32 are set, or its MSR is IA32_FS_BASE, IA32_GS_BASE, in the x2APIC range
 * 800H-8FFH, IA32_SMM_MONITOR_CTL outside SMM, or one WRMSR cannot write (impl/: the read-only
 * VMX capability MSRs and the locked IA32_FEATURE_CONTROL).
 */
import { describe, expect, it } from 'vitest';
import { ENTRY_CHECKS_BY_GROUP } from '../../spec/entry-checks/index.ts';
import { expectEntryFailure, expectPass, MSR_LOADING, type Setting } from './vm-entry-rig.ts';
import { PAGES } from './vm-entry-vmcs.ts';

/** One 16-byte entry: MSR index, reserved bits 63:32, data. */
type Entry = readonly [index: number, reserved: number, data: bigint];

/** The valid VMCS with an MSR-load area of `entries` at PAGES.msrAreas. */
function withMsrs(entries: readonly Entry[]): Setting {
  const memory = entries.flatMap(([index, reserved, data], i): [bigint, bigint][] => {
    const at = PAGES.msrAreas + BigInt(16 * i);
    return [
      [at, BigInt(index)],
      [at + 4n, BigInt(reserved)],
      [at + 8n, data & 0xffff_ffffn],
      [at + 12n, data >> 32n],
    ];
  });
  return { changes: { VM_ENTRY_MSR_LOAD_COUNT: BigInt(entries.length), VM_ENTRY_MSR_LOAD_ADDRESS: PAGES.msrAreas }, memory };
}

const TSC: Entry = [0x10, 0, 0x1234n];
const SYSENTER_CS: Entry = [0x174, 0, 0x10n];

const CASES: { id: string; refused: Entry[]; loaded: Entry }[] = [
  { id: 'msr-load.not-fs-base', refused: [[0xc000_0100, 0, 0n]], loaded: [0xc000_0102, 0, 0n] },
  { id: 'msr-load.not-gs-base', refused: [[0xc000_0101, 0, 0n]], loaded: [0xc000_0080, 0, 0n] },
  { id: 'msr-load.not-x2apic-range', refused: [[0x800, 0, 0n], [0x8ff, 0, 0n]], loaded: [0x900, 0, 0n] },
  { id: 'msr-load.not-smm-only', refused: [[0x9b, 0, 0n]], loaded: [0x9a, 0, 0n] },
  { id: 'msr-load.reserved-zero', refused: [[0x10, 1, 0n], [0x10, 0x8000_0000, 0n]], loaded: TSC },
  // impl/: the read-only VMX capability MSRs and the locked IA32_FEATURE_CONTROL refuse WRMSR.
  { id: 'msr-load.wrmsr-would-succeed', refused: [[0x480, 0, 0n], [0x493, 0, 0n], [0x3a, 0, 5n]], loaded: [0x494, 0, 0n] },
  // impl/ refuses no MSR for model-specific reasons (its choice; the profile lists none).
  { id: 'msr-load.not-model-specific', refused: [], loaded: [0x79, 0, 0n] },
];

describe('VM entry, loading MSRs: exit reason 34 with the failing entry\'s index', () => {
  it.each(CASES)('$id: a refused entry fails the entry with its 1-based index', ({ refused }) => {
    for (const entry of refused) {
      expectEntryFailure(withMsrs([entry]), MSR_LOADING, 1);
      expectEntryFailure(withMsrs([TSC, SYSENTER_CS, entry]), MSR_LOADING, 3);
    }
  });

  it.each(CASES)('$id: the neighbouring entry loads and the guest runs', ({ loaded }) => {
    expectPass(withMsrs([TSC, loaded, SYSENTER_CS]));
  });

  it('reports the first failing entry when several fail', () => {
    expectEntryFailure(withMsrs([TSC, [0x800, 0, 0n], [0xc000_0100, 0, 0n]]), MSR_LOADING, 2);
  });

  it('loads nothing when the count is 0, whatever the area holds', () => {
    expectPass({ ...withMsrs([[0x800, 0, 0n]]), changes: { VM_ENTRY_MSR_LOAD_COUNT: 0n } });
  });

  it('fails at entry 513 when the count passes 512 * (IA32_VMX_MISC[27:25] + 1) (undefined in the SDM; impl/ choice)', () => {
    expectEntryFailure({ changes: { VM_ENTRY_MSR_LOAD_COUNT: 600n, VM_ENTRY_MSR_LOAD_ADDRESS: PAGES.msrAreas } }, MSR_LOADING, 513);
    expectPass({ changes: { VM_ENTRY_MSR_LOAD_COUNT: 512n, VM_ENTRY_MSR_LOAD_ADDRESS: PAGES.msrAreas } });
  });

  it('checks the guest state before loading MSRs (a guest-state failure wins)', () => {
    const setting = withMsrs([[0x800, 0, 0n]]);
    expectEntryFailure({ ...setting, changes: { ...setting.changes, GUEST_RFLAGS: 0n } }, 0x8000_0021, 0);
  });

  it('has a case for every catalogue check of the group', () => {
    const ids = new Set(CASES.map((c) => c.id));
    expect(ENTRY_CHECKS_BY_GROUP['msr-load'].map((check) => check.id).filter((id) => !ids.has(id))).toEqual([]);
  });
});
