/**
 * Exit qualifications and the VM-exit interruption information of the guest operations' VM
 * exits (SDM Vol. 3C, December 2023, §28.2.1 "Basic VM-Exit Information": Table 28-3 "Exit
 * Qualification for Control-Register Accesses", Table 28-4 "Exit Qualification for MOV DR",
 * Table 28-5 "Exit Qualification for I/O Instructions", Table 28-1 "Exit Qualification for
 * Debug Exceptions"; §28.2.2 "Information for VM Exits Due to Vectored Events", with the
 * interruption-information format of §25.9.2 of the same title).
 *
 * Kept here until spec/exit-qualification.ts (branch h-spec-exits) lands; then these become
 * calls of the spec encoders.
 */

/** Access type of a control-register access (Table 28-3, bits 5:4). */
export const CR_ACCESS_TYPE = { MOV_TO_CR: 0, MOV_FROM_CR: 1, CLTS: 2, LMSW: 3 } as const;

/** Exit qualification of a control-register access: CR number 3:0, access type 5:4, LMSW operand 6, register 11:8, LMSW data 31:16. */
export function controlRegisterQualification(parts: {
  cr: number;
  type: (typeof CR_ACCESS_TYPE)[keyof typeof CR_ACCESS_TYPE];
  gpr?: number;
  lmswMemory?: boolean;
  lmswData?: bigint;
}): bigint {
  return (
    BigInt(parts.cr & 0xf) |
    (BigInt(parts.type) << 4n) |
    ((parts.lmswMemory === true ? 1n : 0n) << 6n) |
    (BigInt((parts.gpr ?? 0) & 0xf) << 8n) |
    ((parts.lmswData ?? 0n) & 0xffffn) << 16n
  );
}

/** Exit qualification of MOV DR: DR number 2:0, direction 4 (1 = MOV from DR), register 11:8. */
export function movDrQualification(dr: number, direction: 'to' | 'from', gpr: number): bigint {
  return BigInt(dr & 7) | ((direction === 'from' ? 1n : 0n) << 4n) | (BigInt(gpr & 0xf) << 8n);
}

/**
 * Exit qualification of an I/O instruction: size - 1 in 2:0, direction 3 (1 = IN), string 4,
 * REP 5, operand encoding 6 (1 = immediate), port 31:16.
 */
export function ioQualification(io: { direction: 'in' | 'out'; size: 1 | 2 | 4; string?: boolean; rep?: boolean; immediate?: boolean; port: number }): bigint {
  return (
    BigInt(io.size - 1) |
    ((io.direction === 'in' ? 1n : 0n) << 3n) |
    ((io.string === true ? 1n : 0n) << 4n) |
    ((io.rep === true ? 1n : 0n) << 5n) |
    ((io.immediate === true ? 1n : 0n) << 6n) |
    (BigInt(io.port & 0xffff) << 16n)
  );
}

/** Bit 13 of the exit qualification for a debug exception: BD, debug-register access detected. */
export const DEBUG_QUALIFICATION_BD = 1n << 13n;

/** Interruption type of a hardware exception (bits 10:8 of the interruption information). */
export const HARDWARE_EXCEPTION_TYPE = 3;

/** VM-exit interruption information of a hardware exception: vector 7:0, type 10:8, error code valid 11, valid 31. */
export function exceptionInterruptionInformation(vector: number, errorCodeValid: boolean): number {
  return (vector | (HARDWARE_EXCEPTION_TYPE << 8) | (errorCodeValid ? 1 << 11 : 0) | 0x8000_0000) >>> 0;
}
