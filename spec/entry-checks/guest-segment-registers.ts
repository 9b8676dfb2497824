/**
 * VM-entry checks on the guest segment registers (SDM Vol. 3C "Checks on Guest Segment
 * Registers": 26.3.1.2 in 2016, 27.3.1.2 in December 2023), one check per register wherever the
 * SDM states a rule for several registers, in SDM order (selectors, bases, limits, access rights;
 * within each, the registers in the SDM's order). Every failure is a VM-entry failure with exit
 * reason 33 and exit qualification 0.
 *
 * Terms as the SDM defines them: the guest "will be virtual-8086" when RFLAGS.VM (bit 17) is 1 in
 * the guest RFLAGS field; a register is "usable" when bit 16 (unusable) of its access-rights field
 * is 0. Access-rights layout: type 3:0, S 4, DPL 6:5, P 7, reserved 11:8, AVL 12, L 13, D/B 14,
 * G 15, unusable 16, reserved 31:17.
 */
import type { EntryCheck } from './types.ts';
import {
  BOCHS_GUEST,
  GUEST_STATE_FAILURE,
  KVM_FRED,
  TITLE,
  VBOX_GUEST,
  sdm2009,
  sdm2016,
  sdm2023Derived,
} from './guest-sources.ts';

const GROUP = 'guest-segment-registers';
const DEC2023 = '27.3.1.2';
const READ_2016 = sdm2016('26.3.1.2', TITLE.segmentRegisters);
const READ_2009 = sdm2009('22.3.1.2', TITLE.segmentRegisters);
const DERIVED = sdm2023Derived(DEC2023, TITLE.segmentRegisters);

const V8086 = 'guest RFLAGS.VM = 1 (the guest will be virtual-8086)';
const NOT_V8086 = 'guest RFLAGS.VM = 0';
const DATA_REGS = ['CS', 'SS', 'DS', 'ES', 'FS', 'GS'] as const;
type DataReg = (typeof DATA_REGS)[number];
const DS_TO_GS = ['DS', 'ES', 'FS', 'GS'] as const;

type Draft = Omit<EntryCheck, 'group' | 'consequence' | 'id' | 'december2023Section'> & { name: string };

function check(draft: Draft): EntryCheck {
  const { name, ...rest } = draft;
  const dated = rest.citation.section === DEC2023 ? {} : { december2023Section: DEC2023 };
  return { id: `${GROUP}.${name}`, group: GROUP, consequence: GUEST_STATE_FAILURE, ...dated, ...rest };
}

function lower(reg: string): string {
  return reg.toLowerCase();
}

function ar(reg: string): string {
  return `GUEST_${reg}_ACCESS_RIGHTS`;
}

function inv(n: number): string {
  return `G-SEG-${String(n).padStart(2, '0')}`;
}

/** "CS, or a usable SS..GS": the scope of most non-virtual-8086 access-rights rules. */
function scope(reg: DataReg): string {
  return reg === 'CS' ? NOT_V8086 : `${NOT_V8086} and ${reg} usable`;
}

/** A rule stated once for CS, SS, DS, ES, FS and GS, written as six checks. */
function perDataReg(
  regs: readonly DataReg[],
  firstInventory: number,
  make: (reg: DataReg) => Omit<Draft, 'inventoryId'>,
): EntryCheck[] {
  return regs.map((reg, i) => check({ ...make(reg), inventoryId: inv(firstInventory + i) }));
}

/**
 * The two granularity rules (limit bits 11:0 and 31:20 against G), for one register; `when` is
 * undefined for TR, whose rules always apply.
 */
function granularity(reg: string, when: string | undefined, inventory: [number, number]): EntryCheck[] {
  const scoped = when === undefined ? {} : { appliesWhen: when };
  const fields = [`GUEST_${reg}_LIMIT`, ar(reg), ...(reg === 'TR' || reg === 'LDTR' ? [] : ['GUEST_RFLAGS'])];
  return [
    check({
      name: `${lower(reg)}-granularity-low-limit`,
      condition: `If any of bits 11:0 of the ${reg} limit field is 0, the ${reg} G bit (access rights bit 15) is 0.`,
      ...scoped,
      citation: READ_2016,
      verification: 'read',
      fields,
      inventoryId: inv(inventory[0]),
    }),
    check({
      name: `${lower(reg)}-granularity-high-limit`,
      condition: `If any of bits 31:20 of the ${reg} limit field is 1, the ${reg} G bit (access rights bit 15) is 1.`,
      ...scoped,
      citation: READ_2016,
      verification: 'read',
      fields,
      inventoryId: inv(inventory[1]),
    }),
  ];
}

