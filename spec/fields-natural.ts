/**
 * The natural-width VMCS fields, one per line: name, encoding, width, type, and the conditions under
 * which the field exists (any one suffices; none means every VMX processor has it).
 *
 * Source: SDM Vol. 3D, December 2023, Appendix B "Field Encoding in VMCS".
 */
import { FIELD } from './field-names.ts';
import { REQUIRES } from './field-requirements.ts';
import type { VmcsField } from './fields.ts';

/** Every natural-width field, in Appendix B order. */
export const FIELDS_NATURAL_WIDTH: readonly VmcsField[] = [
  // natural-width control fields
  { name: 'CR0 guest/host mask', encoding: FIELD.CR0_GUEST_HOST_MASK, width: 'natural', type: 'control', requires: [] },
  { name: 'CR4 guest/host mask', encoding: FIELD.CR4_GUEST_HOST_MASK, width: 'natural', type: 'control', requires: [] },
  { name: 'CR0 read shadow', encoding: FIELD.CR0_READ_SHADOW, width: 'natural', type: 'control', requires: [] },
  { name: 'CR4 read shadow', encoding: FIELD.CR4_READ_SHADOW, width: 'natural', type: 'control', requires: [] },
  { name: 'CR3-target value 0', encoding: FIELD.CR3_TARGET_VALUE_0, width: 'natural', type: 'control', requires: [] },
  { name: 'CR3-target value 1', encoding: FIELD.CR3_TARGET_VALUE_1, width: 'natural', type: 'control', requires: [] },
  { name: 'CR3-target value 2', encoding: FIELD.CR3_TARGET_VALUE_2, width: 'natural', type: 'control', requires: [] },
  { name: 'CR3-target value 3', encoding: FIELD.CR3_TARGET_VALUE_3, width: 'natural', type: 'control', requires: [],
    note: 'Appendix B: encodings of further CR3-target values, should a processor support more than 4, would follow consecutively; profiles here report at most 4' },
  // natural-width exit-information fields
  { name: 'Exit qualification', encoding: FIELD.EXIT_QUALIFICATION, width: 'natural', type: 'exit-information', requires: [] },
  { name: 'I/O RCX', encoding: FIELD.IO_RCX, width: 'natural', type: 'exit-information', requires: [] },
  { name: 'I/O RSI', encoding: FIELD.IO_RSI, width: 'natural', type: 'exit-information', requires: [] },
  { name: 'I/O RDI', encoding: FIELD.IO_RDI, width: 'natural', type: 'exit-information', requires: [] },
  { name: 'I/O RIP', encoding: FIELD.IO_RIP, width: 'natural', type: 'exit-information', requires: [] },
  { name: 'Guest-linear address', encoding: FIELD.GUEST_LINEAR_ADDRESS, width: 'natural', type: 'exit-information', requires: [] },
  // natural-width guest fields
  { name: 'Guest CR0', encoding: FIELD.GUEST_CR0, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest CR3', encoding: FIELD.GUEST_CR3, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest CR4', encoding: FIELD.GUEST_CR4, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest ES base', encoding: FIELD.GUEST_ES_BASE, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest CS base', encoding: FIELD.GUEST_CS_BASE, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest SS base', encoding: FIELD.GUEST_SS_BASE, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest DS base', encoding: FIELD.GUEST_DS_BASE, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest FS base', encoding: FIELD.GUEST_FS_BASE, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest GS base', encoding: FIELD.GUEST_GS_BASE, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest LDTR base', encoding: FIELD.GUEST_LDTR_BASE, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest TR base', encoding: FIELD.GUEST_TR_BASE, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest GDTR base', encoding: FIELD.GUEST_GDTR_BASE, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest IDTR base', encoding: FIELD.GUEST_IDTR_BASE, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest DR7', encoding: FIELD.GUEST_DR7, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest RSP', encoding: FIELD.GUEST_RSP, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest RIP', encoding: FIELD.GUEST_RIP, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest RFLAGS', encoding: FIELD.GUEST_RFLAGS, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest pending debug exceptions', encoding: FIELD.GUEST_PENDING_DEBUG_EXCEPTIONS, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest IA32_SYSENTER_ESP', encoding: FIELD.GUEST_IA32_SYSENTER_ESP, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest IA32_SYSENTER_EIP', encoding: FIELD.GUEST_IA32_SYSENTER_EIP, width: 'natural', type: 'guest', requires: [] },
  { name: 'Guest IA32_S_CET', encoding: FIELD.GUEST_IA32_S_CET, width: 'natural', type: 'guest', requires: [REQUIRES.ENTRY_LOAD_CET_STATE] },
  { name: 'Guest SSP', encoding: FIELD.GUEST_SSP, width: 'natural', type: 'guest', requires: [REQUIRES.ENTRY_LOAD_CET_STATE] },
  { name: 'Guest IA32_INTERRUPT_SSP_TABLE_ADDR', encoding: FIELD.GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR, width: 'natural', type: 'guest', requires: [REQUIRES.ENTRY_LOAD_CET_STATE] },
  // natural-width host fields
  { name: 'Host CR0', encoding: FIELD.HOST_CR0, width: 'natural', type: 'host', requires: [] },
  { name: 'Host CR3', encoding: FIELD.HOST_CR3, width: 'natural', type: 'host', requires: [] },
  { name: 'Host CR4', encoding: FIELD.HOST_CR4, width: 'natural', type: 'host', requires: [] },
  { name: 'Host FS base', encoding: FIELD.HOST_FS_BASE, width: 'natural', type: 'host', requires: [] },
  { name: 'Host GS base', encoding: FIELD.HOST_GS_BASE, width: 'natural', type: 'host', requires: [] },
  { name: 'Host TR base', encoding: FIELD.HOST_TR_BASE, width: 'natural', type: 'host', requires: [] },
  { name: 'Host GDTR base', encoding: FIELD.HOST_GDTR_BASE, width: 'natural', type: 'host', requires: [] },
  { name: 'Host IDTR base', encoding: FIELD.HOST_IDTR_BASE, width: 'natural', type: 'host', requires: [] },
  { name: 'Host IA32_SYSENTER_ESP', encoding: FIELD.HOST_IA32_SYSENTER_ESP, width: 'natural', type: 'host', requires: [] },
  { name: 'Host IA32_SYSENTER_EIP', encoding: FIELD.HOST_IA32_SYSENTER_EIP, width: 'natural', type: 'host', requires: [] },
  { name: 'Host RSP', encoding: FIELD.HOST_RSP, width: 'natural', type: 'host', requires: [] },
  { name: 'Host RIP', encoding: FIELD.HOST_RIP, width: 'natural', type: 'host', requires: [] },
  { name: 'Host IA32_S_CET', encoding: FIELD.HOST_IA32_S_CET, width: 'natural', type: 'host', requires: [REQUIRES.EXIT_LOAD_CET_STATE] },
  { name: 'Host SSP', encoding: FIELD.HOST_SSP, width: 'natural', type: 'host', requires: [REQUIRES.EXIT_LOAD_CET_STATE] },
  { name: 'Host IA32_INTERRUPT_SSP_TABLE_ADDR', encoding: FIELD.HOST_IA32_INTERRUPT_SSP_TABLE_ADDR, width: 'natural', type: 'host', requires: [REQUIRES.EXIT_LOAD_CET_STATE] },
];
