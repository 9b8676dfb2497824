/**
 * Checks on the guest segment registers, first part: the selector, base-address and limit fields,
 * in the order of SDM Vol. 3C (December 2023) §27.3.1.2 "Checks on Guest Segment Registers"
 * (2016: §26.3.1.2). A failure is a VM-entry failure, exit reason 33, exit qualification 0. Each
 * rule is named by its catalogue id; the words and the citation are in
 * spec/entry-checks/guest-segment-registers.ts. The terms ("virtual-8086", "usable",
 * "unrestricted guest", canonical) are in ../segment-facts.ts.
 */
import { check } from '../check.ts';
import type { EntryRule } from '../check.ts';
import {
  canonical,
  CODE_AND_DATA,
  GUEST_SEGMENT,
  idOf,
  not,
  rpl,
  tableIndicator,
  unrestrictedGuest,
  usable,
  virtual8086,
} from '../segment-facts.ts';

const { CS, SS, TR, LDTR } = GUEST_SEGMENT;

/** Selector fields: TR and LDTR TI flags; SS RPL against CS RPL. */
const SELECTORS: EntryRule[] = [
  check('guest-segment-registers.tr-selector-ti', {
    fields: [TR.selector],
    holds: (f) => !tableIndicator(f[TR.selector]),
  }),
  check('guest-segment-registers.ldtr-selector-ti', {
    when: { fields: [LDTR.accessRights], test: (f) => usable(f[LDTR.accessRights]) },
    fields: [LDTR.selector],
    holds: (f) => !tableIndicator(f[LDTR.selector]),
  }),
  check('guest-segment-registers.ss-rpl-equals-cs-rpl', {
    when: {
      fields: ['GUEST_RFLAGS', 'PRIMARY_PROCESSOR_BASED_CONTROLS'],
      test: (f) => !virtual8086(f.GUEST_RFLAGS) && not(unrestrictedGuest(f.PRIMARY_PROCESSOR_BASED_CONTROLS, f.SECONDARY_PROCESSOR_BASED_CONTROLS)),
    },
    fields: [SS.selector, CS.selector],
    optional: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => rpl(f[SS.selector]) === rpl(f[CS.selector]),
  }),
];

/** Base-address fields: selector × 16 in virtual-8086 mode, then the Intel 64 checks. */
const BASES: EntryRule[] = [
  ...CODE_AND_DATA.map((reg) =>
    check(`guest-segment-registers.${idOf(reg)}-base-v8086`, {
      when: { fields: ['GUEST_RFLAGS'], test: (f) => virtual8086(f.GUEST_RFLAGS) },
      fields: [GUEST_SEGMENT[reg].base, GUEST_SEGMENT[reg].selector],
      holds: (f) => f[GUEST_SEGMENT[reg].base] === f[GUEST_SEGMENT[reg].selector] << 4n,
    }),
  ),
  ...(['TR', 'FS', 'GS'] as const).map((reg) =>
    check(`guest-segment-registers.${idOf(reg)}-base-canonical`, {
      fields: [GUEST_SEGMENT[reg].base],
      holds: (f) => canonical(f[GUEST_SEGMENT[reg].base]),
    }),
  ),
  check('guest-segment-registers.ldtr-base-canonical', {
    when: { fields: [LDTR.accessRights], test: (f) => usable(f[LDTR.accessRights]) },
    fields: [LDTR.base],
    holds: (f) => canonical(f[LDTR.base]),
  }),
  check('guest-segment-registers.cs-base-high-zero', {
    fields: [CS.base],
    holds: (f) => f[CS.base] >> 32n === 0n,
  }),
  ...(['SS', 'DS', 'ES'] as const).map((reg) =>
    check(`guest-segment-registers.${idOf(reg)}-base-high-zero`, {
      when: { fields: [GUEST_SEGMENT[reg].accessRights], test: (f) => usable(f[GUEST_SEGMENT[reg].accessRights]) },
      fields: [GUEST_SEGMENT[reg].base],
      holds: (f) => f[GUEST_SEGMENT[reg].base] >> 32n === 0n,
    }),
  ),
];

/** Limit fields of CS..GS in virtual-8086 mode. */
const LIMITS: EntryRule[] = CODE_AND_DATA.map((reg) =>
  check(`guest-segment-registers.${idOf(reg)}-limit-v8086`, {
    when: { fields: ['GUEST_RFLAGS'], test: (f) => virtual8086(f.GUEST_RFLAGS) },
    fields: [GUEST_SEGMENT[reg].limit],
    holds: (f) => f[GUEST_SEGMENT[reg].limit] === 0xffffn,
  }),
);

/** The selector, base and limit checks, in SDM order. */
export const GUEST_SEGMENT_SELECTOR_BASE_LIMIT_RULES: readonly EntryRule[] = [...SELECTORS, ...BASES, ...LIMITS];
