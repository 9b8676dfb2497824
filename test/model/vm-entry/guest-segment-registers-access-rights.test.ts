/**
 * Checks on the access-rights fields of the guest CS, SS, DS, ES, FS and GS. Expected outcomes from
 * SDM Vol. 3C §26.3.1.2 "Checks on Guest Segment Registers" (2016, pages 26-10/26-11; December
 * 2023 §27.3.1.2); the DPL rules the 2016 page did not show (conforming CS, SS DPL, DS-GS DPL
 * against RPL) as the catalogue states them (about-2009 §22.3.1.2 page 22-12 with the 2016
 * "unrestricted guest" exemption).
 */
import { describe, it } from 'vitest';
import { expectCheck } from './check-helpers.ts';
import {
  accessRights,
  bit,
  CODE_64,
  DATA_FLAT,
  FLAT_64,
  IA32E_GUEST,
  RFLAGS_V8086,
  SECONDARY_ON,
  UNRESTRICTED,
  UNUSABLE,
  V8086,
  withFields,
} from './guest-segment-fixtures.ts';

const ID = 'guest-segment-registers';
const DATA_REGS = ['SS', 'DS', 'ES', 'FS', 'GS'] as const;
const ALL = ['CS', ...DATA_REGS] as const;
const UG = { PRIMARY_PROCESSOR_BASED_CONTROLS: SECONDARY_ON, SECONDARY_PROCESSOR_BASED_CONTROLS: UNRESTRICTED };
const ar = (reg: string): string => `GUEST_${reg}_ACCESS_RIGHTS`;
const lower = (reg: string): string => reg.toLowerCase();

describe('virtual-8086: the whole field must be 000000F3H', () => {
  it.each(ALL)('%s', (reg) => {
    const id = `${ID}.${lower(reg)}-access-rights-v8086`;
    expectCheck(id, V8086, 'pass');
    expectCheck(id, withFields(V8086, { [ar(reg)]: 0xf3n | bit(15) }), 'fail');
    expectCheck(id, withFields(V8086, { [ar(reg)]: 0xf3n | bit(16) }), 'fail'); // unusable is not allowed either
    expectCheck(id, withFields(V8086, { [ar(reg)]: 0x93n }), 'fail'); // DPL 0
    expectCheck(id, FLAT_64, 'not-applicable');
  });
});

describe('type (bits 3:0)', () => {
  it('CS without "unrestricted guest": 9, 11, 13 or 15', () => {
    for (const type of [9, 11, 13, 15]) expectCheck(`${ID}.cs-type`, withFields(FLAT_64, { GUEST_CS_ACCESS_RIGHTS: accessRights({ type, l: true, g: true }) }), 'pass');
    for (const type of [3, 8, 10, 1]) expectCheck(`${ID}.cs-type`, withFields(FLAT_64, { GUEST_CS_ACCESS_RIGHTS: accessRights({ type }) }), 'fail');
    expectCheck(`${ID}.cs-type`, withFields(FLAT_64, UG), 'not-applicable');
    expectCheck(`${ID}.cs-type`, V8086, 'not-applicable');
  });

  it('CS with "unrestricted guest": 3 as well', () => {
    for (const type of [3, 9, 11, 13, 15]) expectCheck(`${ID}.cs-type-unrestricted`, withFields(FLAT_64, { ...UG, GUEST_CS_ACCESS_RIGHTS: accessRights({ type }) }), 'pass');
    for (const type of [7, 8, 1]) expectCheck(`${ID}.cs-type-unrestricted`, withFields(FLAT_64, { ...UG, GUEST_CS_ACCESS_RIGHTS: accessRights({ type }) }), 'fail');
    expectCheck(`${ID}.cs-type-unrestricted`, FLAT_64, 'not-applicable');
    // "Unrestricted guest" set in the secondary controls does not count without "activate secondary controls".
    expectCheck(`${ID}.cs-type-unrestricted`, withFields(FLAT_64, { SECONDARY_PROCESSOR_BASED_CONTROLS: UNRESTRICTED }), 'not-applicable');
  });

  it('SS, if usable: 3 or 7', () => {
    expectCheck(`${ID}.ss-type`, FLAT_64, 'pass');
    expectCheck(`${ID}.ss-type`, withFields(FLAT_64, { GUEST_SS_ACCESS_RIGHTS: accessRights({ type: 7 }) }), 'pass');
    expectCheck(`${ID}.ss-type`, withFields(FLAT_64, { GUEST_SS_ACCESS_RIGHTS: accessRights({ type: 1 }) }), 'fail');
    expectCheck(`${ID}.ss-type`, withFields(FLAT_64, { GUEST_SS_ACCESS_RIGHTS: accessRights({ type: 11 }) }), 'fail');
    expectCheck(`${ID}.ss-type`, withFields(FLAT_64, { GUEST_SS_ACCESS_RIGHTS: UNUSABLE }), 'not-applicable');
  });

  describe.each(['DS', 'ES', 'FS', 'GS'] as const)('%s, if usable', (reg) => {
    it('bit 0 (accessed) must be 1', () => {
      const id = `${ID}.${lower(reg)}-type-accessed`;
      expectCheck(id, FLAT_64, 'pass');
      expectCheck(id, withFields(FLAT_64, { [ar(reg)]: accessRights({ type: 2 }) }), 'fail');
      expectCheck(id, withFields(FLAT_64, { [ar(reg)]: UNUSABLE }), 'not-applicable');
    });
    it('a code segment (type bit 3) must be readable (bit 1)', () => {
      const id = `${ID}.${lower(reg)}-type-readable-code`;
      expectCheck(id, withFields(FLAT_64, { [ar(reg)]: accessRights({ type: 11 }) }), 'pass');
      expectCheck(id, withFields(FLAT_64, { [ar(reg)]: accessRights({ type: 1 }) }), 'pass'); // data: bit 1 is "writable"
      expectCheck(id, withFields(FLAT_64, { [ar(reg)]: accessRights({ type: 9 }) }), 'fail');
      expectCheck(id, withFields(FLAT_64, { [ar(reg)]: accessRights({ type: 9, unusable: true }) }), 'not-applicable');
    });
  });
});

