/**
 * VM-instruction error numbers: what VMfailValid writes to the VM-instruction error field (4400H)
 * of the current VMCS. Numbers 14, 21 and 27 are not used.
 *
 * Checks of VM-entry control fields (7) and host-state fields (8) may be made in any order, so a
 * VMCS with both kinds of problem may give either number; different processors may differ.
 *
 * Source: SDM Vol. 3C, December 2023, §31.4 "VM Instruction Error Numbers" (Table 31-1
 * "VM-Instruction Error Numbers"); meanings paraphrased.
 */
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';

/** Where the error numbers are defined. */
export const VM_ERRORS_CITATION: Citation = sdm('31.4', 'VM Instruction Error Numbers');

/** Every VM-instruction error number, by name. */
export const VM_ERROR = {
  VMCALL_IN_VMX_ROOT: 1,
  VMCLEAR_INVALID_ADDRESS: 2,
  VMCLEAR_VMXON_POINTER: 3,
  VMLAUNCH_NON_CLEAR: 4,
  VMRESUME_NON_LAUNCHED: 5,
  VMRESUME_AFTER_VMXOFF: 6,
  ENTRY_INVALID_CONTROLS: 7,
  ENTRY_INVALID_HOST_STATE: 8,
  VMPTRLD_INVALID_ADDRESS: 9,
  VMPTRLD_VMXON_POINTER: 10,
  VMPTRLD_INCORRECT_REVISION: 11,
  UNSUPPORTED_FIELD: 12,
  READ_ONLY_FIELD: 13,
  VMXON_IN_VMX_ROOT: 15,
  ENTRY_INVALID_EXECUTIVE_VMCS_POINTER: 16,
  ENTRY_NON_LAUNCHED_EXECUTIVE_VMCS: 17,
  ENTRY_EXECUTIVE_VMCS_NOT_VMXON_POINTER: 18,
  VMCALL_NON_CLEAR_VMCS: 19,
  VMCALL_INVALID_EXIT_CONTROLS: 20,
  VMCALL_INCORRECT_MSEG_REVISION: 22,
  VMXOFF_UNDER_DUAL_MONITOR: 23,
  VMCALL_INVALID_SMM_MONITOR_FEATURES: 24,
  ENTRY_INVALID_EXECUTIVE_CONTROLS: 25,
  ENTRY_MOV_SS_BLOCKING: 26,
  INVALID_INVEPT_INVVPID_OPERAND: 28,
} as const;

/** Name of one VM-instruction error in {@link VM_ERROR}. */
export type VmErrorName = keyof typeof VM_ERROR;

/** One VM-instruction error number with its meaning. */
export interface VmErrorInfo {
  number: number;
  name: VmErrorName;
  /** What the number means, in our words. */
  meaning: string;
}

/** Every VM-instruction error number in use, in numeric order. */
export const VM_ERRORS: readonly VmErrorInfo[] = [
  { number: 1, name: 'VMCALL_IN_VMX_ROOT', meaning: 'VMCALL executed in VMX root operation' },
  { number: 2, name: 'VMCLEAR_INVALID_ADDRESS', meaning: 'VMCLEAR with an invalid physical address' },
  { number: 3, name: 'VMCLEAR_VMXON_POINTER', meaning: 'VMCLEAR with the VMXON pointer' },
  { number: 4, name: 'VMLAUNCH_NON_CLEAR', meaning: 'VMLAUNCH with a VMCS whose launch state is not clear' },
  { number: 5, name: 'VMRESUME_NON_LAUNCHED', meaning: 'VMRESUME with a VMCS whose launch state is not launched' },
  {
    number: 6,
    name: 'VMRESUME_AFTER_VMXOFF',
    meaning: 'VMRESUME after VMXOFF (VMXOFF and VMXON between VMLAUNCH and VMRESUME); once called "corrupted VMCS"',
  },
  { number: 7, name: 'ENTRY_INVALID_CONTROLS', meaning: 'VM entry with invalid control field(s)' },
  { number: 8, name: 'ENTRY_INVALID_HOST_STATE', meaning: 'VM entry with invalid host-state field(s)' },
  { number: 9, name: 'VMPTRLD_INVALID_ADDRESS', meaning: 'VMPTRLD with an invalid physical address' },
  { number: 10, name: 'VMPTRLD_VMXON_POINTER', meaning: 'VMPTRLD with the VMXON pointer' },
  { number: 11, name: 'VMPTRLD_INCORRECT_REVISION', meaning: 'VMPTRLD with an incorrect VMCS revision identifier' },
  { number: 12, name: 'UNSUPPORTED_FIELD', meaning: 'VMREAD or VMWRITE of an unsupported VMCS component' },
  { number: 13, name: 'READ_ONLY_FIELD', meaning: 'VMWRITE to a read-only VMCS component' },
  { number: 15, name: 'VMXON_IN_VMX_ROOT', meaning: 'VMXON executed in VMX root operation' },
  { number: 16, name: 'ENTRY_INVALID_EXECUTIVE_VMCS_POINTER', meaning: 'VM entry with an invalid executive-VMCS pointer' },
  { number: 17, name: 'ENTRY_NON_LAUNCHED_EXECUTIVE_VMCS', meaning: 'VM entry with a non-launched executive VMCS' },
  {
    number: 18,
    name: 'ENTRY_EXECUTIVE_VMCS_NOT_VMXON_POINTER',
    meaning: 'VM entry with an executive-VMCS pointer that is not the VMXON pointer, deactivating the dual-monitor treatment',
  },
  {
    number: 19,
    name: 'VMCALL_NON_CLEAR_VMCS',
    meaning: 'VMCALL with a non-clear VMCS, activating the dual-monitor treatment of SMIs and SMM',
  },
  { number: 20, name: 'VMCALL_INVALID_EXIT_CONTROLS', meaning: 'VMCALL with invalid VM-exit control fields' },
  {
    number: 22,
    name: 'VMCALL_INCORRECT_MSEG_REVISION',
    meaning: 'VMCALL with an incorrect MSEG revision identifier, activating the dual-monitor treatment',
  },
  { number: 23, name: 'VMXOFF_UNDER_DUAL_MONITOR', meaning: 'VMXOFF under the dual-monitor treatment of SMIs and SMM' },
  {
    number: 24,
    name: 'VMCALL_INVALID_SMM_MONITOR_FEATURES',
    meaning: 'VMCALL with invalid SMM-monitor features, activating the dual-monitor treatment',
  },
  {
    number: 25,
    name: 'ENTRY_INVALID_EXECUTIVE_CONTROLS',
    meaning: 'VM entry returning from SMM with invalid VM-execution control fields in the executive VMCS (used instead of 7)',
  },
  { number: 26, name: 'ENTRY_MOV_SS_BLOCKING', meaning: 'VM entry with events blocked by MOV SS' },
  { number: 28, name: 'INVALID_INVEPT_INVVPID_OPERAND', meaning: 'Invalid operand to INVEPT or INVVPID' },
];

/** The meaning of VM-instruction error `number`, or `undefined` for a number not in use. */
export function vmErrorInfo(number: number): VmErrorInfo | undefined {
  return VM_ERRORS.find((error) => error.number === number);
}
