/**
 * Recording VM-exit information and updating VM-entry control fields (SDM Vol. 3C, December 2023,
 * §28.2 "Recording VM-Exit Information and Updating VM-Entry Control Fields"), for the VM exits
 * the model produces: instruction exits and exceptions in VMX non-root operation. The exiting
 * instruction or event says what it defines (`ExitInformation`, spec/exit-information.ts); a
 * member it leaves `undefined` is a field the SDM leaves undefined for that exit, which becomes
 * unknown in the model (VMREAD of it matches any value), never "unchanged".
 *
 * - §28.2.1 "Basic VM-Exit Information": the exit reason has the basic exit reason in bits 15:0
 *   and 0 in bits 31:16 — bit 31 (VM-entry failure) is clear for a VM exit; bits 28 (pending MTF
 *   VM exit after an SMM VM exit) and 29 (VM exit from VMX root operation) belong to SMM VM
 *   exits, bit 27 to exits from enclave mode and bit 26 to bus-lock detection, none of which the
 *   model has. The exit qualification, guest-linear address and guest-physical address as given
 *   (with the qualification bits the exit names undefined left open).
 * - §28.2.2 "Information for VM Exits Due to Vectored Events": the VM-exit interruption
 *   information and error code as given; for other exits the field is marked invalid (bit 31
 *   clear) and its other bits are undefined, and so is the error code.
 * - §28.2.3 "Information for VM Exits During Event Delivery": no exit of the model occurs during
 *   event delivery (an injected event stops the model: vm-entry/load-guest.ts), so bit 31 of the
 *   IDT-vectoring information is cleared, its other bits and the IDT-vectoring error code are
 *   undefined.
 * - §28.2.4 "Information for VM Exits Due to Instruction Execution": the VM-exit instruction
 *   length and instruction information as given (its undefined bits, as the instruction names
 *   them, left open). The I/O RCX, RSI, RDI and RIP fields are
 *   undefined except for SMM VM exits after I/O instructions (§25.9.1).
 * - Updating VM-entry control fields: bit 31 (valid) of the VM-entry interruption-information
 *   field is cleared, its other bits unchanged (unknown if they were).
 */
import type { ExitInformation } from '../../spec/exit-information.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { VmcsContent } from '../state.ts';
import { knownFieldValue } from '../vmcs-fields.ts';
import { FIELD } from '../../spec/fields.ts';
import { forget, put } from './write.ts';

/** Bit 31 of an interruption-information field: valid. */
const VALID = 1n << 31n;
/** Bit 11 of the VM-exit interruption information: an error code was recorded. */
const ERROR_CODE_VALID = 1n << 11n;
/** Bits 30:0 of an interruption-information field: undefined when bit 31 is clear. */
const BELOW_VALID = VALID - 1n;

/** The undefined fields of every exit the model produces. */
const ALWAYS_UNDEFINED: readonly FieldName[] = ['IDT_VECTORING_ERROR_CODE', 'IO_RCX', 'IO_RSI', 'IO_RDI', 'IO_RIP'];

/** `content` with the VM-exit information of `info` recorded (see the file comment). */
export function recordExitInformation(content: VmcsContent, info: ExitInformation): VmcsContent {
  let next = put(content, 'EXIT_REASON', BigInt(info.reason & 0xffff));
  next = put(next, 'EXIT_QUALIFICATION', info.qualification, info.qualificationUndefinedMask ?? 0n);
  next = put(next, 'GUEST_LINEAR_ADDRESS', info.guestLinearAddress);
  next = put(next, 'GUEST_PHYSICAL_ADDRESS', info.guestPhysicalAddress);
  next = recordInterruption(next, info);
  next = put(next, 'IDT_VECTORING_INFORMATION', 0n, BELOW_VALID);
  next = put(next, 'VM_EXIT_INSTRUCTION_LENGTH', info.instructionLength === undefined ? undefined : BigInt(info.instructionLength));
  const informationOpen = BigInt((info.instructionInformationUndefinedMask ?? 0) >>> 0);
  next = put(next, 'VM_EXIT_INSTRUCTION_INFORMATION', info.instructionInformation === undefined ? undefined : BigInt(info.instructionInformation >>> 0), informationOpen);
  next = forget(next, ALWAYS_UNDEFINED);
  return clearEntryInterruptionValid(next);
}

/** §28.2.2: the interruption information and error code of a vectored event, or an invalid field. */
function recordInterruption(content: VmcsContent, info: ExitInformation): VmcsContent {
  const information = info.interruptionInformation === undefined ? undefined : BigInt(info.interruptionInformation >>> 0);
  if (information === undefined || (information & VALID) === 0n) {
    return put(put(content, 'VM_EXIT_INTERRUPTION_INFORMATION', 0n, BELOW_VALID), 'VM_EXIT_INTERRUPTION_ERROR_CODE', undefined);
  }
  const withInformation = put(content, 'VM_EXIT_INTERRUPTION_INFORMATION', information);
  const errorCode = (information & ERROR_CODE_VALID) !== 0n && info.interruptionErrorCode !== undefined ? BigInt(info.interruptionErrorCode >>> 0) : undefined;
  return put(withInformation, 'VM_EXIT_INTERRUPTION_ERROR_CODE', errorCode);
}

/** Updating VM-entry control fields: bit 31 of the VM-entry interruption information cleared. */
function clearEntryInterruptionValid(content: VmcsContent): VmcsContent {
  const information = knownFieldValue(content, FIELD.VM_ENTRY_INTERRUPTION_INFORMATION);
  if (information === undefined) return put(content, 'VM_ENTRY_INTERRUPTION_INFORMATION', 0n, BELOW_VALID);
  const open = content.fields.get(FIELD.VM_ENTRY_INTERRUPTION_INFORMATION)?.unknownBits ?? 0n;
  return put(content, 'VM_ENTRY_INTERRUPTION_INFORMATION', information & ~VALID, open & ~VALID);
}
