/**
 * Bit positions the guest operations test that spec/ does not name (yet): CR4 flags outside
 * spec/control-registers.ts, the debug-register layout, and the exit-qualification layouts the
 * guest operations write. Each is from the SDM, December 2023, cited per group.
 */

/** CR4 flags (Vol. 3A §2.5 "Control Registers"). */
export const CR4_TSD = 1 << 2;
export const CR4_DE = 1 << 3;
export const CR4_PCE = 1 << 8;
export const CR4_OSXSAVE = 1 << 18;

/**
 * DR6 and DR7 (Vol. 3A §18.2 "Debug Registers"): the bits software can write, and the bits that
 * always read as 1. DR6: B0-B3 (3:0), BD (13), BS (14), BT (15), RTM (16) writable; 11:4 and
 * 31:17 read as 1, 12 as 0. DR7: L0-G3, LE, GE (9:0), RTM (11), GD (13), R/W and LEN (31:16)
 * writable; bit 10 reads as 1, 12, 14 and 15 as 0. Bits 63:32 of both must be 0 (64-bit mode).
 */
export const DR6_WRITABLE = 0x0001_e00f;
export const DR6_ONES = 0xfffe_0ff0 | 0;
export const DR7_WRITABLE = 0xffff_2bff | 0;
export const DR7_ONES = 0x400;
/** DR7.GD: general detect (MOV DR raises #DB). */
export const DR7_GD = 1 << 13;
/** DR6.BD, and the same bit of a debug-exception exit qualification (Vol. 3C §28.2.1, Table 28-1). */
export const DEBUG_BD = 1 << 13;
/** Reset values: DR6 = FFFF0FF0H, DR7 = 400H (Vol. 3A §10.1.1 "Processor State After Reset"). */
export const DR6_RESET = 0xffff_0ff0 | 0;
export const DR7_RESET = 0x400;

/**
 * Exit qualification for control-register accesses (Vol. 3C §28.2.1, Table 28-3): CR number in
 * 3:0, access type in 5:4, LMSW operand type in bit 6, the general-purpose register in 11:8, the
 * LMSW source data in 31:16.
 */
export const CR_ACCESS_MOV_TO = 0;
export const CR_ACCESS_MOV_FROM = 1;
export const CR_ACCESS_CLTS = 2;
export const CR_ACCESS_LMSW = 3;
export const CR_ACCESS_TYPE_SHIFT = 4;
export const CR_LMSW_MEMORY = 1 << 6;
export const CR_GPR_SHIFT = 8;
export const CR_LMSW_DATA_SHIFT = 16;

/** Exit qualification for MOV DR (Table 28-4): DR number in 2:0, direction in bit 4 (1 = from DR), register in 11:8. */
export const DR_DIRECTION_FROM = 1 << 4;
export const DR_GPR_SHIFT = 8;

/**
 * Exit qualification for I/O instructions (Table 28-5): size - 1 in 2:0, direction in bit 3
 * (1 = IN), string in bit 4, REP in bit 5, operand encoding in bit 6 (1 = immediate), port in 31:16.
 */
export const IO_IN = 1 << 3;
export const IO_STRING = 1 << 4;
export const IO_REP = 1 << 5;
export const IO_IMMEDIATE = 1 << 6;
export const IO_PORT_SHIFT = 16;

/**
 * VM-exit instruction information for INS and OUTS (§28.2.5, Table 28-8): address size in 9:7
 * (0 16-bit, 1 32-bit, 2 64-bit), segment register in 17:15.
 */
export const INFO_ADDRESS_SIZE_SHIFT = 7;
export const INFO_SEGMENT_SHIFT = 15;
