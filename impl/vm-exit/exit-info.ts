/**
 * Scratch record of the VM-exit information an exiting instruction defines besides the exit
 * reason (SDM Vol. 3C, December 2023, §28.2 "Recording VM-Exit Information and Updating VM-Entry
 * Control Fields"). The instruction fills it, then the machine's VM exit writes it into the VMCS;
 * one record per machine, cleared before each use, so an exit allocates nothing.
 */
export class ExitInfo {
  /** Which members below the exit defines (the EXIT_INFO_* bits); the others are left alone. */
  defined = 0;
  qualificationLo = 0;
  qualificationHi = 0;
  instructionLength = 0;
  instructionInformation = 0;
  linearLo = 0;
  linearHi = 0;
  interruptionInformation = 0;
  interruptionErrorCode = 0;

  /** Forgets the previous exit's information. */
  clear(): void {
    this.defined = 0;
    this.qualificationLo = 0;
    this.qualificationHi = 0;
    this.instructionLength = 0;
    this.instructionInformation = 0;
    this.linearLo = 0;
    this.linearHi = 0;
    this.interruptionInformation = 0;
    this.interruptionErrorCode = 0;
  }
}

/** {@link ExitInfo.defined} bits. */
export const EXIT_INFO_QUALIFICATION = 1;
export const EXIT_INFO_INSTRUCTION_LENGTH = 2;
export const EXIT_INFO_INSTRUCTION_INFORMATION = 4;
export const EXIT_INFO_LINEAR_ADDRESS = 8;
export const EXIT_INFO_INTERRUPTION = 16;
export const EXIT_INFO_INTERRUPTION_ERROR_CODE = 32;
/**
 * Not an exit-information field: the VM exit happens as part of a VM entry, before the guest's
 * first instruction (§27.7 "Special Features of VM Entry"), so it saves RFLAGS.RF as VM entry
 * loaded it ("the value RFLAGS.RF had before the VM exit occurred", §28.3.3 "Saving RIP, RSP,
 * RFLAGS, and SSP") instead of the 0 an instruction's VM exit saves.
 */
export const EXIT_INFO_BEFORE_INSTRUCTION = 64;
