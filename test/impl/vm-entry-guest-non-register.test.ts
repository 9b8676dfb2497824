/**
 * VM entry, the guest-state checks on the non-register state and the PDPTEs: every check of the
 * catalogue groups `guest-non-register-state` and `guest-pdptes` fails the entry with exit reason
 * 33 (bit 31 set) and the qualification the SDM gives (§27.8 "VM-Entry Failures During or After
 * Loading Guest State": 2 for the PDPTEs, 3 for an NMI injected under blocking by STI, 4 for the
 * VMCS link pointer, else 0), and a neighbouring VMCS enters the guest. Conditions from SDM Vol.
 * 3C, December 2023, §27.3.1.5 "Checks on Guest Non-Register State" and §27.3.1.6 "Checks on
 * Guest Page-Directory-Pointer-Table Entries", as the catalogue states them.
 */
import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../impl/memory.ts';
import { guestNonRegisterState, PASS } from '../../impl/vm-entry/guest-non-register.ts';
import {
  ENTRY_CONTROL as ENTRY,
  PIN_CONTROL as PIN,
  PRIMARY_CONTROL as PRIMARY,
  SECONDARY_CONTROL as SECONDARY,
} from '../../spec/control-bits.ts';
import { ENTRY_CHECKS_BY_GROUP } from '../../spec/entry-checks/index.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { MAXIMAL } from './fixtures.ts';
import { bit, type Changes, expectFailure, expectGuestFailure, expectPass, guestImage, type Setting } from './vm-entry-rig.ts';

interface QualifiedCase {
  id: string;
  fail: Setting;
  pass: Setting;
  qualification?: number;
}

const or = (mask: bigint) => (valid: bigint) => valid | mask;
const REVISION = BigInt(loadProfile('skylake').revisionId);
const LINK = 0x6000n;
const LINKED: Setting = { changes: { VMCS_LINK_POINTER: LINK }, memory: [[LINK, REVISION]] };
const SHADOW_REGION: Setting['memory'] = [[LINK, REVISION | bit(31)]];
const inject = (type: number, vector: number): bigint => bit(31) | (BigInt(type) << 8n) | BigInt(vector);
const NMI = inject(2, 2);
const EXTERNAL = inject(0, 0x20);
const IF = 0x202n;
/** HLT with SS DPL 3: SS selector RPL 3, CS RPL 3 with a conforming DPL-0 code segment. */
const SS_DPL_3: Changes = { GUEST_SS_ACCESS_RIGHTS: 0xc0f3n, GUEST_SS_SELECTOR: 0x13n, GUEST_CS_SELECTOR: 0xbn, GUEST_CS_ACCESS_RIGHTS: 0xc09fn };
const SECONDARY_ON = or(bit(PRIMARY.ACTIVATE_SECONDARY_CONTROLS));
const EPT: Changes = { PRIMARY_PROCESSOR_BASED_CONTROLS: SECONDARY_ON, SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY.ENABLE_EPT), EPT_POINTER: 0x1en };
const SHADOWING: Changes = { PRIMARY_PROCESSOR_BASED_CONTROLS: SECONDARY_ON, SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY.VMCS_SHADOWING) };
const VIRTUAL_NMIS: Changes = { PIN_BASED_CONTROLS: or(bit(PIN.NMI_EXITING) | bit(PIN.VIRTUAL_NMIS)) };

