/**
 * Recording the VM-exit information and updating the VM-entry control fields (SDM Vol. 3C,
 * December 2023, §28.2 "Recording VM-Exit Information and Updating VM-Entry Control Fields"),
 * from the {@link ExitInfo} record the exiting instruction filled:
 *
 * - exit reason: the basic exit reason in bits 15:0, every other bit 0 (§28.2.1 "Basic VM-Exit
 *   Information"; no exit here is from SMM, to an enclave, or with a pending MTF VM exit);
 * - exit qualification: the record's when it defines one, otherwise cleared ("for all other VM
 *   exits, this field is cleared", §28.2.1);
 * - guest-linear address, VM-exit instruction length and VM-exit instruction information: the
 *   record's when it defines them; the SDM leaves them undefined otherwise, and impl/ then leaves
 *   the fields as they were (§28.2.1, §28.2.5 "Information for VM Exits Due to Instruction
 *   Execution");
 * - VM-exit interruption information: the record's when it defines it; otherwise bit 31 (valid)
 *   is cleared and impl/ writes 0 (the rest is undefined); the interruption error code only when
 *   the record defines it (§28.2.2 "Information for VM Exits Due to Vectored Events");
 * - IDT-vectoring information: no VM exit here occurs during event delivery, so bit 31 is cleared
 *   (impl/ writes 0; the rest is undefined) (§28.2.4 "Information for VM Exits During Event
 *   Delivery");
 * - the valid bit (31) of the VM-entry interruption-information field is cleared (the "Updating
 *   VM-Entry Control Fields" part of §28.2, and §25.8.3 "VM-Entry Controls for Event Injection":
 *   "VM exits clear the valid bit").
 */
import type { ExitFacts } from './exit-facts.ts';
import { assertLiterals } from '../literals.ts';
import {
  EXIT_INFO_INSTRUCTION_INFORMATION,
  EXIT_INFO_INSTRUCTION_LENGTH,
  EXIT_INFO_INTERRUPTION,
  EXIT_INFO_INTERRUPTION_ERROR_CODE,
  EXIT_INFO_LINEAR_ADDRESS,
  EXIT_INFO_QUALIFICATION,
  type ExitInfo,
} from './exit-info.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  /** Bit 31 of the interruption-information fields: valid. */
  VALID = -0x80000000,
  /** ExitInfo.defined bits (impl/vm-exit/exit-info.ts). */
  QUALIFICATION = 1,
  INSTRUCTION_LENGTH = 2,
  INSTRUCTION_INFORMATION = 4,
  LINEAR_ADDRESS = 8,
  INTERRUPTION = 16,
  INTERRUPTION_ERROR_CODE = 32,
}

/** Writes the exit information of a VM exit with basic reason `reason` into the VMCS at `base`. */
export function recordExitInformation(x: ExitFacts, v: Int32Array, base: number, reason: number, info: ExitInfo): void {
  const w = x.words;
  const defined = info.defined;
  v[base + w.EXIT_REASON] = reason & 0xffff;
  const qualification = w.EXIT_QUALIFICATION;
  if ((defined & K.QUALIFICATION) !== 0) {
    v[base + qualification] = info.qualificationLo;
    v[base + qualification + 1] = info.qualificationHi;
  } else {
    v[base + qualification] = 0;
    v[base + qualification + 1] = 0;
  }
  if ((defined & K.LINEAR_ADDRESS) !== 0) {
    v[base + w.GUEST_LINEAR_ADDRESS] = info.linearLo;
    v[base + w.GUEST_LINEAR_ADDRESS + 1] = info.linearHi;
  }
  if ((defined & K.INSTRUCTION_LENGTH) !== 0) v[base + w.VM_EXIT_INSTRUCTION_LENGTH] = info.instructionLength;
  if ((defined & K.INSTRUCTION_INFORMATION) !== 0) v[base + w.VM_EXIT_INSTRUCTION_INFORMATION] = info.instructionInformation;
  v[base + w.VM_EXIT_INTERRUPTION_INFORMATION] = (defined & K.INTERRUPTION) !== 0 ? info.interruptionInformation : 0;
  if ((defined & K.INTERRUPTION_ERROR_CODE) !== 0) v[base + w.VM_EXIT_INTERRUPTION_ERROR_CODE] = info.interruptionErrorCode;
  v[base + w.IDT_VECTORING_INFORMATION] = 0;
  v[base + w.VM_ENTRY_INTERRUPTION_INFORMATION] = (v[base + w.VM_ENTRY_INTERRUPTION_INFORMATION] as number) & ~K.VALID;
}

/** Writes a VM-entry failure's exit reason (bit 31 set) and qualification; no other field (§27.8). */
export function recordEntryFailure(x: ExitFacts, v: Int32Array, base: number, reason: number, qualification: number): void {
  const w = x.words;
  v[base + w.EXIT_REASON] = reason;
  v[base + w.EXIT_QUALIFICATION] = qualification;
  v[base + w.EXIT_QUALIFICATION + 1] = 0;
}

// The literals of K are the values of the expressions they replace.
assertLiterals('impl/vm-exit/record.ts', [
  [K.QUALIFICATION, EXIT_INFO_QUALIFICATION],
  [K.INSTRUCTION_LENGTH, EXIT_INFO_INSTRUCTION_LENGTH],
  [K.INSTRUCTION_INFORMATION, EXIT_INFO_INSTRUCTION_INFORMATION],
  [K.LINEAR_ADDRESS, EXIT_INFO_LINEAR_ADDRESS],
  [K.INTERRUPTION, EXIT_INFO_INTERRUPTION],
  [K.INTERRUPTION_ERROR_CODE, EXIT_INFO_INTERRUPTION_ERROR_CODE],
]);
