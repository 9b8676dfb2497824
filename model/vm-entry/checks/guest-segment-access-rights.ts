/**
 * Checks on the guest segment registers, second part: the access-rights fields of CS, SS, DS, ES,
 * FS and GS, in the order of SDM Vol. 3C (December 2023) §27.3.1.2 "Checks on Guest Segment
 * Registers" (2016: §26.3.1.2): the whole field in virtual-8086 mode, then sub-field by sub-field
 * (type, S, DPL, P, reserved 11:8, D/B, G, reserved 31:17) for CS and for each usable register
 * otherwise. A failure is a VM-entry failure, exit reason 33, exit qualification 0. The words and
 * citations are in spec/entry-checks/guest-segment-registers.ts, the terms in ../segment-facts.ts.
 *
 * Reserved bits: some processors drop reserved access-rights bits when VMWRITE stores the field
 * (KVM imitates this), so on them these checks never see the bits set. The SDM text read for
 * VMWRITE and for these checks allows neither the dropping nor ignoring the bits here: the
 * model judges the value the VMCS holds, and a set reserved bit fails (model/README.md, "Choices
 * worth knowing").
 */
import { check } from '../check.ts';
import type { EntryRule, Fields } from '../check.ts';
import {
  CODE_AND_DATA,
  codeOrData,
  defaultBig,
  dpl,
  DS_TO_GS,
  GUEST_SEGMENT,
  granularityMatchesHighLimit,
  granularityMatchesLowLimit,
  ia32eModeGuest,
  idOf,
  longMode,
  not,
  present,
  protectedMode,
  reserved11To8Clear,
  reserved31To17Clear,
  rpl,
  segmentType,
  unrestrictedGuest,
  usable,
  virtual8086,
} from '../segment-facts.ts';
import type { CodeOrDataRegister } from '../segment-facts.ts';

const { CS, SS } = GUEST_SEGMENT;

type AccessRightsField = (typeof GUEST_SEGMENT)[CodeOrDataRegister]['accessRights'];

/**
 * When the sub-field checks apply to `reg`: the guest will not be virtual-8086, and the register
 * is CS or is usable.
 */
function subFieldsChecked(reg: CodeOrDataRegister): {
  fields: readonly (AccessRightsField | 'GUEST_RFLAGS')[];
  test(f: Fields<AccessRightsField | 'GUEST_RFLAGS'>): boolean;
} {
  const ar = GUEST_SEGMENT[reg].accessRights;
  return {
    fields: [ar, 'GUEST_RFLAGS'],
    test: (f) => !virtual8086(f.GUEST_RFLAGS) && (reg === 'CS' || usable(f[ar])),
  };
}

/** One rule per register of `regs`, on the register's access rights, where the sub-field checks apply. */
function perRegister(regs: readonly CodeOrDataRegister[], name: string, holds: (accessRights: bigint) => boolean): EntryRule[] {
  return regs.map((reg) =>
    check(`guest-segment-registers.${idOf(reg)}-${name}`, {
      when: subFieldsChecked(reg),
      fields: [GUEST_SEGMENT[reg].accessRights],
      holds: (f) => holds(f[GUEST_SEGMENT[reg].accessRights]),
    }),
  );
}

const NOT_V8086 = { fields: ['GUEST_RFLAGS'], test: (f: { GUEST_RFLAGS: bigint }) => !virtual8086(f.GUEST_RFLAGS) } as const;

/** Virtual-8086 mode: the whole field is 000000F3H. */
const V8086: EntryRule[] = CODE_AND_DATA.map((reg) =>
  check(`guest-segment-registers.${idOf(reg)}-access-rights-v8086`, {
    when: { fields: ['GUEST_RFLAGS'], test: (f) => virtual8086(f.GUEST_RFLAGS) },
    fields: [GUEST_SEGMENT[reg].accessRights],
    holds: (f) => f[GUEST_SEGMENT[reg].accessRights] === 0xf3n,
  }),
);

/** Bits 3:0, the type. */
const TYPES: EntryRule[] = [
  check('guest-segment-registers.cs-type', {
    when: {
      fields: ['GUEST_RFLAGS', 'PRIMARY_PROCESSOR_BASED_CONTROLS'],
      test: (f) => !virtual8086(f.GUEST_RFLAGS) && not(unrestrictedGuest(f.PRIMARY_PROCESSOR_BASED_CONTROLS, f.SECONDARY_PROCESSOR_BASED_CONTROLS)),
    },
    fields: [CS.accessRights],
    optional: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => [9n, 11n, 13n, 15n].includes(segmentType(f[CS.accessRights])),
  }),
  check('guest-segment-registers.cs-type-unrestricted', {
    when: {
      fields: ['GUEST_RFLAGS', 'PRIMARY_PROCESSOR_BASED_CONTROLS'],
      test: (f) => !virtual8086(f.GUEST_RFLAGS) && unrestrictedGuest(f.PRIMARY_PROCESSOR_BASED_CONTROLS, f.SECONDARY_PROCESSOR_BASED_CONTROLS),
    },
    fields: [CS.accessRights],
    optional: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => [3n, 9n, 11n, 13n, 15n].includes(segmentType(f[CS.accessRights])),
  }),
  ...perRegister(['SS'], 'type', (ar) => segmentType(ar) === 3n || segmentType(ar) === 7n),
  ...perRegister(DS_TO_GS, 'type-accessed', (ar) => (segmentType(ar) & 1n) === 1n),
  ...perRegister(DS_TO_GS, 'type-readable-code', (ar) => (segmentType(ar) & 8n) === 0n || (segmentType(ar) & 2n) === 2n),
];