describe.each(ALL)('%s: S, P and reserved bits, for CS or a usable register', (reg) => {
  const unusable = withFields(FLAT_64, { [ar(reg)]: UNUSABLE | bit(8) | bit(20) });
  it('bit 4 (S) must be 1', () => {
    expectCheck(`${ID}.${lower(reg)}-s-bit`, FLAT_64, 'pass');
    expectCheck(`${ID}.${lower(reg)}-s-bit`, withFields(FLAT_64, { [ar(reg)]: (FLAT_64[ar(reg) as 'GUEST_CS_ACCESS_RIGHTS'] ?? 0n) & ~bit(4) }), 'fail');
  });
  it('bit 7 (P) must be 1', () => {
    expectCheck(`${ID}.${lower(reg)}-present`, FLAT_64, 'pass');
    expectCheck(`${ID}.${lower(reg)}-present`, withFields(FLAT_64, { [ar(reg)]: (FLAT_64[ar(reg) as 'GUEST_CS_ACCESS_RIGHTS'] ?? 0n) & ~bit(7) }), 'fail');
  });
  it.each([8, 9, 10, 11])('bits 11:8 must be 0: bit %i set fails', (n) => {
    expectCheck(`${ID}.${lower(reg)}-access-rights-reserved-11-8`, withFields(FLAT_64, { [ar(reg)]: (FLAT_64[ar(reg) as 'GUEST_CS_ACCESS_RIGHTS'] ?? 0n) | bit(n) }), 'fail');
  });
  it('bits 11:8 clear pass; AVL (bit 12) is not reserved', () => {
    expectCheck(`${ID}.${lower(reg)}-access-rights-reserved-11-8`, withFields(FLAT_64, { [ar(reg)]: (FLAT_64[ar(reg) as 'GUEST_CS_ACCESS_RIGHTS'] ?? 0n) | bit(12) }), 'pass');
  });
  it.each([17, 24, 31])('bits 31:17 must be 0: bit %i set fails', (n) => {
    expectCheck(`${ID}.${lower(reg)}-access-rights-reserved-31-17`, withFields(FLAT_64, { [ar(reg)]: (FLAT_64[ar(reg) as 'GUEST_CS_ACCESS_RIGHTS'] ?? 0n) | bit(n) }), 'fail');
    expectCheck(`${ID}.${lower(reg)}-access-rights-reserved-31-17`, FLAT_64, 'pass');
  });
  it('virtual-8086: none of these apply; an unusable SS..GS is not checked, CS always is', () => {
    for (const name of ['s-bit', 'present', 'access-rights-reserved-11-8', 'access-rights-reserved-31-17']) {
      expectCheck(`${ID}.${lower(reg)}-${name}`, withFields(V8086, { GUEST_RFLAGS: RFLAGS_V8086, [ar(reg)]: 0n }), 'not-applicable');
      expectCheck(`${ID}.${lower(reg)}-${name}`, unusable, reg === 'CS' ? 'fail' : 'not-applicable');
    }
  });
});

