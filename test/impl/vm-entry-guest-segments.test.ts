/**
 * VM entry, the guest-state checks on the segment registers: every check of the catalogue group
 * `guest-segment-registers` fails the entry with exit reason 33 (bit 31 set) and qualification 0,
 * and a neighbouring VMCS enters the guest. Conditions from SDM Vol. 3C, December 2023,
 * §27.3.1.2 "Checks on Guest Segment Registers" as the catalogue states them (access-rights
 * format: §25.4.1 "Guest Register State"). The valid guest (test/impl/vm-entry-vmcs.ts) has flat
 * code (C09BH) and data (C093H) segments at DPL 0, a busy 32-bit TSS (8BH), an unusable LDTR.
 */
import { describe, expect, it } from 'vitest';
import { guestSegmentRegistersOk } from '../../impl/vm-entry/guest-segments.ts';
import { ENTRY_CONTROL as ENTRY, PRIMARY_CONTROL as PRIMARY, SECONDARY_CONTROL as SECONDARY } from '../../spec/control-bits.ts';
import { ENTRY_CHECKS_BY_GROUP } from '../../spec/entry-checks/index.ts';
import { MAXIMAL } from './fixtures.ts';
import { bit, type CheckCase, type Changes, expectGuestFailure, expectPass, guestImage } from './vm-entry-rig.ts';

const or = (mask: bigint) => (valid: bigint) => valid | mask;
const SIXTY_FOUR: Changes = { VM_ENTRY_CONTROLS: or(bit(ENTRY.IA32E_MODE_GUEST)), GUEST_CS_ACCESS_RIGHTS: 0xa09bn };
const UNRESTRICTED: Changes = {
  PRIMARY_PROCESSOR_BASED_CONTROLS: or(bit(PRIMARY.ACTIVATE_SECONDARY_CONTROLS)),
  SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY.ENABLE_EPT) | bit(SECONDARY.UNRESTRICTED_GUEST),
  EPT_POINTER: 0x1en,
};
const REAL_MODE: Changes = { ...UNRESTRICTED, GUEST_CR0: 0x30n, GUEST_CR4: 0x2000n };
const NOT_CANONICAL = 0x0000_8000_0000_0000n;
const DATA = ['DS', 'ES', 'FS', 'GS'] as const;
const ALL = ['CS', 'SS', 'DS', 'ES', 'FS', 'GS'] as const;
type Reg = (typeof ALL)[number] | 'TR' | 'LDTR';
const VALID_AR: Record<Reg, bigint> = { CS: 0xc09bn, SS: 0xc093n, DS: 0xc093n, ES: 0xc093n, FS: 0xc093n, GS: 0xc093n, TR: 0x8bn, LDTR: 0x82n };
const ar = (reg: Reg, value: bigint): Changes => ({ [`GUEST_${reg}_ACCESS_RIGHTS`]: value });
const lc = (reg: Reg): string => reg.toLowerCase();
const USABLE_LDTR: Changes = ar('LDTR', 0x82n);
const ldtr = (more: Changes): Changes => ({ ...USABLE_LDTR, ...more });

/** A virtual-8086 guest: RFLAGS.VM, each register's base = selector << 4, limit FFFFH, access rights F3H. */
const V8086: Changes = {
  GUEST_RFLAGS: bit(17) | 2n,
  ...Object.fromEntries(
    ALL.flatMap((reg, i) => [
      [`GUEST_${reg}_SELECTOR`, BigInt(0x100 + i)],
      [`GUEST_${reg}_BASE`, BigInt(0x100 + i) << 4n],
      [`GUEST_${reg}_LIMIT`, 0xffffn],
      [`GUEST_${reg}_ACCESS_RIGHTS`, 0xf3n],
    ]),
  ),
};

