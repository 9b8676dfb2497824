/**
 * VMFUNC in VMX non-root operation with EPTP switching (VM function 0) enabled. Expected outcomes
 * from SDM Vol. 3C, December 2023, §26.5.6.3 "EPTP Switching": ECX >= 512 causes a VM exit;
 * otherwise entry ECX of the EPTP list (8-byte entries at the EPTP-list address) is the tentative
 * EPTP, a VM exit when it would fail the VM-entry checks on the EPTP (§27.2.1.1 "VM-Execution
 * Control Fields": memory type UC or WB as supported, page-walk length 4, A/D only if supported,
 * bits 11:8 and 63:N clear); else it is written to the EPTP field and ECX[15:0] to the EPTP-index
 * field (the processor supports "EPT-violation #VE"), and the instruction completes, flags
 * unchanged, guest RIP advanced by its 3 bytes (0F 01 D4). Exit reason 59 with instruction
 * length 3 (§28.2.5 "Information for VM Exits Due to Instruction Execution").
 */
import { describe, expect, it } from 'vitest';
import { SECONDARY_CONTROL as SECONDARY } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Operation } from '../../../spec/operations.ts';
import { hex, SKYLAKE, UD } from '../fixtures.ts';
import { fieldsOf } from '../vm-entry-rig.ts';
import { PAGES } from '../vm-entry-vmcs.ts';
import { exit, guest, GUEST_RIP, hostRead, secondary, SIXTY_FOUR } from './vmx-rig.ts';

const LIST = Number(PAGES.eptpList);
/** Write-back (6), page-walk length 4 (bits 5:3 = 3), EPT PML4 table at 70000H. */
const GOOD_EPTP = 0x7_001e;
/** The same with accessed/dirty flags enabled (bit 6; Skylake's IA32_VMX_EPT_VPID_CAP[21] = 1). */
const AD_EPTP = 0x7_005e;
/** Memory type 1, which is reserved. */
const BAD_TYPE_EPTP = 0x7_0019;
/** Reserved bit 8 set. */
const RESERVED_BIT_EPTP = 0x7_011e;

const CHANGES = { ...SIXTY_FOUR, ...secondary(SECONDARY.ENABLE_VM_FUNCTIONS, SECONDARY.ENABLE_EPT), VM_FUNCTION_CONTROLS: 1n, GUEST_RFLAGS: 0x2n | 0x41n };
const ENTRY_FLAGS = 0x41; // CF and ZF of the guest RFLAGS, which VMFUNC leaves alone
const VALID_EPTP = fieldsOf({ profile: SKYLAKE, changes: CHANGES }).get('EPT_POINTER') ?? 0n;

const vmfunc = (ecx: number, eax = 0): Operation => ({ kind: 'vmfunc', cpu: 0, eax: hex(eax), ecx: hex(ecx) });

/** A guest with EPTP switching enabled and the EPTP list holding `entries` (index, value). */
function switching(entries: [number, number][] = [[5, GOOD_EPTP]]) {
  return guest({ changes: CHANGES, flags: ENTRY_FLAGS, memory: entries.map(([index, value]) => [LIST + 8 * index, value] as const) });
}

describe('VMFUNC EPTP switching in the guest', () => {
  it('loads a valid list entry: completes with the flags unchanged, EPTP and EPTP index written, guest RIP + 3', () => {
    const rig = switching();
    expect(rig.step(vmfunc(5))).toEqual({ kind: 'ok', flags: ENTRY_FLAGS });
    expect(rig.step({ kind: 'vmcall', cpu: 0 })).toEqual(exit(EXIT_REASON.VMCALL));
    expect(hostRead(rig, FIELD.EPT_POINTER)).toBe(BigInt(GOOD_EPTP));
    expect(hostRead(rig, FIELD.EPTP_INDEX)).toBe(5n);
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 3n);
  });

  it('accepts the accessed/dirty bit where the processor supports it, and entry 511', () => {
    const rig = switching([[511, AD_EPTP]]);
    expect(rig.step(vmfunc(511))).toEqual({ kind: 'ok', flags: ENTRY_FLAGS });
    expect(rig.step({ kind: 'vmcall', cpu: 0 })).toEqual(exit(EXIT_REASON.VMCALL));
    expect(hostRead(rig, FIELD.EPT_POINTER)).toBe(BigInt(AD_EPTP));
    expect(hostRead(rig, FIELD.EPTP_INDEX)).toBe(511n);
  });

  const exiting: [string, number, [number, number][]][] = [
    ['ECX = 512', 512, []],
    ['ECX = FFFFFFFFH', 0xffff_ffff, []],
    ['an entry with a reserved memory type', 6, [[6, BAD_TYPE_EPTP]]],
    ['an entry with reserved bit 8', 7, [[7, RESERVED_BIT_EPTP]]],
    ['an entry never written (0: UC memory type but page-walk length 1)', 8, []],
  ];
  for (const [name, ecx, entries] of exiting) {
    it(`exits (59) for ${name}: length 3, qualification 0, EPTP unchanged, guest RIP of the VMFUNC`, () => {
      const rig = switching(entries);
      expect(rig.step(vmfunc(ecx))).toEqual({ ...exit(EXIT_REASON.VMFUNC), flags: 0 });
      expect(hostRead(rig, FIELD.EXIT_REASON)).toBe(59n);
      expect(hostRead(rig, FIELD.VM_EXIT_INSTRUCTION_LENGTH)).toBe(3n);
      expect(hostRead(rig, FIELD.EXIT_QUALIFICATION)).toBe(0n);
      expect(hostRead(rig, FIELD.EPT_POINTER)).toBe(VALID_EPTP);
      expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP);
    });
  }

  it('a function not enabled exits (59); EAX >= 64 is #UD', () => {
    expect(switching().step(vmfunc(0, 1))).toEqual(exit(EXIT_REASON.VMFUNC));
    expect(switching().step(vmfunc(0, 64))).toEqual(UD(ENTRY_FLAGS));
  });
});
