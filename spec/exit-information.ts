/**
 * The VM-exit information a VM exit writes into the VMCS besides the exit reason (SDM Vol. 3C,
 * December 2023, §28.2 "Recording VM-Exit Information and Updating VM-Entry Control Fields";
 * the fields in §25.9 "VM-Exit Information Fields"). A member left `undefined` is one the SDM
 * leaves undefined for that exit (the engine may write anything there), not one that is cleared.
 */
export interface ExitInformation {
  /** Basic exit reason, bits 15:0 of the exit-reason field (Appendix C). */
  readonly reason: number;
  /** Exit qualification (§28.2.1 "Basic VM-Exit Information"; layouts in spec/exit-qualification.ts). */
  readonly qualification: bigint | undefined;
  /**
   * Bits of `qualification` the SDM leaves undefined for this exit (the engine may write anything
   * there), e.g. bits 63:32 of a displacement qualification with a 32-bit address size; 0 when
   * omitted.
   */
  readonly qualificationUndefinedMask?: bigint;
  /** VM-exit instruction length (§28.2.5 "Information for VM Exits Due to Instruction Execution"). */
  readonly instructionLength?: number;
  /** VM-exit instruction information (§28.2.5; formats in spec/instruction-information.ts). */
  readonly instructionInformation?: number;
  /**
   * Bits of `instructionInformation` the SDM leaves undefined for this instruction and operand
   * form (the `undefinedMask` of the spec/instruction-information.ts encoders); 0 when omitted.
   */
  readonly instructionInformationUndefinedMask?: number;
  /** Guest-linear address (§28.2.1), for the exits that define it. */
  readonly guestLinearAddress?: bigint;
  /** Guest-physical address (§28.2.1), for EPT violations and misconfigurations. */
  readonly guestPhysicalAddress?: bigint;
  /** VM-exit interruption information (§28.2.2 "Information for VM Exits Due to Vectored Events"; layout in spec/exit-interruption-information.ts); bit 31 = valid. */
  readonly interruptionInformation?: number;
  /** VM-exit interruption error code (§28.2.2), when bit 11 of the interruption information is 1. */
  readonly interruptionErrorCode?: number;
}