/** Granularity cases of one register under `scope`. */
function granularity(reg: Reg, scope: Changes = {}): CheckCase[] {
  const g = VALID_AR[reg] | bit(15);
  const noG = VALID_AR[reg] & ~bit(15);
  const limit = (value: bigint, rights: bigint): Changes => ({ ...scope, [`GUEST_${reg}_LIMIT`]: value, ...ar(reg, rights) });
  return [
    { id: `guest-segment-registers.${lc(reg)}-granularity-low-limit`, fail: { changes: limit(0xffff_f000n, g) }, pass: { changes: limit(0x000f_f000n, noG) } },
    { id: `guest-segment-registers.${lc(reg)}-granularity-high-limit`, fail: { changes: limit(0x0010_0fffn, noG) }, pass: { changes: limit(0x0010_0fffn, g) } },
  ];
}

const CASES: CheckCase[] = [
  { id: 'guest-segment-registers.tr-selector-ti', fail: { changes: { GUEST_TR_SELECTOR: 0x1cn } }, pass: { changes: { GUEST_TR_SELECTOR: 0x20n } } },
  { id: 'guest-segment-registers.ldtr-selector-ti', fail: { changes: ldtr({ GUEST_LDTR_SELECTOR: 0x4n }) }, pass: { changes: ldtr({ GUEST_LDTR_SELECTOR: 0x28n }) } },
  { id: 'guest-segment-registers.ss-rpl-equals-cs-rpl', fail: { changes: { GUEST_CS_SELECTOR: 0xbn } }, pass: { changes: { ...UNRESTRICTED, GUEST_CS_SELECTOR: 0xbn } } },
  ...ALL.flatMap((reg): CheckCase[] => [
    { id: `guest-segment-registers.${lc(reg)}-base-v8086`, fail: { changes: { ...V8086, [`GUEST_${reg}_BASE`]: 0x20000n } }, pass: { changes: V8086 } },
    { id: `guest-segment-registers.${lc(reg)}-limit-v8086`, fail: { changes: { ...V8086, [`GUEST_${reg}_LIMIT`]: 0xfffen } }, pass: { changes: V8086 } },
    { id: `guest-segment-registers.${lc(reg)}-access-rights-v8086`, fail: { changes: { ...V8086, ...ar(reg, 0xf1n) } }, pass: { changes: V8086 } },
  ]),
  ...(['TR', 'FS', 'GS'] as const).map((reg): CheckCase => ({
    id: `guest-segment-registers.${lc(reg)}-base-canonical`,
    fail: { changes: { [`GUEST_${reg}_BASE`]: NOT_CANONICAL } },
    pass: { changes: { [`GUEST_${reg}_BASE`]: 0xffff_8000_0000_0000n } },
  })),
  { id: 'guest-segment-registers.ldtr-base-canonical', fail: { changes: ldtr({ GUEST_LDTR_BASE: NOT_CANONICAL }) }, pass: { changes: { GUEST_LDTR_BASE: NOT_CANONICAL } } },
  { id: 'guest-segment-registers.cs-base-high-zero', fail: { changes: { GUEST_CS_BASE: bit(32) } }, pass: { changes: { GUEST_CS_BASE: 0xffff_f000n } } },
  ...(['SS', 'DS', 'ES'] as const).map((reg): CheckCase => ({
    id: `guest-segment-registers.${lc(reg)}-base-high-zero`,
    fail: { changes: { [`GUEST_${reg}_BASE`]: bit(32) } },
    pass: { changes: { [`GUEST_${reg}_BASE`]: bit(32), ...ar(reg, 0x1_0000n) } },
  })),
  { id: 'guest-segment-registers.cs-type', fail: { changes: ar('CS', 0xc093n) }, pass: { changes: ar('CS', 0xc09fn) } },
  { id: 'guest-segment-registers.cs-type-unrestricted', fail: { changes: { ...UNRESTRICTED, ...ar('CS', 0xc091n) } }, pass: { changes: { ...UNRESTRICTED, ...ar('CS', 0xc093n) } } },
  { id: 'guest-segment-registers.ss-type', fail: { changes: ar('SS', 0xc091n) }, pass: { changes: ar('SS', 0xc097n) } },
  ...DATA.flatMap((reg): CheckCase[] => [
    { id: `guest-segment-registers.${lc(reg)}-type-accessed`, fail: { changes: ar(reg, 0xc092n) }, pass: { changes: ar(reg, 0xc09bn) } },
    { id: `guest-segment-registers.${lc(reg)}-type-readable-code`, fail: { changes: ar(reg, 0xc099n) }, pass: { changes: ar(reg, 0xc09bn) } },
    { id: `guest-segment-registers.${lc(reg)}-dpl-not-below-rpl`, fail: { changes: { [`GUEST_${reg}_SELECTOR`]: 0x13n } }, pass: { changes: { ...UNRESTRICTED, [`GUEST_${reg}_SELECTOR`]: 0x13n } } },
  ]),
  ...ALL.flatMap((reg): CheckCase[] => [
    { id: `guest-segment-registers.${lc(reg)}-s-bit`, fail: { changes: ar(reg, VALID_AR[reg] & ~bit(4)) }, pass: { changes: ar(reg, VALID_AR[reg]) } },
    { id: `guest-segment-registers.${lc(reg)}-present`, fail: { changes: ar(reg, VALID_AR[reg] & ~bit(7)) }, pass: { changes: ar(reg, VALID_AR[reg] | bit(12)) } },
    { id: `guest-segment-registers.${lc(reg)}-access-rights-reserved-11-8`, fail: { changes: ar(reg, VALID_AR[reg] | bit(8)) }, pass: { changes: ar(reg, VALID_AR[reg] | bit(12)) } },
    { id: `guest-segment-registers.${lc(reg)}-access-rights-reserved-31-17`, fail: { changes: ar(reg, VALID_AR[reg] | bit(17)) }, pass: { changes: ar(reg, VALID_AR[reg]) } },
    ...granularity(reg),
  ]),
  { id: 'guest-segment-registers.cs-dpl-data-type', fail: { changes: { ...UNRESTRICTED, ...ar('CS', 0xc0b3n) } }, pass: { changes: { ...UNRESTRICTED, ...ar('CS', 0xc093n) } } },
  { id: 'guest-segment-registers.cs-dpl-nonconforming', fail: { changes: ar('CS', 0xc0fbn) }, pass: { changes: ar('CS', 0xc09bn) } },
  { id: 'guest-segment-registers.cs-dpl-conforming', fail: { changes: ar('CS', 0xc0ffn) }, pass: { changes: ar('CS', 0xc09fn) } },
  { id: 'guest-segment-registers.ss-dpl-equals-rpl', fail: { changes: { ...ar('CS', 0xc09fn), ...ar('SS', 0xc0f3n) } }, pass: { changes: { ...UNRESTRICTED, ...ar('CS', 0xc09fn), ...ar('SS', 0xc0f3n) } } },
  { id: 'guest-segment-registers.ss-dpl-zero', fail: { changes: { ...REAL_MODE, ...ar('CS', 0xc09fn), ...ar('SS', 0xc0f3n) } }, pass: { changes: { ...REAL_MODE, ...ar('CS', 0xc09fn) } } },
  { id: 'guest-segment-registers.cs-db-64-bit', fail: { changes: { ...SIXTY_FOUR, ...ar('CS', 0xe09bn) } }, pass: { changes: SIXTY_FOUR } },
  { id: 'guest-segment-registers.tr-type', fail: { changes: ar('TR', 0x89n) }, pass: { changes: ar('TR', 0x83n) } },
  { id: 'guest-segment-registers.tr-type-ia32e', fail: { changes: { ...SIXTY_FOUR, ...ar('TR', 0x83n) } }, pass: { changes: SIXTY_FOUR } },
  { id: 'guest-segment-registers.tr-s-bit', fail: { changes: ar('TR', 0x9bn) }, pass: { changes: ar('TR', 0x8bn) } },
  { id: 'guest-segment-registers.tr-present', fail: { changes: ar('TR', 0x0bn) }, pass: { changes: ar('TR', 0x8bn) } },
  { id: 'guest-segment-registers.tr-access-rights-reserved-11-8', fail: { changes: ar('TR', 0x18bn) }, pass: { changes: ar('TR', 0x108bn) } },
  ...granularity('TR'),
  { id: 'guest-segment-registers.tr-usable', fail: { changes: ar('TR', 0x1008bn) }, pass: { changes: ar('TR', 0x8bn) } },
  { id: 'guest-segment-registers.tr-access-rights-reserved-31-17', fail: { changes: ar('TR', 0x2008bn) }, pass: { changes: ar('TR', 0x8bn) } },
  { id: 'guest-segment-registers.ldtr-type', fail: { changes: ar('LDTR', 0x83n) }, pass: { changes: ar('LDTR', 0x1_0083n) } },
  { id: 'guest-segment-registers.ldtr-s-bit', fail: { changes: ar('LDTR', 0x92n) }, pass: { changes: ar('LDTR', 0x82n) } },
  { id: 'guest-segment-registers.ldtr-present', fail: { changes: ar('LDTR', 0x02n) }, pass: { changes: ar('LDTR', 0x82n) } },
  { id: 'guest-segment-registers.ldtr-access-rights-reserved-11-8', fail: { changes: ar('LDTR', 0x182n) }, pass: { changes: ar('LDTR', 0x1082n) } },
  ...granularity('LDTR'),
  { id: 'guest-segment-registers.ldtr-access-rights-reserved-31-17', fail: { changes: ar('LDTR', 0x20082n) }, pass: { changes: ar('LDTR', 0x30082n) } },
];

