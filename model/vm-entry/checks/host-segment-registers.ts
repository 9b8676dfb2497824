/**
 * Checks on the host-state fields for segment and descriptor-table registers, in the order of SDM
 * Vol. 3C (December 2023) §27.2.3 "Checks on Host Segment and Descriptor-Table Registers" (2016:
 * §26.2.3, the edition the catalogue read). A failure is VMfailValid(8). Each rule is named by its
 * catalogue id; the condition in words and the citation are in
 * spec/entry-checks/host-segment-registers.ts.
 *
 * The SDM's first bullet ("in the selector field for each of CS, SS, DS, ES, FS, GS and TR, the
 * RPL and the TI flag must be 0") is one check per register and half, as the catalogue splits it.
 * The base addresses must be canonical on processors that support Intel 64 architecture (every
 * processor the model describes); whether an address canonical with 57 bits but not with 48 is
 * canonical depends on the processor (linear-addresses.ts), and such a check may fail.
 */
import { EXIT_CONTROL } from '../../../spec/control-bits.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { SEGMENT_SELECTOR } from '../../../spec/registers.ts';
import { bitOf } from '../../non-root.ts';
import { check } from '../check.ts';
import type { EntryRule } from '../check.ts';
import { canonical } from '../linear-addresses.ts';

type SelectorField = FieldName & `HOST_${'CS' | 'SS' | 'DS' | 'ES' | 'FS' | 'GS' | 'TR'}_SELECTOR`;

/** The RPL check and the TI check on the selector field of `register`. */
function selectorChecks(register: string, field: SelectorField): EntryRule[] {
  return [
    check(`host-segment-registers.${register}-selector-rpl`, {
      fields: [field],
      holds: (f) => (f[field] & SEGMENT_SELECTOR.RPL) === 0n,
    }),
    check(`host-segment-registers.${register}-selector-ti`, {
      fields: [field],
      holds: (f) => (f[field] & SEGMENT_SELECTOR.TI) === 0n,
    }),
  ];
}

/** The check that the base-address field of `register` is canonical. */
function baseCanonical(register: string, field: FieldName & `HOST_${string}_BASE`): EntryRule {
  return check(`host-segment-registers.${register}-base-canonical`, {
    fields: [field],
    holds: (f) => canonical(f[field]),
  });
}

/** The host segment and descriptor-table register checks, in SDM order. */
export const HOST_SEGMENT_REGISTER_RULES: readonly EntryRule[] = [
  ...selectorChecks('cs', 'HOST_CS_SELECTOR'),
  ...selectorChecks('ss', 'HOST_SS_SELECTOR'),
  ...selectorChecks('ds', 'HOST_DS_SELECTOR'),
  ...selectorChecks('es', 'HOST_ES_SELECTOR'),
  ...selectorChecks('fs', 'HOST_FS_SELECTOR'),
  ...selectorChecks('gs', 'HOST_GS_SELECTOR'),
  ...selectorChecks('tr', 'HOST_TR_SELECTOR'),
  check('host-segment-registers.cs-selector-nonzero', {
    fields: ['HOST_CS_SELECTOR'],
    holds: (f) => f.HOST_CS_SELECTOR !== 0n,
  }),
  check('host-segment-registers.tr-selector-nonzero', {
    fields: ['HOST_TR_SELECTOR'],
    holds: (f) => f.HOST_TR_SELECTOR !== 0n,
  }),
  check('host-segment-registers.ss-selector-nonzero-outside-64-bit', {
    when: { fields: ['PRIMARY_VM_EXIT_CONTROLS'], test: (f) => !bitOf(f.PRIMARY_VM_EXIT_CONTROLS, EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE) },
    fields: ['HOST_SS_SELECTOR'],
    holds: (f) => f.HOST_SS_SELECTOR !== 0n,
  }),
  baseCanonical('fs', 'HOST_FS_BASE'),
  baseCanonical('gs', 'HOST_GS_BASE'),
  baseCanonical('gdtr', 'HOST_GDTR_BASE'),
  baseCanonical('idtr', 'HOST_IDTR_BASE'),
  baseCanonical('tr', 'HOST_TR_BASE'),
];
