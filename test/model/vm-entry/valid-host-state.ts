/**
 * A host-state area that passes every host-state check of SDM Vol. 3C (December 2023) §27.2.2,
 * §27.2.3 and §27.2.4 with a 64-bit host, on the built-in profiles. Kept apart from the other
 * helpers so that every VM-entry test can build on it without an import cycle.
 */
import type { FieldName } from '../../../spec/fields.ts';
import { initialProcessorState } from '../../../spec/initial-state.ts';

/** Canonical with 48 bits (upper half): canonical on every processor. */
export const CANONICAL_HIGH = 0xffff_8000_0000_0000n;

/** Host state that passes every host-state check (a 64-bit host with paging, in ring 0). */
export const VALID_HOST_STATE = {
  /** PG, NE, ET, PE, as the processor runs (spec/initial-state.ts). */
  HOST_CR0: initialProcessorState.cr0,
  HOST_CR3: 0x1000n,
  /** PAE and VMXE. */
  HOST_CR4: initialProcessorState.cr4,
  HOST_ES_SELECTOR: 0n,
  HOST_CS_SELECTOR: 0x08n,
  HOST_SS_SELECTOR: 0x10n,
  HOST_DS_SELECTOR: 0n,
  HOST_FS_SELECTOR: 0n,
  HOST_GS_SELECTOR: 0n,
  HOST_TR_SELECTOR: 0x18n,
  HOST_FS_BASE: 0n,
  HOST_GS_BASE: CANONICAL_HIGH,
  HOST_TR_BASE: 0x2000n,
  HOST_GDTR_BASE: 0x3000n,
  HOST_IDTR_BASE: 0x4000n,
  HOST_IA32_SYSENTER_ESP: 0n,
  HOST_IA32_SYSENTER_EIP: 0n,
  HOST_RIP: 0x40_0000n,
} as const satisfies Partial<Record<FieldName, bigint>>;

