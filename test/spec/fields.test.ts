import { describe, expect, it } from 'vitest';
import { decodeFieldEncoding } from '../../spec/field-encoding.ts';
import { FIELD, VMCS_FIELDS, fieldByEncoding, fieldExistsWith, isControlRequirement } from '../../spec/fields.ts';
import { CONTROL_SETS } from '../../spec/controls.ts';
import type { ControlSet } from '../../spec/profile.ts';

const none = (): boolean => false;
const all = (): boolean => true;

describe('VMCS_FIELDS', () => {
  it('records for every field a width and type that agree with its encoding', () => {
    for (const field of VMCS_FIELDS) {
      const decoded = decodeFieldEncoding(field.encoding);
      expect({ name: field.name, width: decoded.width, type: decoded.type, high: decoded.accessHigh, reserved: decoded.reservedBitsSet })
        .toEqual({ name: field.name, width: field.width, type: field.type, high: false, reserved: false });
    }
  });

  it('has no two fields with the same encoding, and FIELD names each of them once', () => {
    const encodings = VMCS_FIELDS.map((f) => f.encoding);
    expect(new Set(encodings).size).toBe(encodings.length);
    expect(Object.values(FIELD).sort()).toEqual([...encodings].sort());
  });

  it('has the encodings Appendix B gives for well-known fields', () => {
    expect(FIELD.VPID).toBe(0x0000);
    expect(FIELD.VMCS_LINK_POINTER).toBe(0x2800);
    expect(FIELD.VM_INSTRUCTION_ERROR).toBe(0x4400);
    expect(FIELD.EXIT_REASON).toBe(0x4402);
    expect(FIELD.PIN_BASED_CONTROLS).toBe(0x4000);
    expect(FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS).toBe(0x4002);
    expect(FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS).toBe(0x401e);
    expect(FIELD.VM_FUNCTION_CONTROLS).toBe(0x2018);
    expect(FIELD.EPT_POINTER).toBe(0x201a);
    expect(FIELD.EPTP_LIST_ADDRESS).toBe(0x2024);
    expect(FIELD.VMREAD_BITMAP_ADDRESS).toBe(0x2026);
    expect(FIELD.VMWRITE_BITMAP_ADDRESS).toBe(0x2028);
    expect(FIELD.GUEST_RIP).toBe(0x681e);
    expect(FIELD.HOST_RIP).toBe(0x6c16);
    expect(FIELD.GUEST_IA32_PAT).toBe(0x2804);
    expect(FIELD.VMX_PREEMPTION_TIMER_VALUE).toBe(0x482e);
    expect(FIELD.EXIT_QUALIFICATION).toBe(0x6400);
  });

  it('names only controls that spec/controls.ts defines in its requirements', () => {
    for (const field of VMCS_FIELDS) {
      for (const requirement of field.requires) {
        if (!isControlRequirement(requirement)) continue;
        const bits = CONTROL_SETS[requirement.controls].bits.map((b) => b.bit);
        expect(bits, `${field.name}`).toContain(requirement.bit);
      }
    }
  });

  it('gives every field tied to an unmodelled feature a reason, and no other requirement', () => {
    const unsupported = VMCS_FIELDS.filter((f) => f.requires.some((r) => !isControlRequirement(r)));
    expect(unsupported.map((f) => f.encoding)).toContain(FIELD.GUEST_IA32_FRED_CONFIG);
    expect(unsupported.map((f) => f.encoding)).toContain(FIELD.SHARED_EPT_POINTER);
    for (const field of unsupported) {
      expect(field.requires).toHaveLength(1);
      const [requirement] = field.requires;
      expect(requirement && !isControlRequirement(requirement) && requirement.unsupported.length).toBeGreaterThan(10);
    }
  });
});

describe('fieldByEncoding', () => {
  it('finds a field by its full encoding only', () => {
    expect(fieldByEncoding(0x2800)?.name).toBe('VMCS link pointer');
    expect(fieldByEncoding(0x2801)).toBeUndefined();
    expect(fieldByEncoding(0x4401)).toBeUndefined();
  });
});

describe('fieldExistsWith', () => {
  it('says fields without requirements exist on every processor', () => {
    expect(fieldExistsWith(FIELD.GUEST_RIP, none)).toBe(true);
    expect(fieldExistsWith(FIELD.VMCS_LINK_POINTER, none)).toBe(true);
  });

  it('accepts the high access type only for 64-bit fields', () => {
    expect(fieldExistsWith(0x2801, none)).toBe(true);
    expect(fieldExistsWith(0x4401, all)).toBe(false);
    expect(fieldExistsWith(0x6801, all)).toBe(false);
    expect(fieldExistsWith(0x0001, all)).toBe(false);
  });

  it('rejects encodings with reserved bits and non-32-bit numbers', () => {
    expect(fieldExistsWith(0x1000 | FIELD.GUEST_RIP, all)).toBe(false);
    expect(fieldExistsWith(0x8000 | FIELD.GUEST_RIP, all)).toBe(false);
    expect(fieldExistsWith(-2, all)).toBe(false);
    expect(fieldExistsWith(2 ** 32, all)).toBe(false);
  });

  it('makes guest IA32_PAT exist with either "load IA32_PAT" (entry) or "save IA32_PAT" (exit)', () => {
    const only = (set: ControlSet, bit: number) => (s: ControlSet, b: number) => s === set && b === bit;
    expect(fieldExistsWith(FIELD.GUEST_IA32_PAT, only('entry', 14))).toBe(true);
    expect(fieldExistsWith(FIELD.GUEST_IA32_PAT, only('exit', 18))).toBe(true);
    expect(fieldExistsWith(FIELD.GUEST_IA32_PAT, only('exit', 19))).toBe(false);
    expect(fieldExistsWith(FIELD.HOST_IA32_PAT, only('exit', 19))).toBe(true);
    expect(fieldExistsWith(FIELD.HOST_IA32_PAT, only('entry', 14))).toBe(false);
  });

  it('never makes fields of unmodelled features exist', () => {
    expect(fieldExistsWith(FIELD.GUEST_IA32_FRED_CONFIG, all)).toBe(false);
    expect(fieldExistsWith(FIELD.GUEST_KEYID, all)).toBe(false);
  });
});
