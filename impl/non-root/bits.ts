/**
 * Bit positions the guest operations use, as int32 masks and shifts: CR4 flags spec/ does not name
 * (spec/control-registers.ts lists only those the VMX checks read), the debug-register layout, and
 * the exit-qualification and instruction-information layouts of spec/exit-qualification.ts and
 * spec/instruction-information.ts. Each is from the SDM, December 2023, cited per group.
 */
import {
  CR_ACCESS_QUALIFICATION,
  CR_ACCESS_TYPE,
  DEBUG_QUALIFICATION,
  IO_DIRECTION,
  IO_QUALIFICATION,
  MOV_DR_DIRECTION,
  MOV_DR_QUALIFICATION,
} from '../../spec/exit-qualification.ts';
import { CR0_BIT, CR4_BIT } from '../../spec/control-registers.ts';
import { INSTRUCTION_INFO } from '../../spec/instruction-information.ts';

/** CR4 flags (Vol. 3A §2.5 "Control Registers"). */
export const CR4_TSD = 1 << 2;
export const CR4_DE = 1 << 3;
export const CR4_PCE = 1 << 8;
export const CR4_OSXSAVE = 1 << 18;
/** User-Mode Instruction Prevention: SGDT, SIDT, SLDT, SMSW and STR fault at CPL > 0. */
export const CR4_UMIP = 1 << 11;
export const CR4_SMXE = 1 << CR4_BIT.SMXE;
export const CR4_PCIDE = 1 << CR4_BIT.PCIDE;
/** CR0 flags the format-5 instructions read. */
export const CR0_PE = 1 << CR0_BIT.PE;
export const CR0_TS = 1 << CR0_BIT.TS;

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
/** DR6.BD, and the same bit of a debug-exception exit qualification (Vol. 3C §28.2.1). */
export const DEBUG_BD = 1 << DEBUG_QUALIFICATION.BD.lsb;
/** Reset values: DR6 = FFFF0FF0H, DR7 = 400H (Vol. 3A §10.1.1 "Processor State After Reset"). */
export const DR6_RESET = 0xffff_0ff0 | 0;
export const DR7_RESET = 0x400;

// Exit-qualification and instruction-information layouts, from spec/ (§28.2.1, §28.2.5) as int32 shifts and masks.

/** Control-register accesses: access types, LMSW operand type, register and LMSW data positions. */
export const CR_ACCESS_MOV_TO = CR_ACCESS_TYPE.MOV_TO_CR;
export const CR_ACCESS_MOV_FROM = CR_ACCESS_TYPE.MOV_FROM_CR;
export const CR_ACCESS_CLTS = CR_ACCESS_TYPE.CLTS;
export const CR_ACCESS_LMSW = CR_ACCESS_TYPE.LMSW;
export const CR_ACCESS_TYPE_SHIFT = CR_ACCESS_QUALIFICATION.ACCESS_TYPE.lsb;
export const CR_LMSW_MEMORY = 1 << CR_ACCESS_QUALIFICATION.LMSW_OPERAND_TYPE.lsb;
export const CR_GPR_SHIFT = CR_ACCESS_QUALIFICATION.GPR.lsb;
export const CR_LMSW_DATA_SHIFT = CR_ACCESS_QUALIFICATION.LMSW_SOURCE_DATA.lsb;

/** MOV DR: direction bit (set: MOV from DR) and register position. */
export const DR_DIRECTION_FROM = MOV_DR_DIRECTION.FROM_DR << MOV_DR_QUALIFICATION.DIRECTION.lsb;
export const DR_GPR_SHIFT = MOV_DR_QUALIFICATION.GPR.lsb;

/** I/O instructions: direction (IN), string, REP, immediate bits and the port position. */
export const IO_IN = IO_DIRECTION.IN << IO_QUALIFICATION.DIRECTION.lsb;
export const IO_STRING = 1 << IO_QUALIFICATION.STRING.lsb;
export const IO_REP = 1 << IO_QUALIFICATION.REP.lsb;
export const IO_IMMEDIATE = 1 << IO_QUALIFICATION.IMMEDIATE.lsb;
export const IO_PORT_SHIFT = IO_QUALIFICATION.PORT.lsb;

/** VM-exit instruction information of INS/OUTS: address-size and segment positions. */
export const INFO_ADDRESS_SIZE_SHIFT = INSTRUCTION_INFO.ADDRESS_SIZE.lsb;
export const INFO_SEGMENT_SHIFT = INSTRUCTION_INFO.SEGMENT.lsb;