describe('DPL (bits 6:5)', () => {
  const cs = (type: number, dpl: number) => ({ GUEST_CS_ACCESS_RIGHTS: accessRights({ type, dpl }) });
  const ss = (dpl: number) => ({ GUEST_SS_ACCESS_RIGHTS: accessRights({ type: 3, dpl }) });

  it('CS type 3 (unrestricted guest data segment): DPL 0', () => {
    expectCheck(`${ID}.cs-dpl-data-type`, withFields(FLAT_64, { ...UG, ...cs(3, 0) }), 'pass');
    expectCheck(`${ID}.cs-dpl-data-type`, withFields(FLAT_64, { ...UG, ...cs(3, 1) }), 'fail');
    expectCheck(`${ID}.cs-dpl-data-type`, withFields(FLAT_64, cs(11, 3)), 'pass'); // other types: not this rule
    expectCheck(`${ID}.cs-dpl-data-type`, V8086, 'not-applicable');
  });

  it('CS type 9 or 11 (non-conforming): CS DPL = SS DPL', () => {
    expectCheck(`${ID}.cs-dpl-nonconforming`, withFields(FLAT_64, { ...cs(9, 3), ...ss(3) }), 'pass');
    expectCheck(`${ID}.cs-dpl-nonconforming`, withFields(FLAT_64, { ...cs(11, 0), ...ss(3) }), 'fail');
    expectCheck(`${ID}.cs-dpl-nonconforming`, withFields(FLAT_64, { ...cs(9, 2), ...ss(1) }), 'fail');
    expectCheck(`${ID}.cs-dpl-nonconforming`, withFields(FLAT_64, { ...cs(15, 0), ...ss(3) }), 'pass');
  });

  it('CS type 13 or 15 (conforming): CS DPL not greater than SS DPL', () => {
    expectCheck(`${ID}.cs-dpl-conforming`, withFields(FLAT_64, { ...cs(13, 0), ...ss(3) }), 'pass');
    expectCheck(`${ID}.cs-dpl-conforming`, withFields(FLAT_64, { ...cs(15, 3), ...ss(3) }), 'pass');
    expectCheck(`${ID}.cs-dpl-conforming`, withFields(FLAT_64, { ...cs(15, 3), ...ss(2) }), 'fail');
    expectCheck(`${ID}.cs-dpl-conforming`, withFields(FLAT_64, { ...cs(11, 3), ...ss(2) }), 'pass');
  });

  it('SS without "unrestricted guest": DPL = selector RPL', () => {
    expectCheck(`${ID}.ss-dpl-equals-rpl`, withFields(FLAT_64, { ...ss(3), GUEST_SS_SELECTOR: 0x13n }), 'pass');
    expectCheck(`${ID}.ss-dpl-equals-rpl`, withFields(FLAT_64, { ...ss(0), GUEST_SS_SELECTOR: 0x13n }), 'fail');
    expectCheck(`${ID}.ss-dpl-equals-rpl`, withFields(FLAT_64, { ...UG, ...ss(0), GUEST_SS_SELECTOR: 0x13n }), 'not-applicable');
    // Not conditioned on SS being usable.
    expectCheck(`${ID}.ss-dpl-equals-rpl`, withFields(FLAT_64, { GUEST_SS_ACCESS_RIGHTS: UNUSABLE, GUEST_SS_SELECTOR: 0x13n }), 'fail');
  });

  it('SS: DPL 0 when CS type is 3 or guest CR0.PE is 0', () => {
    expectCheck(`${ID}.ss-dpl-zero`, withFields(FLAT_64, { ...UG, ...cs(3, 0), ...ss(0) }), 'pass');
    expectCheck(`${ID}.ss-dpl-zero`, withFields(FLAT_64, { ...UG, ...cs(3, 0), ...ss(3) }), 'fail');
    expectCheck(`${ID}.ss-dpl-zero`, withFields(FLAT_64, { ...UG, GUEST_CR0: 0x30n, ...ss(1) }), 'fail');
    expectCheck(`${ID}.ss-dpl-zero`, withFields(FLAT_64, { ...UG, GUEST_CR0: 0x30n, ...ss(0) }), 'pass');
    expectCheck(`${ID}.ss-dpl-zero`, withFields(FLAT_64, { ...cs(11, 3), ...ss(3) }), 'pass'); // protected mode, code CS
  });

  describe.each(['DS', 'ES', 'FS', 'GS'] as const)('%s', (reg) => {
    const id = `${ID}.${lower(reg)}-dpl-not-below-rpl`;
    const seg = (type: number, dpl: number, selector: bigint) => ({ [ar(reg)]: accessRights({ type, dpl }), [`GUEST_${reg}_SELECTOR`]: selector });
    it('usable, type 0-11, no "unrestricted guest": DPL not less than RPL', () => {
      expectCheck(id, withFields(FLAT_64, seg(3, 3, 0x13n)), 'pass');
      expectCheck(id, withFields(FLAT_64, seg(3, 2, 0x13n)), 'fail');
      expectCheck(id, withFields(FLAT_64, seg(11, 0, 0x11n)), 'fail');
      expectCheck(id, withFields(FLAT_64, seg(15, 0, 0x13n)), 'pass'); // conforming code: not checked
    });
    it('not checked with "unrestricted guest", when unusable, or in virtual-8086 mode', () => {
      expectCheck(id, withFields(FLAT_64, { ...UG, ...seg(3, 0, 0x13n) }), 'not-applicable');
      expectCheck(id, withFields(FLAT_64, { ...seg(3, 0, 0x13n), [ar(reg)]: UNUSABLE }), 'not-applicable');
      expectCheck(id, V8086, 'not-applicable');
    });
  });
});

