/**
 * Checks on the host-state fields for segment and descriptor-table registers (VMfailValid(8)),
 * in the order the SDM lists them; the selector rule is split per register and into its RPL and
 * TI halves, which fail separately.
 *
 * Read: SDM 2016 Vol. 3C §26.2.3 "Checks on Host Segment and Descriptor-Table Registers"
 * (page 26-7), every bullet visible.
 */
import { FAIL_HOST_STATE, LINEAR_WIDTH_INPUTS as LINEAR, SDM_2016 } from './controls-host-sources.ts';
import type { EntryCheck } from './types.ts';

const BASE = { group: 'host-segment-registers', consequence: FAIL_HOST_STATE } as const;
const READ = { ...SDM_2016.hostSegment, verification: 'read' } as const;
const CANONICAL_NOTE = 'The SDM makes this check on processors that support Intel 64 architecture.';

/** The host segment and descriptor-table register checks, in SDM order. */
export const HOST_SEGMENT_REGISTERS_CHECKS: readonly EntryCheck[] = [
  {
    ...BASE, ...READ, id: 'host-segment-registers.cs-selector-rpl',
    condition: 'The RPL (bits 1:0) of the host CS selector field is 0.',
    fields: ['HOST_CS_SELECTOR'], inventoryId: 'H-SEG-02',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.cs-selector-ti',
    condition: 'The TI flag (bit 2) of the host CS selector field is 0.',
    fields: ['HOST_CS_SELECTOR'], inventoryId: 'H-SEG-02',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.ss-selector-rpl',
    condition: 'The RPL (bits 1:0) of the host SS selector field is 0.',
    fields: ['HOST_SS_SELECTOR'], inventoryId: 'H-SEG-03',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.ss-selector-ti',
    condition: 'The TI flag (bit 2) of the host SS selector field is 0.',
    fields: ['HOST_SS_SELECTOR'], inventoryId: 'H-SEG-03',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.ds-selector-rpl',
    condition: 'The RPL (bits 1:0) of the host DS selector field is 0.',
    fields: ['HOST_DS_SELECTOR'], inventoryId: 'H-SEG-04',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.ds-selector-ti',
    condition: 'The TI flag (bit 2) of the host DS selector field is 0.',
    fields: ['HOST_DS_SELECTOR'], inventoryId: 'H-SEG-04',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.es-selector-rpl',
    condition: 'The RPL (bits 1:0) of the host ES selector field is 0.',
    fields: ['HOST_ES_SELECTOR'], inventoryId: 'H-SEG-01',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.es-selector-ti',
    condition: 'The TI flag (bit 2) of the host ES selector field is 0.',
    fields: ['HOST_ES_SELECTOR'], inventoryId: 'H-SEG-01',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.fs-selector-rpl',
    condition: 'The RPL (bits 1:0) of the host FS selector field is 0.',
    fields: ['HOST_FS_SELECTOR'], inventoryId: 'H-SEG-05',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.fs-selector-ti',
    condition: 'The TI flag (bit 2) of the host FS selector field is 0.',
    fields: ['HOST_FS_SELECTOR'], inventoryId: 'H-SEG-05',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.gs-selector-rpl',
    condition: 'The RPL (bits 1:0) of the host GS selector field is 0.',
    fields: ['HOST_GS_SELECTOR'], inventoryId: 'H-SEG-06',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.gs-selector-ti',
    condition: 'The TI flag (bit 2) of the host GS selector field is 0.',
    fields: ['HOST_GS_SELECTOR'], inventoryId: 'H-SEG-06',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.tr-selector-rpl',
    condition: 'The RPL (bits 1:0) of the host TR selector field is 0.',
    fields: ['HOST_TR_SELECTOR'], inventoryId: 'H-SEG-07',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.tr-selector-ti',
    condition: 'The TI flag (bit 2) of the host TR selector field is 0.',
    fields: ['HOST_TR_SELECTOR'], inventoryId: 'H-SEG-07',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.cs-selector-nonzero',
    condition: 'The host CS selector field is not 0000H.',
    fields: ['HOST_CS_SELECTOR'], inventoryId: 'H-SEG-08',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.tr-selector-nonzero',
    condition: 'The host TR selector field is not 0000H.',
    fields: ['HOST_TR_SELECTOR'], inventoryId: 'H-SEG-09',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.ss-selector-nonzero-outside-64-bit',
    condition: 'The host SS selector field is not 0000H.',
    appliesWhen: 'the "host address-space size" VM-exit control = 0',
    fields: ['HOST_SS_SELECTOR', 'PRIMARY_VM_EXIT_CONTROLS'], inventoryId: 'H-SEG-10',
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.fs-base-canonical',
    condition: 'The host FS base-address field contains a canonical address.',
    fields: ['HOST_FS_BASE'], alsoReads: LINEAR, inventoryId: 'H-SEG-11', note: CANONICAL_NOTE,
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.gs-base-canonical',
    condition: 'The host GS base-address field contains a canonical address.',
    fields: ['HOST_GS_BASE'], alsoReads: LINEAR, inventoryId: 'H-SEG-12', note: CANONICAL_NOTE,
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.gdtr-base-canonical',
    condition: 'The host GDTR base-address field contains a canonical address.',
    fields: ['HOST_GDTR_BASE'], alsoReads: LINEAR, inventoryId: 'H-SEG-13', note: CANONICAL_NOTE,
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.idtr-base-canonical',
    condition: 'The host IDTR base-address field contains a canonical address.',
    fields: ['HOST_IDTR_BASE'], alsoReads: LINEAR, inventoryId: 'H-SEG-14', note: CANONICAL_NOTE,
  },
  {
    ...BASE, ...READ, id: 'host-segment-registers.tr-base-canonical',
    condition: 'The host TR base-address field contains a canonical address.',
    fields: ['HOST_TR_BASE'], alsoReads: LINEAR, inventoryId: 'H-SEG-15', note: CANONICAL_NOTE,
  },
];
