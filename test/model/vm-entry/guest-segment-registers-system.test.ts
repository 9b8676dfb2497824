/**
 * Checks on the access rights of the guest TR and LDTR, and the FRED checks on SS and CS.
 * Expected outcomes from SDM Vol. 3C §26.3.1.2 "Checks on Guest Segment Registers" (2016, page
 * 26-11; December 2023 §27.3.1.2); the FRED rules as the catalogue states them (from Bochs and
 * the KVM nested-FRED patches: SS DPL 0 or 3, and no ring-0 compatibility mode).
 */
import { describe, it } from 'vitest';
import { expectCheck } from './check-helpers.ts';
import { accessRights, bit, BUSY_TSS, CODE_64, FLAT_64, IA32E_GUEST, UNUSABLE, withFields } from './guest-segment-fixtures.ts';

const ID = 'guest-segment-registers';
const LDT = accessRights({ type: 2, s: false });
const USABLE_LDT = { GUEST_LDTR_ACCESS_RIGHTS: LDT, GUEST_LDTR_LIMIT: 0xffn };
const NOT_IA32E = { VM_ENTRY_CONTROLS: 0n };
const FRED = { GUEST_CR4: 0x2020n | bit(32) };

describe('TR', () => {
  it('type: 3 or 11 outside IA-32e mode', () => {
    expectCheck(`${ID}.tr-type`, withFields(FLAT_64, { ...NOT_IA32E, GUEST_TR_ACCESS_RIGHTS: accessRights({ type: 3, s: false }) }), 'pass');
    expectCheck(`${ID}.tr-type`, withFields(FLAT_64, NOT_IA32E), 'pass');
    expectCheck(`${ID}.tr-type`, withFields(FLAT_64, { ...NOT_IA32E, GUEST_TR_ACCESS_RIGHTS: accessRights({ type: 9, s: false }) }), 'fail');
    expectCheck(`${ID}.tr-type`, FLAT_64, 'not-applicable');
  });

  it('type: 11 in IA-32e mode (no 16-bit TSS)', () => {
    expectCheck(`${ID}.tr-type-ia32e`, FLAT_64, 'pass');
    expectCheck(`${ID}.tr-type-ia32e`, withFields(FLAT_64, { GUEST_TR_ACCESS_RIGHTS: accessRights({ type: 3, s: false }) }), 'fail');
    expectCheck(`${ID}.tr-type-ia32e`, withFields(FLAT_64, NOT_IA32E), 'not-applicable');
  });

  it('S must be 0, P must be 1, bits 11:8 and 31:17 must be 0, the unusable bit must be 0', () => {
    expectCheck(`${ID}.tr-s-bit`, FLAT_64, 'pass');
    expectCheck(`${ID}.tr-s-bit`, withFields(FLAT_64, { GUEST_TR_ACCESS_RIGHTS: BUSY_TSS | bit(4) }), 'fail');
    expectCheck(`${ID}.tr-present`, FLAT_64, 'pass');
    expectCheck(`${ID}.tr-present`, withFields(FLAT_64, { GUEST_TR_ACCESS_RIGHTS: BUSY_TSS & ~bit(7) }), 'fail');
    expectCheck(`${ID}.tr-access-rights-reserved-11-8`, FLAT_64, 'pass');
    expectCheck(`${ID}.tr-access-rights-reserved-11-8`, withFields(FLAT_64, { GUEST_TR_ACCESS_RIGHTS: BUSY_TSS | bit(11) }), 'fail');
    expectCheck(`${ID}.tr-usable`, FLAT_64, 'pass');
    expectCheck(`${ID}.tr-usable`, withFields(FLAT_64, { GUEST_TR_ACCESS_RIGHTS: BUSY_TSS | UNUSABLE }), 'fail');
    expectCheck(`${ID}.tr-access-rights-reserved-31-17`, FLAT_64, 'pass');
    expectCheck(`${ID}.tr-access-rights-reserved-31-17`, withFields(FLAT_64, { GUEST_TR_ACCESS_RIGHTS: BUSY_TSS | bit(17) }), 'fail');
    // The unusable bit is its own check, not one of the reserved bits 31:17.
    expectCheck(`${ID}.tr-access-rights-reserved-31-17`, withFields(FLAT_64, { GUEST_TR_ACCESS_RIGHTS: BUSY_TSS | UNUSABLE }), 'pass');
  });

  it('G against the limit', () => {
    expectCheck(`${ID}.tr-granularity-low-limit`, FLAT_64, 'pass');
    expectCheck(`${ID}.tr-granularity-low-limit`, withFields(FLAT_64, { GUEST_TR_ACCESS_RIGHTS: BUSY_TSS | bit(15) }), 'fail');
    expectCheck(`${ID}.tr-granularity-high-limit`, FLAT_64, 'pass');
    expectCheck(`${ID}.tr-granularity-high-limit`, withFields(FLAT_64, { GUEST_TR_LIMIT: 0x0100_0fffn }), 'fail');
    expectCheck(`${ID}.tr-granularity-high-limit`, withFields(FLAT_64, { GUEST_TR_LIMIT: 0x0100_0fffn, GUEST_TR_ACCESS_RIGHTS: BUSY_TSS | bit(15) }), 'pass');
  });
});

