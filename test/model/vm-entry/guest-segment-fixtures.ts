/**
 * Guest segment-register states for the tests of the checks on the guest segment registers:
 * a flat 64-bit guest and a virtual-8086 guest that satisfy every check of SDM Vol. 3C
 * §26.3.1.2 "Checks on Guest Segment Registers" (2016; December 2023 §27.3.1.2), written from the
 * rules there, so that a test changes one field and sees one check fail.
 */
import { ENTRY_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import type { FieldName } from '../../../spec/fields.ts';

/** A bit. */
export const bit = (n: number): bigint => 1n << BigInt(n);

/** Guest fields, by name. */
export type GuestFields = Partial<Record<FieldName, bigint>>;

/** Access rights: type 3:0, S 4, DPL 6:5, P 7, L 13, D/B 14, G 15, unusable 16. */
export function accessRights(parts: { type: number; s?: boolean; dpl?: number; p?: boolean; l?: boolean; db?: boolean; g?: boolean; unusable?: boolean }): bigint {
  let value = BigInt(parts.type) | (BigInt(parts.dpl ?? 0) << 5n);
  if (parts.s ?? true) value |= bit(4);
  if (parts.p ?? true) value |= bit(7);
  if (parts.l === true) value |= bit(13);
  if (parts.db === true) value |= bit(14);
  if (parts.g === true) value |= bit(15);
  if (parts.unusable === true) value |= bit(16);
  return value;
}

/** 64-bit code: type 11 (execute/read, accessed), DPL 0, L = 1, G = 1. */
export const CODE_64 = accessRights({ type: 11, l: true, g: true });
/** Flat data: type 3 (read/write, accessed), DPL 0, D/B = 1, G = 1. */
export const DATA_FLAT = accessRights({ type: 3, db: true, g: true });
/** A busy 64-bit TSS: type 11, S = 0. */
export const BUSY_TSS = accessRights({ type: 11, s: false });
/** An unusable register (bit 16 only). */
export const UNUSABLE = bit(16);
/** The whole access-rights field of a virtual-8086 segment. */
export const V8086_ACCESS_RIGHTS = 0xf3n;

/** "IA-32e mode guest". */
export const IA32E_GUEST = bit(ENTRY_CONTROL.IA32E_MODE_GUEST);
/** Primary controls with "activate secondary controls". */
export const SECONDARY_ON = bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS);
/** Secondary controls with "unrestricted guest". */
export const UNRESTRICTED = bit(SECONDARY_CONTROL.UNRESTRICTED_GUEST);
/** RFLAGS with bit 1 (always 1) and VM (bit 17). */
export const RFLAGS = 0x2n;
export const RFLAGS_V8086 = 0x2n | bit(17);

/** A flat IA-32e guest at CPL 0 without "unrestricted guest", every segment check satisfied. */
export const FLAT_64: GuestFields = {
  GUEST_RFLAGS: RFLAGS,
  PRIMARY_PROCESSOR_BASED_CONTROLS: 0n,
  VM_ENTRY_CONTROLS: IA32E_GUEST,
  GUEST_CR0: 0x8000_0031n,
  GUEST_CR4: 0x2020n,
  GUEST_CS_SELECTOR: 0x8n,
  GUEST_CS_BASE: 0n,
  GUEST_CS_LIMIT: 0xffff_ffffn,
  GUEST_CS_ACCESS_RIGHTS: CODE_64,
  ...Object.fromEntries(
    (['SS', 'DS', 'ES', 'FS', 'GS'] as const).flatMap((reg) => [
      [`GUEST_${reg}_SELECTOR`, 0x10n],
      [`GUEST_${reg}_BASE`, 0n],
      [`GUEST_${reg}_LIMIT`, 0xffff_ffffn],
      [`GUEST_${reg}_ACCESS_RIGHTS`, DATA_FLAT],
    ]),
  ),
  GUEST_TR_SELECTOR: 0x18n,
  GUEST_TR_BASE: 0x1000n,
  GUEST_TR_LIMIT: 0x67n,
  GUEST_TR_ACCESS_RIGHTS: BUSY_TSS,
  GUEST_LDTR_SELECTOR: 0n,
  GUEST_LDTR_BASE: 0n,
  GUEST_LDTR_LIMIT: 0n,
  GUEST_LDTR_ACCESS_RIGHTS: UNUSABLE,
};

/** A virtual-8086 guest (32-bit, not IA-32e): segment n has selector 0x100·n, base selector × 16. */
export const V8086: GuestFields = {
  ...FLAT_64,
  GUEST_RFLAGS: RFLAGS_V8086,
  VM_ENTRY_CONTROLS: 0n,
  GUEST_TR_ACCESS_RIGHTS: accessRights({ type: 11, s: false }),
  ...Object.fromEntries(
    (['CS', 'SS', 'DS', 'ES', 'FS', 'GS'] as const).flatMap((reg, n) => [
      [`GUEST_${reg}_SELECTOR`, BigInt(0x100 * (n + 1))],
      [`GUEST_${reg}_BASE`, BigInt(0x1000 * (n + 1))],
      [`GUEST_${reg}_LIMIT`, 0xffffn],
      [`GUEST_${reg}_ACCESS_RIGHTS`, V8086_ACCESS_RIGHTS],
    ]),
  ),
};

/** `base` with `changes`. */
export function withFields(base: GuestFields, changes: GuestFields): GuestFields {
  return { ...base, ...changes };
}
