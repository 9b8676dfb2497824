/**
 * The 16-bit VMCS fields, one per line: name, encoding, width, type, and the conditions under
 * which the field exists (any one suffices; none means every VMX processor has it).
 *
 * Source: SDM Vol. 3D, December 2023, Appendix B "Field Encoding in VMCS".
 */
import { FIELD } from './field-names.ts';
import { REQUIRES } from './field-requirements.ts';
import type { VmcsField } from './fields.ts';

/** Every 16-bit field, in Appendix B order. */
export const FIELDS_16_BIT: readonly VmcsField[] = [
  // 16-bit control fields
  { name: 'Virtual-processor identifier (VPID)', encoding: FIELD.VPID, width: 16, type: 'control', requires: [REQUIRES.SECONDARY_ENABLE_VPID] },
  { name: 'Posted-interrupt notification vector', encoding: FIELD.POSTED_INTERRUPT_NOTIFICATION_VECTOR, width: 16, type: 'control', requires: [REQUIRES.PIN_PROCESS_POSTED_INTERRUPTS] },
  { name: 'EPTP index', encoding: FIELD.EPTP_INDEX, width: 16, type: 'control', requires: [REQUIRES.SECONDARY_EPT_VIOLATION_VE] },
  { name: 'HLAT prefix size', encoding: FIELD.HLAT_PREFIX_SIZE, width: 16, type: 'control', requires: [REQUIRES.TERTIARY_ENABLE_HLAT] },
  { name: 'Last PID-pointer index', encoding: FIELD.LAST_PID_POINTER_INDEX, width: 16, type: 'control', requires: [REQUIRES.TERTIARY_IPI_VIRTUALIZATION] },
  { name: 'Virtual-timer vector', encoding: FIELD.VIRTUAL_TIMER_VECTOR, width: 16, type: 'control', requires: [REQUIRES.APIC_TIMER_VIRTUALIZATION] },
  // 16-bit guest fields
  { name: 'Guest ES selector', encoding: FIELD.GUEST_ES_SELECTOR, width: 16, type: 'guest', requires: [] },
  { name: 'Guest CS selector', encoding: FIELD.GUEST_CS_SELECTOR, width: 16, type: 'guest', requires: [] },
  { name: 'Guest SS selector', encoding: FIELD.GUEST_SS_SELECTOR, width: 16, type: 'guest', requires: [] },
  { name: 'Guest DS selector', encoding: FIELD.GUEST_DS_SELECTOR, width: 16, type: 'guest', requires: [] },
  { name: 'Guest FS selector', encoding: FIELD.GUEST_FS_SELECTOR, width: 16, type: 'guest', requires: [] },
  { name: 'Guest GS selector', encoding: FIELD.GUEST_GS_SELECTOR, width: 16, type: 'guest', requires: [] },
  { name: 'Guest LDTR selector', encoding: FIELD.GUEST_LDTR_SELECTOR, width: 16, type: 'guest', requires: [] },
  { name: 'Guest TR selector', encoding: FIELD.GUEST_TR_SELECTOR, width: 16, type: 'guest', requires: [] },
  { name: 'Guest interrupt status', encoding: FIELD.GUEST_INTERRUPT_STATUS, width: 16, type: 'guest', requires: [REQUIRES.SECONDARY_VIRTUAL_INTERRUPT_DELIVERY] },
  { name: 'PML index', encoding: FIELD.PML_INDEX, width: 16, type: 'guest', requires: [REQUIRES.SECONDARY_ENABLE_PML] },
  { name: 'Guest UINV', encoding: FIELD.GUEST_UINV, width: 16, type: 'guest', requires: [REQUIRES.ENTRY_LOAD_UINV, REQUIRES.EXIT_CLEAR_UINV] },
  // 16-bit host fields
  { name: 'Host ES selector', encoding: FIELD.HOST_ES_SELECTOR, width: 16, type: 'host', requires: [] },
  { name: 'Host CS selector', encoding: FIELD.HOST_CS_SELECTOR, width: 16, type: 'host', requires: [] },
  { name: 'Host SS selector', encoding: FIELD.HOST_SS_SELECTOR, width: 16, type: 'host', requires: [] },
  { name: 'Host DS selector', encoding: FIELD.HOST_DS_SELECTOR, width: 16, type: 'host', requires: [] },
  { name: 'Host FS selector', encoding: FIELD.HOST_FS_SELECTOR, width: 16, type: 'host', requires: [] },
  { name: 'Host GS selector', encoding: FIELD.HOST_GS_SELECTOR, width: 16, type: 'host', requires: [] },
  { name: 'Host TR selector', encoding: FIELD.HOST_TR_SELECTOR, width: 16, type: 'host', requires: [] },
];
