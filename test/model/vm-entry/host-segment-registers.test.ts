/**
 * Host segment and descriptor-table register checks at VM entry. Expected outcomes from SDM Vol. 3C
 * §27.2.3 "Checks on Host Segment and Descriptor-Table Registers" (December 2023; 2016 §26.2.3,
 * page 26-7): "In the selector field for each of CS, SS, DS, ES, FS, GS and TR, the RPL (bits 1:0)
 * and the TI flag (bit 2) must be 0"; "The selector fields for CS and TR cannot be 0000H"; "The
 * selector field for SS cannot be 0000H if the 'host address-space size' VM-exit control is 0";
 * "the base-address fields for FS, GS, GDTR, IDTR, and TR must contain canonical addresses". A
 * failure is VMfailValid(8) (§27.2).
 */
import { describe, it } from 'vitest';
import { EXIT_CONTROL } from '../../../spec/control-bits.ts';
import { patchCpu } from '../helpers.ts';
import {
  bit,
  CANONICAL_57_ONLY,
  CANONICAL_HIGH,
  EXIT_64,
  expectCatalogueOrder,
  expectHostFailure,
  expectHostMayFail,
  expectHostPass,
  hostVmcs,
  NON_CANONICAL,
  VALID,
} from './host-state.ts';

const G = 'host-segment-registers';

it('implements every catalogue entry of the group, in the catalogue (SDM) order', () => {
  expectCatalogueOrder('host-segment-registers');
});

describe.each([
  ['cs', 'HOST_CS_SELECTOR'],
  ['ss', 'HOST_SS_SELECTOR'],
  ['ds', 'HOST_DS_SELECTOR'],
  ['es', 'HOST_ES_SELECTOR'],
  ['fs', 'HOST_FS_SELECTOR'],
  ['gs', 'HOST_GS_SELECTOR'],
  ['tr', 'HOST_TR_SELECTOR'],
] as const)('host %s selector', (register, field) => {
  const selector = register === 'cs' ? 0x08n : register === 'tr' ? 0x18n : 0x20n;

  it('RPL (bits 1:0) must be 0: RPL 1 and RPL 3 fail', () => {
    expectHostFailure(hostVmcs({ [field]: selector | 1n }), `${G}.${register}-selector-rpl`);
    expectHostFailure(hostVmcs({ [field]: selector | 3n }), `${G}.${register}-selector-rpl`);
    expectHostPass(hostVmcs({ [field]: selector }), `${G}.${register}-selector-rpl`);
  });

  it('TI (bit 2) must be 0: a selector into the LDT fails', () => {
    expectHostFailure(hostVmcs({ [field]: selector | 4n }), `${G}.${register}-selector-ti`);
    expectHostPass(hostVmcs({ [field]: selector | bit(3) }), `${G}.${register}-selector-ti`);
  });
});

describe('null selectors', () => {
  it('the CS selector cannot be 0000H', () => {
    expectHostFailure(hostVmcs({ HOST_CS_SELECTOR: 0n }), `${G}.cs-selector-nonzero`);
    expectHostPass(hostVmcs({}), `${G}.cs-selector-nonzero`);
  });

  it('the TR selector cannot be 0000H', () => {
    expectHostFailure(hostVmcs({ HOST_TR_SELECTOR: 0n }), `${G}.tr-selector-nonzero`);
    expectHostPass(hostVmcs({}), `${G}.tr-selector-nonzero`);
  });

  describe('the SS selector cannot be 0000H when "host address-space size" is 0', () => {
    const id = `${G}.ss-selector-nonzero-outside-64-bit`;
    const exit32 = EXIT_64 & ~bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE);
    /** A 32-bit host made from a processor outside IA-32e mode, so the address-space checks pass. */
    const host32 = (ss: bigint) => patchCpu(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit32, HOST_SS_SELECTOR: ss }), 0, { eferLma: 0, csL: 0 });

    it('a 32-bit host with SS 0000H fails; with SS 0010H it passes', () => {
      expectHostFailure(host32(0n), id);
      expectHostPass(host32(0x10n), id);
    });

    it('a 64-bit host may have SS 0000H', () => {
      expectHostPass(hostVmcs({ HOST_SS_SELECTOR: 0n }), id, 'not-applicable');
    });
  });
});

describe.each([
  ['fs', 'HOST_FS_BASE'],
  ['gs', 'HOST_GS_BASE'],
  ['gdtr', 'HOST_GDTR_BASE'],
  ['idtr', 'HOST_IDTR_BASE'],
  ['tr', 'HOST_TR_BASE'],
] as const)('host %s base address must be canonical', (register, field) => {
  const id = `${G}.${register}-base-canonical`;

  it('not canonical with 57 bits either: fails', () => {
    expectHostFailure(hostVmcs({ [field]: NON_CANONICAL }), id);
  });

  it('canonical with 48 bits (upper half, and 0): passes', () => {
    expectHostPass(hostVmcs({ [field]: CANONICAL_HIGH }), id);
    expectHostPass(hostVmcs({ [field]: 0n }), id);
  });

  it('canonical with 57 bits only: may fail (the profile does not record the linear-address width)', () => {
    expectHostMayFail({ [field]: CANONICAL_57_ONLY }, id);
  });

  it('the valid host state passes', () => {
    expectHostPass(hostVmcs({ [field]: VALID[field] }), id);
  });
});