/** Bit 4, S: a code or data segment. */
const S_BITS: EntryRule[] = perRegister(CODE_AND_DATA, 's-bit', codeOrData);

/** Bits 6:5, the DPL. */
const DPLS: EntryRule[] = [
  check('guest-segment-registers.cs-dpl-data-type', {
    when: NOT_V8086,
    fields: [CS.accessRights],
    holds: (f) => segmentType(f[CS.accessRights]) !== 3n || dpl(f[CS.accessRights]) === 0n,
  }),
  check('guest-segment-registers.cs-dpl-nonconforming', {
    when: NOT_V8086,
    fields: [CS.accessRights, SS.accessRights],
    holds: (f) => ![9n, 11n].includes(segmentType(f[CS.accessRights])) || dpl(f[CS.accessRights]) === dpl(f[SS.accessRights]),
  }),
  check('guest-segment-registers.cs-dpl-conforming', {
    when: NOT_V8086,
    fields: [CS.accessRights, SS.accessRights],
    holds: (f) => ![13n, 15n].includes(segmentType(f[CS.accessRights])) || dpl(f[CS.accessRights]) <= dpl(f[SS.accessRights]),
  }),
  check('guest-segment-registers.ss-dpl-equals-rpl', {
    when: {
      fields: ['GUEST_RFLAGS', 'PRIMARY_PROCESSOR_BASED_CONTROLS'],
      test: (f) => !virtual8086(f.GUEST_RFLAGS) && not(unrestrictedGuest(f.PRIMARY_PROCESSOR_BASED_CONTROLS, f.SECONDARY_PROCESSOR_BASED_CONTROLS)),
    },
    fields: [SS.accessRights, SS.selector],
    optional: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => dpl(f[SS.accessRights]) === rpl(f[SS.selector]),
  }),
  check('guest-segment-registers.ss-dpl-zero', {
    when: NOT_V8086,
    fields: [SS.accessRights, CS.accessRights, 'GUEST_CR0'],
    holds: (f) => (segmentType(f[CS.accessRights]) !== 3n && protectedMode(f.GUEST_CR0)) || dpl(f[SS.accessRights]) === 0n,
  }),
  ...DS_TO_GS.map((reg) => {
    const { accessRights, selector } = GUEST_SEGMENT[reg];
    return check(`guest-segment-registers.${idOf(reg)}-dpl-not-below-rpl`, {
      when: {
        fields: ['GUEST_RFLAGS', 'PRIMARY_PROCESSOR_BASED_CONTROLS', accessRights],
        test: (f) =>
          !virtual8086(f.GUEST_RFLAGS) &&
          usable(f[accessRights]) &&
          not(unrestrictedGuest(f.PRIMARY_PROCESSOR_BASED_CONTROLS, f.SECONDARY_PROCESSOR_BASED_CONTROLS)),
      },
      fields: [accessRights, selector],
      optional: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
      holds: (f) => segmentType(f[accessRights]) > 11n || dpl(f[accessRights]) >= rpl(f[selector]),
    });
  }),
];

/** Bit 7, P. */
const PRESENT: EntryRule[] = perRegister(CODE_AND_DATA, 'present', present);

/** Bits 11:8, reserved. */
const RESERVED_11_8: EntryRule[] = perRegister(CODE_AND_DATA, 'access-rights-reserved-11-8', reserved11To8Clear);

/** Bit 14, D/B of CS, against L in an IA-32e mode guest. */
const CS_DB: EntryRule = check('guest-segment-registers.cs-db-64-bit', {
  when: { fields: ['GUEST_RFLAGS', 'VM_ENTRY_CONTROLS'], test: (f) => !virtual8086(f.GUEST_RFLAGS) && ia32eModeGuest(f.VM_ENTRY_CONTROLS) },
  fields: [CS.accessRights],
  holds: (f) => !longMode(f[CS.accessRights]) || !defaultBig(f[CS.accessRights]),
});

/** Bit 15, G, against the limit: bits 11:0 all 1 unless G = 0, bits 31:20 all 0 unless G = 1. */
const GRANULARITY: EntryRule[] = CODE_AND_DATA.flatMap((reg) => {
  const { accessRights, limit } = GUEST_SEGMENT[reg];
  return [
    check(`guest-segment-registers.${idOf(reg)}-granularity-low-limit`, {
      when: subFieldsChecked(reg),
      fields: [limit, accessRights],
      holds: (f) => granularityMatchesLowLimit(f[limit], f[accessRights]),
    }),
    check(`guest-segment-registers.${idOf(reg)}-granularity-high-limit`, {
      when: subFieldsChecked(reg),
      fields: [limit, accessRights],
      holds: (f) => granularityMatchesHighLimit(f[limit], f[accessRights]),
    }),
  ];
});

/** Bits 31:17, reserved. */
const RESERVED_31_17: EntryRule[] = perRegister(CODE_AND_DATA, 'access-rights-reserved-31-17', reserved31To17Clear);

/** The access-rights checks of CS, SS, DS, ES, FS and GS, in SDM order. */
export const GUEST_SEGMENT_ACCESS_RIGHTS_RULES: readonly EntryRule[] = [
  ...V8086,
  ...TYPES,
  ...S_BITS,
  ...DPLS,
  ...PRESENT,
  ...RESERVED_11_8,
  CS_DB,
  ...GRANULARITY,
  ...RESERVED_31_17,
];
