/**
 * The 32-bit VMCS fields, one per line: name, encoding, width, type, and the conditions under
 * which the field exists (any one suffices; none means every VMX processor has it).
 *
 * Source: SDM Vol. 3D, December 2023, Appendix B "Field Encoding in VMCS".
 */
import { FIELD } from './field-names.ts';
import { REQUIRES } from './field-requirements.ts';
import type { VmcsField } from './fields.ts';

/** Every 32-bit field, in Appendix B order. */
export const FIELDS_32_BIT: readonly VmcsField[] = [
  // 32-bit control fields
  { name: 'Pin-based VM-execution controls', encoding: FIELD.PIN_BASED_CONTROLS, width: 32, type: 'control', requires: [] },
  { name: 'Primary processor-based VM-execution controls', encoding: FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, width: 32, type: 'control', requires: [] },
  { name: 'Exception bitmap', encoding: FIELD.EXCEPTION_BITMAP, width: 32, type: 'control', requires: [] },
  { name: 'Page-fault error-code mask', encoding: FIELD.PAGE_FAULT_ERROR_CODE_MASK, width: 32, type: 'control', requires: [] },
  { name: 'Page-fault error-code match', encoding: FIELD.PAGE_FAULT_ERROR_CODE_MATCH, width: 32, type: 'control', requires: [] },
  { name: 'CR3-target count', encoding: FIELD.CR3_TARGET_COUNT, width: 32, type: 'control', requires: [] },
  { name: 'Primary VM-exit controls', encoding: FIELD.PRIMARY_VM_EXIT_CONTROLS, width: 32, type: 'control', requires: [] },
  { name: 'VM-exit MSR-store count', encoding: FIELD.VM_EXIT_MSR_STORE_COUNT, width: 32, type: 'control', requires: [] },
  { name: 'VM-exit MSR-load count', encoding: FIELD.VM_EXIT_MSR_LOAD_COUNT, width: 32, type: 'control', requires: [] },
  { name: 'VM-entry controls', encoding: FIELD.VM_ENTRY_CONTROLS, width: 32, type: 'control', requires: [] },
  { name: 'VM-entry MSR-load count', encoding: FIELD.VM_ENTRY_MSR_LOAD_COUNT, width: 32, type: 'control', requires: [] },
  { name: 'VM-entry interruption-information field', encoding: FIELD.VM_ENTRY_INTERRUPTION_INFORMATION, width: 32, type: 'control', requires: [] },
  { name: 'VM-entry exception error code', encoding: FIELD.VM_ENTRY_EXCEPTION_ERROR_CODE, width: 32, type: 'control', requires: [] },
  { name: 'VM-entry instruction length', encoding: FIELD.VM_ENTRY_INSTRUCTION_LENGTH, width: 32, type: 'control', requires: [] },
  { name: 'TPR threshold', encoding: FIELD.TPR_THRESHOLD, width: 32, type: 'control', requires: [REQUIRES.PRIMARY_USE_TPR_SHADOW] },
  { name: 'Secondary processor-based VM-execution controls', encoding: FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, width: 32, type: 'control', requires: [REQUIRES.PRIMARY_ACTIVATE_SECONDARY_CONTROLS] },
  { name: 'PLE_Gap', encoding: FIELD.PLE_GAP, width: 32, type: 'control', requires: [REQUIRES.SECONDARY_PAUSE_LOOP_EXITING] },
  { name: 'PLE_Window', encoding: FIELD.PLE_WINDOW, width: 32, type: 'control', requires: [REQUIRES.SECONDARY_PAUSE_LOOP_EXITING] },
  { name: 'Instruction-timeout control (notify window)', encoding: FIELD.INSTRUCTION_TIMEOUT_CONTROL, width: 32, type: 'control', requires: [REQUIRES.SECONDARY_INSTRUCTION_TIMEOUT] },
  { name: 'Guest KeyID (SEAM)', encoding: FIELD.GUEST_KEYID, width: 32, type: 'control', requires: [REQUIRES.SEAM] },
  // 32-bit exit-information fields
  { name: 'VM-instruction error', encoding: FIELD.VM_INSTRUCTION_ERROR, width: 32, type: 'exit-information', requires: [] },
  { name: 'Exit reason', encoding: FIELD.EXIT_REASON, width: 32, type: 'exit-information', requires: [] },
  { name: 'VM-exit interruption information', encoding: FIELD.VM_EXIT_INTERRUPTION_INFORMATION, width: 32, type: 'exit-information', requires: [] },
  { name: 'VM-exit interruption error code', encoding: FIELD.VM_EXIT_INTERRUPTION_ERROR_CODE, width: 32, type: 'exit-information', requires: [] },
  { name: 'IDT-vectoring information field', encoding: FIELD.IDT_VECTORING_INFORMATION, width: 32, type: 'exit-information', requires: [] },
  { name: 'IDT-vectoring error code', encoding: FIELD.IDT_VECTORING_ERROR_CODE, width: 32, type: 'exit-information', requires: [] },
  { name: 'VM-exit instruction length', encoding: FIELD.VM_EXIT_INSTRUCTION_LENGTH, width: 32, type: 'exit-information', requires: [] },
  { name: 'VM-exit instruction information', encoding: FIELD.VM_EXIT_INSTRUCTION_INFORMATION, width: 32, type: 'exit-information', requires: [] },
  // 32-bit guest fields
  { name: 'Guest ES limit', encoding: FIELD.GUEST_ES_LIMIT, width: 32, type: 'guest', requires: [] },
  { name: 'Guest CS limit', encoding: FIELD.GUEST_CS_LIMIT, width: 32, type: 'guest', requires: [] },
  { name: 'Guest SS limit', encoding: FIELD.GUEST_SS_LIMIT, width: 32, type: 'guest', requires: [] },
  { name: 'Guest DS limit', encoding: FIELD.GUEST_DS_LIMIT, width: 32, type: 'guest', requires: [] },
  { name: 'Guest FS limit', encoding: FIELD.GUEST_FS_LIMIT, width: 32, type: 'guest', requires: [] },
  { name: 'Guest GS limit', encoding: FIELD.GUEST_GS_LIMIT, width: 32, type: 'guest', requires: [] },
  { name: 'Guest LDTR limit', encoding: FIELD.GUEST_LDTR_LIMIT, width: 32, type: 'guest', requires: [] },
  { name: 'Guest TR limit', encoding: FIELD.GUEST_TR_LIMIT, width: 32, type: 'guest', requires: [] },
  { name: 'Guest GDTR limit', encoding: FIELD.GUEST_GDTR_LIMIT, width: 32, type: 'guest', requires: [] },
  { name: 'Guest IDTR limit', encoding: FIELD.GUEST_IDTR_LIMIT, width: 32, type: 'guest', requires: [] },
  { name: 'Guest ES access rights', encoding: FIELD.GUEST_ES_ACCESS_RIGHTS, width: 32, type: 'guest', requires: [] },
  { name: 'Guest CS access rights', encoding: FIELD.GUEST_CS_ACCESS_RIGHTS, width: 32, type: 'guest', requires: [] },
  { name: 'Guest SS access rights', encoding: FIELD.GUEST_SS_ACCESS_RIGHTS, width: 32, type: 'guest', requires: [] },
  { name: 'Guest DS access rights', encoding: FIELD.GUEST_DS_ACCESS_RIGHTS, width: 32, type: 'guest', requires: [] },
  { name: 'Guest FS access rights', encoding: FIELD.GUEST_FS_ACCESS_RIGHTS, width: 32, type: 'guest', requires: [] },
  { name: 'Guest GS access rights', encoding: FIELD.GUEST_GS_ACCESS_RIGHTS, width: 32, type: 'guest', requires: [] },
  { name: 'Guest LDTR access rights', encoding: FIELD.GUEST_LDTR_ACCESS_RIGHTS, width: 32, type: 'guest', requires: [] },
  { name: 'Guest TR access rights', encoding: FIELD.GUEST_TR_ACCESS_RIGHTS, width: 32, type: 'guest', requires: [] },
  { name: 'Guest interruptibility state', encoding: FIELD.GUEST_INTERRUPTIBILITY_STATE, width: 32, type: 'guest', requires: [] },
  { name: 'Guest activity state', encoding: FIELD.GUEST_ACTIVITY_STATE, width: 32, type: 'guest', requires: [] },
  { name: 'Guest SMBASE', encoding: FIELD.GUEST_SMBASE, width: 32, type: 'guest', requires: [] },
  { name: 'Guest IA32_SYSENTER_CS', encoding: FIELD.GUEST_IA32_SYSENTER_CS, width: 32, type: 'guest', requires: [] },
  { name: 'VMX-preemption timer value', encoding: FIELD.VMX_PREEMPTION_TIMER_VALUE, width: 32, type: 'guest', requires: [REQUIRES.PIN_ACTIVATE_VMX_PREEMPTION_TIMER] },
  // 32-bit host fields
  { name: 'Host IA32_SYSENTER_CS', encoding: FIELD.HOST_IA32_SYSENTER_CS, width: 32, type: 'host', requires: [] },
];