const RAW_CASES: QualifiedCase[] = [
  { id: 'activity-state-supported', fail: { changes: { GUEST_ACTIVITY_STATE: 4n } }, pass: { changes: { GUEST_ACTIVITY_STATE: 1n } } },
  { id: 'activity-hlt-requires-ss-dpl-0', fail: { changes: { ...SS_DPL_3, GUEST_ACTIVITY_STATE: 1n } }, pass: { changes: SS_DPL_3 } },
  { id: 'activity-active-when-blocking', fail: { changes: { GUEST_ACTIVITY_STATE: 1n, GUEST_INTERRUPTIBILITY_STATE: 2n } }, pass: { changes: { GUEST_INTERRUPTIBILITY_STATE: 2n } } },
  { id: 'injection-in-hlt', fail: { changes: { GUEST_ACTIVITY_STATE: 1n, VM_ENTRY_INTERRUPTION_INFORMATION: inject(3, 6) } }, pass: { changes: { GUEST_ACTIVITY_STATE: 1n, VM_ENTRY_INTERRUPTION_INFORMATION: inject(3, 1) } } },
  { id: 'injection-in-shutdown', fail: { changes: { GUEST_ACTIVITY_STATE: 2n, VM_ENTRY_INTERRUPTION_INFORMATION: inject(3, 6) } }, pass: { changes: { GUEST_ACTIVITY_STATE: 2n, VM_ENTRY_INTERRUPTION_INFORMATION: NMI } } },
  { id: 'injection-in-wait-for-sipi', fail: { changes: { GUEST_ACTIVITY_STATE: 3n, VM_ENTRY_INTERRUPTION_INFORMATION: NMI } }, pass: { changes: { GUEST_ACTIVITY_STATE: 3n } } },
  { id: 'interruptibility-reserved', fail: { changes: { GUEST_INTERRUPTIBILITY_STATE: bit(5) } }, pass: { changes: { GUEST_INTERRUPTIBILITY_STATE: 0n } } },
  { id: 'sti-and-mov-ss-exclusive', fail: { changes: { GUEST_RFLAGS: IF, GUEST_INTERRUPTIBILITY_STATE: 3n } }, pass: { changes: { GUEST_RFLAGS: IF, GUEST_INTERRUPTIBILITY_STATE: 2n } } },
  { id: 'sti-blocking-requires-if', fail: { changes: { GUEST_INTERRUPTIBILITY_STATE: 1n } }, pass: { changes: { GUEST_RFLAGS: IF, GUEST_INTERRUPTIBILITY_STATE: 1n } } },
  { id: 'sti-blocking-vs-external-interrupt', fail: { changes: { GUEST_RFLAGS: IF, GUEST_INTERRUPTIBILITY_STATE: 1n, VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL } }, pass: { changes: { GUEST_RFLAGS: IF, VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL } } },
  { id: 'mov-ss-blocking-vs-external-interrupt', fail: { changes: { GUEST_RFLAGS: IF, GUEST_INTERRUPTIBILITY_STATE: 2n, VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL } }, pass: { changes: { GUEST_RFLAGS: IF, VM_ENTRY_INTERRUPTION_INFORMATION: EXTERNAL } } },
  { id: 'mov-ss-blocking-vs-nmi', fail: { changes: { GUEST_INTERRUPTIBILITY_STATE: 2n, VM_ENTRY_INTERRUPTION_INFORMATION: NMI } }, pass: { changes: { VM_ENTRY_INTERRUPTION_INFORMATION: NMI } } },
  { id: 'smi-blocking-outside-smm', fail: { changes: { GUEST_INTERRUPTIBILITY_STATE: bit(2) } }, pass: { changes: { GUEST_INTERRUPTIBILITY_STATE: bit(3) } } },
  // impl/ choice: a processor that requires it (the SDM allows both); qualification 3.
  { id: 'sti-blocking-vs-nmi', fail: { changes: { GUEST_RFLAGS: IF, GUEST_INTERRUPTIBILITY_STATE: 1n, VM_ENTRY_INTERRUPTION_INFORMATION: NMI } }, pass: { changes: { GUEST_RFLAGS: IF, VM_ENTRY_INTERRUPTION_INFORMATION: NMI } }, qualification: 3 },
  { id: 'nmi-blocking-vs-virtual-nmi', fail: { changes: { ...VIRTUAL_NMIS, GUEST_INTERRUPTIBILITY_STATE: bit(3), VM_ENTRY_INTERRUPTION_INFORMATION: NMI } }, pass: { changes: { GUEST_INTERRUPTIBILITY_STATE: bit(3), VM_ENTRY_INTERRUPTION_INFORMATION: NMI } } },
  // Without SGX (impl/ choice) bit 4 is reserved too, so this case also fails that check.
  { id: 'enclave-interruption-vs-mov-ss', fail: { changes: { GUEST_INTERRUPTIBILITY_STATE: 0x12n } }, pass: { changes: { GUEST_INTERRUPTIBILITY_STATE: 2n } } },
  { id: 'enclave-interruption-requires-sgx', fail: { changes: { GUEST_INTERRUPTIBILITY_STATE: 0x10n } }, pass: { changes: { GUEST_INTERRUPTIBILITY_STATE: 0n } } },
  { id: 'pending-debug-reserved', fail: { changes: { GUEST_PENDING_DEBUG_EXCEPTIONS: bit(4) } }, pass: { changes: { GUEST_PENDING_DEBUG_EXCEPTIONS: bit(12) | bit(16) | 0xfn } } },
  { id: 'pending-debug-bs-set', fail: { changes: { GUEST_RFLAGS: 0x102n, GUEST_INTERRUPTIBILITY_STATE: 2n } }, pass: { changes: { GUEST_RFLAGS: 0x102n, GUEST_INTERRUPTIBILITY_STATE: 2n, GUEST_PENDING_DEBUG_EXCEPTIONS: bit(14) } } },
  { id: 'pending-debug-bs-clear', fail: { changes: { GUEST_INTERRUPTIBILITY_STATE: 2n, GUEST_PENDING_DEBUG_EXCEPTIONS: bit(14) } }, pass: { changes: { GUEST_PENDING_DEBUG_EXCEPTIONS: bit(14) } } },
  { id: 'link-pointer-aligned', fail: { ...LINKED, changes: { VMCS_LINK_POINTER: LINK + 4n } }, pass: LINKED, qualification: 4 },
  { id: 'link-pointer-physical-width', fail: { ...LINKED, changes: { VMCS_LINK_POINTER: bit(46) | LINK } }, pass: LINKED, qualification: 4 },
  { id: 'link-pointer-revision', fail: { changes: { VMCS_LINK_POINTER: LINK } }, pass: LINKED, qualification: 4 },
  { id: 'link-pointer-shadow-indicator', fail: { ...LINKED, memory: SHADOW_REGION }, pass: { changes: { ...SHADOWING, VMCS_LINK_POINTER: LINK }, memory: SHADOW_REGION }, qualification: 4 },
  { id: 'link-pointer-not-current-vmcs', fail: { changes: { VMCS_LINK_POINTER: 0x2000n } }, pass: LINKED, qualification: 4 },
  { id: 'uinv-high-zero', fail: { profile: MAXIMAL, changes: { VM_ENTRY_CONTROLS: or(bit(ENTRY.LOAD_UINV)), GUEST_UINV: 0x100n } }, pass: { profile: MAXIMAL, changes: { VM_ENTRY_CONTROLS: or(bit(ENTRY.LOAD_UINV)), GUEST_UINV: 0xffn } } },
];
const CASES: QualifiedCase[] = RAW_CASES.map((c) => ({ ...c, id: `guest-non-register-state.${c.id}` }));