describe('LDTR, checked only when usable', () => {
  it.each([
    ['ldtr-type', 'type must be 2', LDT | 0x1n],
    ['ldtr-s-bit', 'S must be 0', LDT | bit(4)],
    ['ldtr-present', 'P must be 1', LDT & ~bit(7)],
    ['ldtr-access-rights-reserved-11-8', 'bits 11:8 must be 0', LDT | bit(9)],
    ['ldtr-access-rights-reserved-31-17', 'bits 31:17 must be 0', LDT | bit(30)],
    ['ldtr-granularity-low-limit', 'G must be 0 with a 0 in limit bits 11:0', LDT | bit(15)],
  ] as const)('%s: %s', (name, _rule, wrong) => {
    expectCheck(`${ID}.${name}`, withFields(FLAT_64, USABLE_LDT), 'pass');
    expectCheck(`${ID}.${name}`, withFields(FLAT_64, { ...USABLE_LDT, GUEST_LDTR_ACCESS_RIGHTS: wrong }), 'fail');
    expectCheck(`${ID}.${name}`, withFields(FLAT_64, { ...USABLE_LDT, GUEST_LDTR_ACCESS_RIGHTS: wrong | UNUSABLE }), 'not-applicable');
  });

  it('ldtr-granularity-high-limit: G must be 1 with a 1 in limit bits 31:20', () => {
    expectCheck(`${ID}.ldtr-granularity-high-limit`, withFields(FLAT_64, USABLE_LDT), 'pass');
    expectCheck(`${ID}.ldtr-granularity-high-limit`, withFields(FLAT_64, { ...USABLE_LDT, GUEST_LDTR_LIMIT: 0xfff0_0fffn }), 'fail');
    expectCheck(`${ID}.ldtr-granularity-high-limit`, withFields(FLAT_64, { GUEST_LDTR_LIMIT: 0xfff0_0fffn }), 'not-applicable');
  });
});

describe('FRED (IA-32e mode guest with CR4.FRED = 1)', () => {
  const ss = (dpl: number) => ({ GUEST_SS_ACCESS_RIGHTS: accessRights({ type: 3, dpl }) });
  it('SS DPL must be 0 or 3', () => {
    expectCheck(`${ID}.ss-dpl-fred`, withFields(FLAT_64, { ...FRED, ...ss(0) }), 'pass');
    expectCheck(`${ID}.ss-dpl-fred`, withFields(FLAT_64, { ...FRED, ...ss(3) }), 'pass');
    expectCheck(`${ID}.ss-dpl-fred`, withFields(FLAT_64, { ...FRED, ...ss(1) }), 'fail');
    expectCheck(`${ID}.ss-dpl-fred`, withFields(FLAT_64, { ...FRED, ...ss(2) }), 'fail');
    expectCheck(`${ID}.ss-dpl-fred`, withFields(FLAT_64, ss(1)), 'not-applicable');
    expectCheck(`${ID}.ss-dpl-fred`, withFields(FLAT_64, { ...FRED, ...NOT_IA32E, ...ss(1) }), 'not-applicable');
  });

  it('with SS DPL 0, CS.L must be 1 (no ring-0 compatibility mode)', () => {
    const compat = { GUEST_CS_ACCESS_RIGHTS: CODE_64 & ~bit(13) };
    expectCheck(`${ID}.cs-l-fred`, withFields(FLAT_64, FRED), 'pass');
    expectCheck(`${ID}.cs-l-fred`, withFields(FLAT_64, { ...FRED, ...compat }), 'fail');
    expectCheck(`${ID}.cs-l-fred`, withFields(FLAT_64, { ...FRED, ...compat, ...ss(3) }), 'pass');
    expectCheck(`${ID}.cs-l-fred`, withFields(FLAT_64, compat), 'not-applicable');
  });
});
