/**
 * Saving guest state field by field, from SDM Vol. 3C, December 2023, §28.3 "Saving Guest State":
 * unusable segments (§28.3.2: CS base, limit and L/D/G saved; SS DPL saved and base bits 63:32
 * zero; DS/ES base bits 63:32 zero; FS/GS base saved; the rest undefined), the PDPTEs with EPT and
 * PAE paging (§28.3.4), and fields whose control is unknown or 0.
 */
import { describe, expect, it } from 'vitest';
import type { CpuState, GuestRegisters, SegmentName, SegmentRegister, VmcsContent } from '../../../model/state.ts';
import { readField } from '../../../model/vmcs-fields.ts';
import { saveGuestState } from '../../../model/vm-exit/save-guest.ts';
import { put } from '../../../model/vm-exit/write.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { cpuOf } from '../../../model/state.ts';
import { fresh, maximal, skylake } from '../helpers.ts';

const UNUSABLE = 0x1_0000n;
const usable = (accessRights: bigint): SegmentRegister => ({ selector: 0x10n, base: 0x1234_5678n, limit: 0xfffn, accessRights });
const unusable = (accessRights: bigint): SegmentRegister => ({ selector: 0n, base: 0xffff_8000_0000_1000n, limit: 0xffn, accessRights: accessRights | UNUSABLE });

function registers(segments: Partial<Record<SegmentName, SegmentRegister>>, extra: Partial<GuestRegisters> = {}): GuestRegisters {
  const all = Object.fromEntries((['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'] as const).map((name) => [name, segments[name] ?? usable(0x93n)]));
  return {
    rsp: 0n,
    rflags: 2n,
    segments: all as Record<SegmentName, SegmentRegister>,
    gdtr: { selector: undefined, base: 0n, limit: 0n, accessRights: undefined },
    idtr: { selector: undefined, base: 0n, limit: 0n, accessRights: undefined },
    interruptibility: 0n,
    pendingDebugExceptions: 0n,
    activity: 0n,
    pdptes: undefined,
    loadedCr3: 0x3000n,
    ssp: undefined,
    ...extra,
  };
}

function guestCpu(guest: GuestRegisters, changes: Partial<CpuState> = {}): CpuState {
  return { ...cpuOf(fresh(), 0), vmx: 'non-root', guest, rip: 0x1000n, ...changes };
}

const EMPTY: VmcsContent = { fields: new Map(), launch: 'launched', leftActiveByVmxoff: false };
const VMCALL = { reason: EXIT_REASON.VMCALL, qualification: 0n };
const read = (content: VmcsContent, encoding: number) => readField(content, encoding, 64);

describe('unusable segments (§28.3.2)', () => {
  const saved = saveGuestState(
    put(EMPTY, 'PRIMARY_VM_EXIT_CONTROLS', 0n),
    guestCpu(registers({ CS: unusable(0xe09bn), SS: unusable(0x60n), DS: unusable(0n), FS: unusable(0n) })),
    skylake(),
    VMCALL,
  );

  it('CS: base and limit saved, L, D, G kept, bits 7:0 and 12 open, bit 16 set', () => {
    expect(read(saved, FIELD.GUEST_CS_BASE)).toBe('0xffff800000001000');
    expect(read(saved, FIELD.GUEST_CS_LIMIT)).toBe('0xff');
    expect(read(saved, FIELD.GUEST_CS_ACCESS_RIGHTS)).toEqual({ kind: 'partly-known', bits: '0x1e000', mask: '0xffffffffffffef00' });
  });

  it('SS: DPL kept, base bits 63:32 zero and 31:0 open, limit unknown', () => {
    expect(read(saved, FIELD.GUEST_SS_ACCESS_RIGHTS)).toEqual({ kind: 'partly-known', bits: '0x10060', mask: '0xffffffffffff0f60' });
    expect(read(saved, FIELD.GUEST_SS_BASE)).toEqual({ kind: 'partly-known', bits: '0x0', mask: '0xffffffff00000000' });
    expect(read(saved, FIELD.GUEST_SS_LIMIT)).toEqual({ kind: 'partly-known', bits: '0x0', mask: '0xffffffff00000000' });
  });

  it('DS: base bits 63:32 zero; FS: base saved', () => {
    expect(read(saved, FIELD.GUEST_DS_BASE)).toEqual({ kind: 'partly-known', bits: '0x0', mask: '0xffffffff00000000' });
    expect(read(saved, FIELD.GUEST_FS_BASE)).toBe('0xffff800000001000');
  });

  it('a usable segment: access rights bits 31:17 and 11:8 cleared', () => {
    expect(read(saved, FIELD.GUEST_GS_ACCESS_RIGHTS)).toBe('0x93');
  });

  it('with the VM-exit controls 0: DR7, IA32_PAT, IA32_EFER are not saved (the fields stay as they were)', () => {
    expect(saved.fields.has(FIELD.GUEST_DR7)).toBe(false);
    expect(saved.fields.has(FIELD.GUEST_IA32_EFER)).toBe(false);
  });
});

describe('control-dependent fields', () => {
  it('VM-exit controls never written: DR7 and the other controlled fields become unknown', () => {
    const old = put(EMPTY, 'GUEST_DR7', 0x400n);
    const saved = saveGuestState(old, guestCpu(registers({})), skylake(), VMCALL);
    expect(read(saved, FIELD.GUEST_DR7)).toEqual({ kind: 'any' });
  });

  it('no guest register file (a state built without VM entry): segment fields unknown, CR0 saved', () => {
    const saved = saveGuestState(EMPTY, { ...cpuOf(fresh(), 0), vmx: 'non-root' }, skylake(), VMCALL);
    expect(read(saved, FIELD.GUEST_ES_SELECTOR)).toEqual({ kind: 'partly-known', bits: '0x0', mask: '0xffffffffffff0000' });
    expect(read(saved, FIELD.GUEST_RFLAGS)).toEqual({ kind: 'any' });
    expect(read(saved, FIELD.GUEST_INTERRUPTIBILITY_STATE)).toEqual({ kind: 'partly-known', bits: '0x0', mask: '0xffffffff00000000' });
    expect(typeof read(saved, FIELD.GUEST_CR0)).toBe('string');
  });
});

describe('PDPTEs (§28.3.4)', () => {
  const pae = { cr0: 0x8000_0031n, cr4: 0x2020n, eferLma: 0, cr3: 0x3000n };
  const pdptes = [0x1001n, 0x2001n, 0x3001n, 0x4001n];

  it('EPT and PAE paging with the CR3 VM entry loaded: the PDPTEs loaded are saved', () => {
    const saved = saveGuestState(EMPTY, guestCpu(registers({}, { pdptes }), pae), maximal(), VMCALL);
    expect(read(saved, FIELD.GUEST_PDPTE0)).toBe('0x1001');
    expect(read(saved, FIELD.GUEST_PDPTE3)).toBe('0x4001');
  });

  it('CR3 changed since the entry, or no PAE paging: undefined', () => {
    const moved = saveGuestState(EMPTY, guestCpu(registers({}, { pdptes }), { ...pae, cr3: 0x4000n }), maximal(), VMCALL);
    expect(read(moved, FIELD.GUEST_PDPTE0)).toEqual({ kind: 'any' });
    const longMode = saveGuestState(put(EMPTY, 'GUEST_PDPTE0', 5n), guestCpu(registers({}, { pdptes })), maximal(), VMCALL);
    expect(read(longMode, FIELD.GUEST_PDPTE0)).toEqual({ kind: 'any' });
  });
});