const CR4_FRED = 0x2020n | bit(32);
const FRED_64: Changes = { ...SIXTY_FOUR, GUEST_CR4: CR4_FRED };
/** CR4.FRED checks: no profile lets CR4 bit 32 be 1, so they are checked on the function. */
const DIRECT_CASES: { id: string; fail: Changes; pass: Changes }[] = [
  {
    id: 'guest-segment-registers.ss-dpl-fred',
    fail: { ...FRED_64, ...ar('CS', 0xa09fn), ...ar('SS', 0xc0b3n), GUEST_SS_SELECTOR: 0x11n, GUEST_CS_SELECTOR: 0x9n },
    pass: { ...FRED_64, ...ar('CS', 0xa09fn), ...ar('SS', 0xc0f3n), GUEST_SS_SELECTOR: 0x13n, GUEST_CS_SELECTOR: 0xbn },
  },
  { id: 'guest-segment-registers.cs-l-fred', fail: { ...FRED_64, ...ar('CS', 0xc09bn) }, pass: FRED_64 },
];

function directOk(changes: Changes): boolean {
  const image = guestImage(MAXIMAL, changes);
  return guestSegmentRegistersOk(image.entry, image.guest, image.words, 0);
}

describe('VM entry, guest segment registers: exit reason 33, qualification 0', () => {
  it.each(CASES)('$id fails the entry', ({ fail }) => expectGuestFailure(fail));
  it.each(CASES)('$id: the neighbouring VMCS enters the guest', ({ pass }) => expectPass(pass));

  it.each(DIRECT_CASES)('$id (no profile reaches it: checked directly)', ({ fail, pass }) => {
    expect(directOk(fail)).toBe(false);
    expect(directOk(pass)).toBe(true);
  });

  it('has a case for every catalogue check of the group', () => {
    const ids = new Set([...CASES, ...DIRECT_CASES].map((c) => c.id));
    const missing = ENTRY_CHECKS_BY_GROUP['guest-segment-registers'].map((check) => check.id).filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
  });

  it('does not check an unusable data segment beyond its base', () => {
    expectPass({ changes: { ...ar('DS', 0x1_0000n), GUEST_DS_LIMIT: 0x1234n } });
  });
});
