/**
 * Checks on the guest segment registers, third part: the access-rights fields of TR and LDTR
 * (system segments), in the order of SDM Vol. 3C (December 2023) §27.3.1.2 "Checks on Guest
 * Segment Registers" (2016: §26.3.1.2), then the two checks that FRED adds for SS and CS (not in
 * the editions read; the catalogue cites Bochs and KVM for them). A failure is a VM-entry failure,
 * exit reason 33, exit qualification 0. The words and citations are in
 * spec/entry-checks/guest-segment-registers.ts, the terms in ../segment-facts.ts.
 */
import { check } from '../check.ts';
import type { EntryRule } from '../check.ts';
import {
  codeOrData,
  dpl,
  fredEnabled,
  GUEST_SEGMENT,
  granularityMatchesHighLimit,
  granularityMatchesLowLimit,
  ia32eModeGuest,
  idOf,
  longMode,
  present,
  reserved11To8Clear,
  reserved31To17Clear,
  segmentType,
  usable,
} from '../segment-facts.ts';

const { CS, SS, TR, LDTR } = GUEST_SEGMENT;

/** The checks TR and LDTR share: S, P, reserved 11:8, granularity; LDTR's only when it is usable. */
function systemSegment(reg: 'TR' | 'LDTR'): EntryRule[] {
  const { accessRights, limit } = GUEST_SEGMENT[reg];
  const when = reg === 'LDTR' ? { when: { fields: [LDTR.accessRights], test: (f: { GUEST_LDTR_ACCESS_RIGHTS: bigint }) => usable(f[LDTR.accessRights]) } } : {};
  const id = (name: string): string => `guest-segment-registers.${idOf(reg)}-${name}`;
  return [
    check(id('s-bit'), { ...when, fields: [accessRights], holds: (f) => !codeOrData(f[accessRights]) }),
    check(id('present'), { ...when, fields: [accessRights], holds: (f) => present(f[accessRights]) }),
    check(id('access-rights-reserved-11-8'), { ...when, fields: [accessRights], holds: (f) => reserved11To8Clear(f[accessRights]) }),
    check(id('granularity-low-limit'), {
      ...when,
      fields: [limit, accessRights],
      holds: (f) => granularityMatchesLowLimit(f[limit], f[accessRights]),
    }),
    check(id('granularity-high-limit'), {
      ...when,
      fields: [limit, accessRights],
      holds: (f) => granularityMatchesHighLimit(f[limit], f[accessRights]),
    }),
  ];
}

/** TR: always checked. */
const TR_RULES: EntryRule[] = [
  check('guest-segment-registers.tr-type', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => !ia32eModeGuest(f.VM_ENTRY_CONTROLS) },
    fields: [TR.accessRights],
    holds: (f) => segmentType(f[TR.accessRights]) === 3n || segmentType(f[TR.accessRights]) === 11n,
  }),
  check('guest-segment-registers.tr-type-ia32e', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => ia32eModeGuest(f.VM_ENTRY_CONTROLS) },
    fields: [TR.accessRights],
    holds: (f) => segmentType(f[TR.accessRights]) === 11n,
  }),
  ...systemSegment('TR'),
  check('guest-segment-registers.tr-usable', {
    fields: [TR.accessRights],
    holds: (f) => usable(f[TR.accessRights]),
  }),
  check('guest-segment-registers.tr-access-rights-reserved-31-17', {
    fields: [TR.accessRights],
    holds: (f) => reserved31To17Clear(f[TR.accessRights]),
  }),
];

/** LDTR: checked only when usable. */
const LDTR_RULES: EntryRule[] = [
  check('guest-segment-registers.ldtr-type', {
    when: { fields: [LDTR.accessRights], test: (f) => usable(f[LDTR.accessRights]) },
    fields: [LDTR.accessRights],
    holds: (f) => segmentType(f[LDTR.accessRights]) === 2n,
  }),
  ...systemSegment('LDTR'),
  check('guest-segment-registers.ldtr-access-rights-reserved-31-17', {
    when: { fields: [LDTR.accessRights], test: (f) => usable(f[LDTR.accessRights]) },
    fields: [LDTR.accessRights],
    holds: (f) => reserved31To17Clear(f[LDTR.accessRights]),
  }),
];

/** An IA-32e mode guest with CR4.FRED = 1. */
const FRED_GUEST = {
  fields: ['VM_ENTRY_CONTROLS', 'GUEST_CR4'],
  test: (f: { VM_ENTRY_CONTROLS: bigint; GUEST_CR4: bigint }) => ia32eModeGuest(f.VM_ENTRY_CONTROLS) && fredEnabled(f.GUEST_CR4),
} as const;

/** FRED: SS DPL is 0 or 3; with SS DPL 0, CS.L is 1. */
const FRED_RULES: EntryRule[] = [
  check('guest-segment-registers.ss-dpl-fred', {
    when: FRED_GUEST,
    fields: [SS.accessRights],
    holds: (f) => dpl(f[SS.accessRights]) === 0n || dpl(f[SS.accessRights]) === 3n,
  }),
  check('guest-segment-registers.cs-l-fred', {
    when: FRED_GUEST,
    fields: [SS.accessRights, CS.accessRights],
    holds: (f) => dpl(f[SS.accessRights]) !== 0n || longMode(f[CS.accessRights]),
  }),
];

/** The TR, LDTR and FRED checks, in SDM order. */
export const GUEST_SEGMENT_SYSTEM_RULES: readonly EntryRule[] = [...TR_RULES, ...LDTR_RULES, ...FRED_RULES];
