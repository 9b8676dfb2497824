/**
 * VMFUNC EPTP switching in a guest (SDM Vol. 3C, December 2023, §26.5.6.3 "EPTP Switching"): ECX
 * selects one of 512 8-byte entries of the EPTP list; a valid entry (one VM entry would accept as
 * EPTP, §27.2.1.1) becomes the EPTP of the current VMCS, and ECX[15:0] its EPTP index on a
 * processor supporting "EPT-violation #VE"; ECX ≥ 512 or an invalid entry is a VM exit (reason 59).
 * The function changes no flag, and the guest's RIP moves past the 3-byte instruction.
 */
import { describe, expect, it } from 'vitest';
import { cpuOf } from '../../../model/state.ts';
import type { ModelState } from '../../../model/index.ts';
import { SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { ALL_FLAGS, exit, expectNotModelled, expectOnly, hex, ok, patchCpu, store, succeed, write } from '../helpers.ts';
import { ACTIVATE_SECONDARY, backToRoot, guest, VM_FUNCTIONS } from '../non-root-setup.ts';

const EPTP_LIST = 0x30000n;
/** WB memory type (6), 4-level walk (bits 5:3 = 3), PML4 table at 40000H. */
const VALID_EPTP = 0x4001en;
/** The same with memory type 1 (WC), which no EPTP may use. */
const INVALID_EPTP = 0x40019n;
const GUEST_RIP = 0xffff_8000_0000_1000n;

const vmfunc = (eax: bigint, ecx: bigint) => ({ kind: 'vmfunc', cpu: 0, eax: hex(eax), ecx: hex(ecx) }) as const;
const vmread = (encoding: number) => ({ kind: 'vmread', cpu: 0, encoding: hex(encoding) }) as const;

/** A 64-bit guest at GUEST_RIP with EPTP switching enabled, the EPTP list at EPTP_LIST, and `entries` laid in it. */
function switchingGuest(entries: ReadonlyArray<readonly [bigint, bigint]>): ModelState {
  let state = guest({ primary: ACTIVATE_SECONDARY, secondary: VM_FUNCTIONS | (1n << BigInt(SECONDARY_CONTROL.ENABLE_EPT)), vmFunctions: 1n });
  state = write(backToRoot(state), FIELD.EPTP_LIST_ADDRESS, EPTP_LIST);
  state = write(state, FIELD.EPT_POINTER, VALID_EPTP + 0x1000n);
  for (const [index, eptp] of entries) {
    state = store(state, EPTP_LIST + 8n * index, Number(eptp & 0xffff_ffffn));
    state = store(state, EPTP_LIST + 8n * index + 4n, Number(eptp >> 32n));
  }
  return patchCpu(state, 0, { vmx: 'non-root', rip: GUEST_RIP, flags: ALL_FLAGS });
}

describe('VMFUNC EPTP switching', () => {
  it('loads the selected EPTP-list entry into the EPTP field and ECX[15:0] into the EPTP index; flags unchanged, RIP past VMFUNC', () => {
    const after = expectOnly(switchingGuest([[5n, VALID_EPTP]]), vmfunc(0n, 5n), ok(ALL_FLAGS), 'vmfunc.eptp-switching');
    expect(cpuOf(after, 0).rip).toBe(GUEST_RIP + 3n);
    const root = backToRoot(after);
    expectOnly(root, vmread(FIELD.EPT_POINTER), succeed(VALID_EPTP), 'vmread.success');
    expectOnly(root, vmread(FIELD.EPTP_INDEX), succeed(5n), 'vmread.success');
  });

  it('uses ECX only: bits 63:32 of RCX do not select the entry', () => {
    const after = expectOnly(switchingGuest([[7n, VALID_EPTP]]), vmfunc(0n, (1n << 32n) | 7n), ok(ALL_FLAGS), 'vmfunc.eptp-switching');
    expectOnly(backToRoot(after), vmread(FIELD.EPTP_INDEX), succeed(7n), 'vmread.success');
  });

  it('reads the whole 8-byte entry: an entry with a bit beyond the physical-address width is invalid', () => {
    expectOnly(switchingGuest([[1n, VALID_EPTP | (1n << 60n)]]), vmfunc(0n, 1n), exit(EXIT_REASON.VMFUNC), 'vmfunc.eptp-switching-invalid-eptp');
  });

  it('causes a VM exit (reason 59) when ECX is 512 or more', () => {
    expectOnly(switchingGuest([]), vmfunc(0n, 512n), exit(EXIT_REASON.VMFUNC), 'vmfunc.eptp-switching-index-too-large');
  });

  it('causes a VM exit (reason 59) when the entry would fail the VM-entry EPTP checks (a reserved memory type; an all-zero entry)', () => {
    const state = switchingGuest([[2n, INVALID_EPTP]]);
    expectOnly(state, vmfunc(0n, 2n), exit(EXIT_REASON.VMFUNC), 'vmfunc.eptp-switching-invalid-eptp');
    expectOnly(state, vmfunc(0n, 3n), exit(EXIT_REASON.VMFUNC), 'vmfunc.eptp-switching-invalid-eptp');
  });

  it('is not modelled when the EPTP-list address is unknown', () => {
    const state = guest({ primary: ACTIVATE_SECONDARY, secondary: VM_FUNCTIONS, vmFunctions: 1n });
    expectNotModelled(state, vmfunc(0n, 0n), 'non-root.controls-unknown');
  });
});