describe('CS D/B (bit 14)', () => {
  it('IA-32e mode guest with CS.L = 1: D/B must be 0', () => {
    expectCheck(`${ID}.cs-db-64-bit`, FLAT_64, 'pass');
    expectCheck(`${ID}.cs-db-64-bit`, withFields(FLAT_64, { GUEST_CS_ACCESS_RIGHTS: CODE_64 | bit(14) }), 'fail');
    expectCheck(`${ID}.cs-db-64-bit`, withFields(FLAT_64, { GUEST_CS_ACCESS_RIGHTS: accessRights({ type: 11, db: true, g: true }) }), 'pass'); // compatibility mode
  });
  it('not an IA-32e mode guest: not checked', () => {
    expectCheck(`${ID}.cs-db-64-bit`, withFields(FLAT_64, { VM_ENTRY_CONTROLS: 0n, GUEST_CS_ACCESS_RIGHTS: CODE_64 | bit(14) }), 'not-applicable');
    expectCheck(`${ID}.cs-db-64-bit`, withFields(FLAT_64, { VM_ENTRY_CONTROLS: IA32E_GUEST, GUEST_RFLAGS: RFLAGS_V8086 }), 'not-applicable');
  });
});

describe.each(ALL)('%s G (bit 15) against the limit', (reg) => {
  const seg = (limit: bigint, g: boolean) => ({
    [`GUEST_${reg}_LIMIT`]: limit,
    [ar(reg)]: g ? DATA_FLAT : DATA_FLAT & ~bit(15),
  });
  it('a limit with a 0 in bits 11:0 needs G = 0', () => {
    expectCheck(`${ID}.${lower(reg)}-granularity-low-limit`, withFields(FLAT_64, seg(0xffffen, false)), 'pass');
    expectCheck(`${ID}.${lower(reg)}-granularity-low-limit`, withFields(FLAT_64, seg(0xffffen, true)), 'fail');
    expectCheck(`${ID}.${lower(reg)}-granularity-low-limit`, withFields(FLAT_64, seg(0xfffn, true)), 'pass');
  });
  it('a limit with a 1 in bits 31:20 needs G = 1', () => {
    expectCheck(`${ID}.${lower(reg)}-granularity-high-limit`, withFields(FLAT_64, seg(0x0010_0fffn, true)), 'pass');
    expectCheck(`${ID}.${lower(reg)}-granularity-high-limit`, withFields(FLAT_64, seg(0x0010_0fffn, false)), 'fail');
    expectCheck(`${ID}.${lower(reg)}-granularity-high-limit`, withFields(FLAT_64, seg(0x000f_ffffn, false)), 'pass');
  });
  it('virtual-8086: not checked', () => {
    expectCheck(`${ID}.${lower(reg)}-granularity-low-limit`, withFields(V8086, { [ar(reg)]: bit(15) }), 'not-applicable');
  });
});