const SELECTORS: EntryCheck[] = [
  check({
    name: 'tr-selector-ti',
    condition: 'The TI flag (bit 2) of the guest TR selector is 0.',
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_TR_SELECTOR'],
    inventoryId: inv(1),
  }),
  check({
    name: 'ldtr-selector-ti',
    condition: 'The TI flag (bit 2) of the guest LDTR selector is 0.',
    appliesWhen: 'LDTR usable',
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_LDTR_SELECTOR', ar('LDTR')],
    inventoryId: inv(2),
  }),
  check({
    name: 'ss-rpl-equals-cs-rpl',
    condition: 'The RPL (bits 1:0) of the guest SS selector equals the RPL of the guest CS selector.',
    appliesWhen: `${NOT_V8086} and "unrestricted guest" = 0`,
    citation: READ_2009,
    verification: 'corroborated',
    basis: `the c.2009 text states the rule for every non-virtual-8086 guest; the "unrestricted guest" exemption is from ${BOCHS_GUEST} and ${VBOX_GUEST}`,
    fields: ['GUEST_SS_SELECTOR', 'GUEST_CS_SELECTOR', 'GUEST_RFLAGS', 'PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
    inventoryId: inv(3),
  }),
];

const BASES: EntryCheck[] = [
  ...perDataReg(DATA_REGS, 4, (reg) => ({
    name: `${lower(reg)}-base-v8086`,
    condition: `The guest ${reg} base equals the ${reg} selector shifted left by 4 bits.`,
    appliesWhen: V8086,
    citation: READ_2009,
    verification: 'read',
    fields: [`GUEST_${reg}_BASE`, `GUEST_${reg}_SELECTOR`, 'GUEST_RFLAGS'],
  })),
  ...(['TR', 'FS', 'GS'] as const).map((reg, i) =>
    check({
      name: `${lower(reg)}-base-canonical`,
      condition: `The guest ${reg} base holds a canonical address.`,
      citation: READ_2009,
      verification: 'read',
      fields: [`GUEST_${reg}_BASE`],
      alsoReads: ['linear-address width'],
      inventoryId: inv(10 + i),
    }),
  ),
  check({
    name: 'ldtr-base-canonical',
    condition: 'The guest LDTR base holds a canonical address.',
    appliesWhen: 'LDTR usable',
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_LDTR_BASE', ar('LDTR')],
    alsoReads: ['linear-address width'],
    inventoryId: inv(13),
  }),
  check({
    name: 'cs-base-high-zero',
    condition: 'Bits 63:32 of the guest CS base are 0.',
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_CS_BASE'],
    inventoryId: inv(14),
  }),
  ...(['SS', 'DS', 'ES'] as const).map((reg, i) =>
    check({
      name: `${lower(reg)}-base-high-zero`,
      condition: `Bits 63:32 of the guest ${reg} base are 0.`,
      appliesWhen: `${reg} usable`,
      citation: READ_2016,
      verification: 'read',
      fields: [`GUEST_${reg}_BASE`, ar(reg)],
      inventoryId: inv(15 + i),
    }),
  ),
];

const LIMITS: EntryCheck[] = perDataReg(DATA_REGS, 18, (reg) => ({
  name: `${lower(reg)}-limit-v8086`,
  condition: `The guest ${reg} limit is 0000FFFFH.`,
  appliesWhen: V8086,
  citation: READ_2016,
  verification: 'read',
  fields: [`GUEST_${reg}_LIMIT`, 'GUEST_RFLAGS'],
}));

const V8086_ACCESS_RIGHTS: EntryCheck[] = perDataReg(DATA_REGS, 24, (reg) => ({
  name: `${lower(reg)}-access-rights-v8086`,
  condition: `The guest ${reg} access rights are 000000F3H (type 3, S 1, DPL 3, P 1, every other bit 0, so usable).`,
  appliesWhen: V8086,
  citation: READ_2016,
  verification: 'read',
  fields: [ar(reg), 'GUEST_RFLAGS'],
}));

const TYPES: EntryCheck[] = [
  check({
    name: 'cs-type',
    condition: 'The guest CS type is 9, 11, 13 or 15 (an accessed code segment).',
    appliesWhen: `${NOT_V8086} and "unrestricted guest" = 0`,
    citation: READ_2016,
    verification: 'read',
    fields: [ar('CS'), 'GUEST_RFLAGS', 'PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
    inventoryId: inv(30),
  }),
  check({
    name: 'cs-type-unrestricted',
    condition: 'The guest CS type is 3 (read/write accessed expand-up data) or 9, 11, 13 or 15.',
    appliesWhen: `${NOT_V8086} and "unrestricted guest" = 1`,
    citation: READ_2016,
    verification: 'read',
    fields: [ar('CS'), 'GUEST_RFLAGS', 'PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
    inventoryId: inv(30),
  }),
  check({
    name: 'ss-type',
    condition: 'The guest SS type is 3 or 7 (read/write accessed data).',
    appliesWhen: scope('SS'),
    citation: READ_2016,
    verification: 'read',
    fields: [ar('SS'), 'GUEST_RFLAGS'],
    inventoryId: inv(31),
  }),
  ...perDataReg(DS_TO_GS, 32, (reg) => ({
    name: `${lower(reg)}-type-accessed`,
    condition: `Bit 0 (accessed) of the guest ${reg} type is 1.`,
    appliesWhen: scope(reg),
    citation: READ_2016,
    verification: 'read',
    fields: [ar(reg), 'GUEST_RFLAGS'],
  })),
  ...perDataReg(DS_TO_GS, 36, (reg) => ({
    name: `${lower(reg)}-type-readable-code`,
    condition: `If bit 3 of the guest ${reg} type is 1 (code), bit 1 (readable) is 1.`,
    appliesWhen: scope(reg),
    citation: READ_2016,
    verification: 'read',
    fields: [ar(reg), 'GUEST_RFLAGS'],
  })),
];

const S_BITS: EntryCheck[] = perDataReg(DATA_REGS, 40, (reg) => ({
  name: `${lower(reg)}-s-bit`,
  condition: `The S bit (access rights bit 4) of guest ${reg} is 1 (code or data segment).`,
  appliesWhen: scope(reg),
  citation: READ_2016,
  verification: 'read',
  fields: [ar(reg), 'GUEST_RFLAGS'],
}));

const DPLS: EntryCheck[] = [
  check({
    name: 'cs-dpl-data-type',
    condition: 'If the guest CS type is 3, the CS DPL is 0.',
    appliesWhen: NOT_V8086,
    citation: READ_2016,
    verification: 'read',
    fields: [ar('CS'), 'GUEST_RFLAGS'],
    inventoryId: inv(46),
    note: 'Type 3 is allowed only with "unrestricted guest" = 1 (see cs-type).',
  }),
  check({
    name: 'cs-dpl-nonconforming',
    condition: 'If the guest CS type is 9 or 11 (non-conforming code), the CS DPL equals the SS DPL.',
    appliesWhen: NOT_V8086,
    citation: READ_2016,
    verification: 'read',
    fields: [ar('CS'), ar('SS'), 'GUEST_RFLAGS'],
    inventoryId: inv(47),
  }),
  check({
    name: 'cs-dpl-conforming',
    condition: 'If the guest CS type is 13 or 15 (conforming code), the CS DPL is not greater than the SS DPL.',
    appliesWhen: NOT_V8086,
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${BOCHS_GUEST}; ${VBOX_GUEST}; the c.2009 text compared the CS DPL with the CS selector RPL instead`,
    fields: [ar('CS'), ar('SS'), 'GUEST_RFLAGS'],
    inventoryId: inv(48),
  }),
  check({
    name: 'ss-dpl-equals-rpl',
    condition: 'The guest SS DPL equals the RPL (bits 1:0) of the SS selector.',
    appliesWhen: `${NOT_V8086} and "unrestricted guest" = 0`,
    citation: READ_2009,
    verification: 'corroborated',
    basis: `the c.2009 text states the rule for every non-virtual-8086 guest; the "unrestricted guest" exemption is from ${BOCHS_GUEST} and ${VBOX_GUEST}`,
    fields: [ar('SS'), 'GUEST_SS_SELECTOR', 'GUEST_RFLAGS', 'PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
    inventoryId: inv(49),
  }),
  check({
    name: 'ss-dpl-zero',
    condition: 'If the guest CS type is 3 or guest CR0.PE is 0, the SS DPL is 0.',
    appliesWhen: NOT_V8086,
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${BOCHS_GUEST} (checked for unrestricted guests); ${VBOX_GUEST} (checked always)`,
    fields: [ar('SS'), ar('CS'), 'GUEST_CR0', 'GUEST_RFLAGS'],
    inventoryId: inv(50),
  }),
  ...perDataReg(DS_TO_GS, 51, (reg) => ({
    name: `${lower(reg)}-dpl-not-below-rpl`,
    condition: `If the guest ${reg} type is 0-11 (data or non-conforming code), the ${reg} DPL is not less than the RPL of the ${reg} selector.`,
    appliesWhen: `${scope(reg)} and "unrestricted guest" = 0`,
    citation: READ_2009,
    verification: 'corroborated',
    basis: `the c.2009 text states the rule without the "unrestricted guest" exemption, which is from ${BOCHS_GUEST} and ${VBOX_GUEST}`,
    fields: [ar(reg), `GUEST_${reg}_SELECTOR`, 'GUEST_RFLAGS', 'PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
  })),
];

const PRESENT: EntryCheck[] = perDataReg(DATA_REGS, 55, (reg) => ({
  name: `${lower(reg)}-present`,
  condition: `The P bit (access rights bit 7) of guest ${reg} is 1.`,
  appliesWhen: scope(reg),
  citation: READ_2009,
  verification: 'read',
  fields: [ar(reg), 'GUEST_RFLAGS'],
}));

const RESERVED_11_8: EntryCheck[] = perDataReg(DATA_REGS, 61, (reg) => ({
  name: `${lower(reg)}-access-rights-reserved-11-8`,
  condition: `Bits 11:8 of the guest ${reg} access rights are 0.`,
  appliesWhen: scope(reg),
  citation: READ_2016,
  verification: 'read',
  fields: [ar(reg), 'GUEST_RFLAGS'],
}));

const CS_DB: EntryCheck = check({
  name: 'cs-db-64-bit',
  condition: 'If CS.L (access rights bit 13) is 1, CS.D/B (bit 14) is 0.',
  appliesWhen: `${NOT_V8086} and "IA-32e mode guest" = 1`,
  citation: READ_2016,
  verification: 'read',
  fields: [ar('CS'), 'VM_ENTRY_CONTROLS', 'GUEST_RFLAGS'],
  inventoryId: inv(67),
});

const GRANULARITY: EntryCheck[] = DATA_REGS.flatMap((reg, i) =>
  granularity(reg, scope(reg), [68 + 2 * i, 69 + 2 * i]),
);

const RESERVED_31_17: EntryCheck[] = perDataReg(DATA_REGS, 80, (reg) => ({
  name: `${lower(reg)}-access-rights-reserved-31-17`,
  condition: `Bits 31:17 of the guest ${reg} access rights are 0.`,
  appliesWhen: scope(reg),
  citation: READ_2016,
  verification: 'read',
  fields: [ar(reg), 'GUEST_RFLAGS'],
}));

/** S, P, reserved bits 11:8 and granularity of TR or LDTR (system segments). */
function systemSegment(reg: 'TR' | 'LDTR', when: string | undefined, first: number): EntryCheck[] {
  const scoped = when === undefined ? {} : { appliesWhen: when };
  const r = lower(reg);
  const fields = [ar(reg)];
  const common = { ...scoped, citation: READ_2016, verification: 'read' as const, fields };
  return [
    check({
      name: `${r}-s-bit`,
      condition: `The ${reg} S bit (access rights bit 4) is 0 (system segment).`,
      ...common,
      inventoryId: inv(first),
    }),
    check({
      name: `${r}-present`,
      condition: `The ${reg} P bit (access rights bit 7) is 1.`,
      ...common,
      inventoryId: inv(first + 1),
    }),
    check({
      name: `${r}-access-rights-reserved-11-8`,
      condition: `Bits 11:8 of the ${reg} access rights are 0.`,
      ...common,
      inventoryId: inv(first + 2),
    }),
    ...granularity(reg, when, [first + 3, first + 4]),
  ];
}

const TR_CHECKS: EntryCheck[] = [
  check({
    name: 'tr-type',
    condition: 'The guest TR type is 3 (16-bit busy TSS) or 11 (32-bit busy TSS).',
    appliesWhen: '"IA-32e mode guest" = 0',
    citation: READ_2016,
    verification: 'read',
    fields: [ar('TR'), 'VM_ENTRY_CONTROLS'],
    inventoryId: inv(86),
  }),
  check({
    name: 'tr-type-ia32e',
    condition: 'The guest TR type is 11 (64-bit busy TSS).',
    appliesWhen: '"IA-32e mode guest" = 1',
    citation: READ_2016,
    verification: 'read',
    fields: [ar('TR'), 'VM_ENTRY_CONTROLS'],
    inventoryId: inv(87),
  }),
  ...systemSegment('TR', undefined, 88),
  check({
    name: 'tr-usable',
    condition: 'The TR unusable bit (access rights bit 16) is 0.',
    citation: READ_2016,
    verification: 'read',
    fields: [ar('TR')],
    inventoryId: inv(93),
  }),
  check({
    name: 'tr-access-rights-reserved-31-17',
    condition: 'Bits 31:17 of the guest TR access rights are 0.',
    citation: READ_2016,
    verification: 'read',
    fields: [ar('TR')],
    inventoryId: inv(94),
  }),
];

const LDTR_CHECKS: EntryCheck[] = [
  check({
    name: 'ldtr-type',
    condition: 'The guest LDTR type is 2 (LDT).',
    appliesWhen: 'LDTR usable',
    citation: READ_2016,
    verification: 'read',
    fields: [ar('LDTR')],
    inventoryId: inv(95),
  }),
  ...systemSegment('LDTR', 'LDTR usable', 96),
  check({
    name: 'ldtr-access-rights-reserved-31-17',
    condition: 'Bits 31:17 of the guest LDTR access rights are 0.',
    appliesWhen: 'LDTR usable',
    citation: READ_2016,
    verification: 'read',
    fields: [ar('LDTR')],
    inventoryId: inv(101),
  }),
];

const FRED: EntryCheck[] = [
  check({
    name: 'ss-dpl-fred',
    condition: 'The guest SS DPL is 0 or 3.',
    appliesWhen: '"IA-32e mode guest" = 1 and guest CR4.FRED = 1',
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${BOCHS_GUEST}; ${KVM_FRED}`,
    fields: [ar('SS'), 'GUEST_CR4', 'VM_ENTRY_CONTROLS'],
    inventoryId: inv(102),
  }),
  check({
    name: 'cs-l-fred',
    condition: 'If the guest SS DPL is 0, CS.L (access rights bit 13) is 1 (no ring-0 compatibility mode).',
    appliesWhen: '"IA-32e mode guest" = 1 and guest CR4.FRED = 1',
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${BOCHS_GUEST}; ${KVM_FRED}`,
    fields: [ar('SS'), ar('CS'), 'GUEST_CR4', 'VM_ENTRY_CONTROLS'],
    inventoryId: inv(103),
  }),
];

/** The guest segment-register checks, in SDM order, one per register. */
export const GUEST_SEGMENT_REGISTERS_CHECKS: readonly EntryCheck[] = [
  ...SELECTORS,
  ...BASES,
  ...LIMITS,
  ...V8086_ACCESS_RIGHTS,
  ...TYPES,
  ...S_BITS,
  ...DPLS,
  ...PRESENT,
  ...RESERVED_11_8,
  CS_DB,
  ...GRANULARITY,
  ...RESERVED_31_17,
  ...TR_CHECKS,
  ...LDTR_CHECKS,
  ...FRED,
];