const PDPTE_CASES: QualifiedCase[] = [0, 1, 2, 3].flatMap((n): QualifiedCase[] => [
  // The valid guest uses PAE paging with CR3 = 7000H: PDPTE n at 7000H + 8n. Bit 1 is reserved.
  { id: `guest-pdptes.pdpte${n}-in-memory`, fail: { memory: [[0x7000n + BigInt(8 * n), 0x3n]] }, pass: { memory: [[0x7000n + BigInt(8 * n), 0x1n]] }, qualification: 2 },
  { id: `guest-pdptes.pdpte${n}-field`, fail: { changes: { ...EPT, [`GUEST_PDPTE${n}`]: 0x3n } }, pass: { changes: { ...EPT, [`GUEST_PDPTE${n}`]: 0x1n }, memory: [[0x7000n, 0x3n]] }, qualification: 2 },
]);

/** Checks that apply only in or on entry to SMM: "entry to SMM" = 1 fails the control checks first. */
const SMM_ONLY = ['wait-for-sipi-not-entering-smm', 'smi-blocking-entering-smm', 'link-pointer-not-executive-vmcs'].map((name) => `guest-non-register-state.${name}`);

describe('VM entry, guest non-register state and PDPTEs: exit reason 33', () => {
  it.each([...CASES, ...PDPTE_CASES])('$id fails the entry (qualification $qualification, else 0)', ({ fail, qualification }) => expectGuestFailure(fail, qualification ?? 0));
  it.each([...CASES, ...PDPTE_CASES])('$id: the neighbouring VMCS enters the guest', ({ pass }) => expectPass(pass));

  it('blocking by STI with a FRED guest at SS DPL 3 fails (no profile has CR4.FRED: checked directly)', () => {
    const fred: Changes = {
      VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)),
      GUEST_CS_ACCESS_RIGHTS: 0xa09fn,
      GUEST_CR4: 0x2020n | bit(32),
      GUEST_SS_ACCESS_RIGHTS: 0xc0f3n,
      GUEST_RFLAGS: IF,
    };
    const run = (changes: Changes): number => {
      const image = guestImage(MAXIMAL, changes);
      const words = new Int32Array(Math.ceil(image.words.length / 256) * 256);
      words.set(image.words);
      return guestNonRegisterState(image.entry, image.guest, new PhysicalMemory(words), 0, -1, -1);
    };
    expect(run({ ...fred, GUEST_INTERRUPTIBILITY_STATE: 1n })).toBe(0);
    expect(run(fred)).toBe(PASS);
  });

  it('"entry to SMM" is refused by the control checks, so the SMM-only guest checks are never reached', () => {
    expectFailure({ profile: MAXIMAL, changes: { VM_ENTRY_CONTROLS: or(bit(ENTRY.ENTRY_TO_SMM)), GUEST_ACTIVITY_STATE: 3n, GUEST_INTERRUPTIBILITY_STATE: 0n } }, 7);
  });

  it('has a case for every catalogue check of the two groups', () => {
    const ids = new Set([...CASES, ...PDPTE_CASES].map((c) => c.id).concat(SMM_ONLY, ['guest-non-register-state.sti-blocking-fred']));
    const missing = (['guest-non-register-state', 'guest-pdptes'] as const)
      .flatMap((group) => ENTRY_CHECKS_BY_GROUP[group].map((check) => check.id))
      .filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
  });

  it('does not check the PDPTEs of a 64-bit guest or of a guest without PAE paging', () => {
    const bad: Setting['memory'] = [[0x7000n, 0x3n]];
    expectPass({ memory: bad, changes: { VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)), GUEST_CS_ACCESS_RIGHTS: 0xa09bn } });
    expectPass({ memory: bad, changes: { GUEST_CR4: 0x2000n } });
  });
});
