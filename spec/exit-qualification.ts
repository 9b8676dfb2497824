/**
 * The exit qualification (VMCS field 6400H): its layout for each VM exit that saves one, small
 * encoders from named parts and decoders back, and which exits save it at all (the others clear
 * it).
 *
 * Source: SDM Vol. 3C, December 2023, §28.2.1 "Basic VM-Exit Information" and its tables
 * "Exit Qualification for Debug Exceptions", "Exit Qualification for Task Switches", "Exit
 * Qualification for Control-Register Accesses", "Exit Qualification for MOV DR", "Exit
 * Qualification for I/O Instructions", "Exit Qualification for APIC-Access VM Exits from Linear
 * Accesses and Guest-Physical Accesses", "Exit Qualification for EPT Violations". Read in the 2016
 * text (chapter 27 there, same tables and bit positions) and the 2008 text (chapter 23), which
 * agree on every layout below; tables are cited by title because their numbers moved.
 */
import { bit, bits, getField, isSet, placeField } from './bit-fields.ts';
import type { BitField } from './bit-fields.ts';
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';
import { EXIT_REASON } from './exit-reasons.ts';

/** Where the exit qualification's contents are defined. */
export const EXIT_QUALIFICATION_CITATION: Citation = sdm('28.2.1', 'Basic VM-Exit Information');

/** Debug exceptions (#DB causing a VM exit through the exception bitmap). */
export const DEBUG_QUALIFICATION = {
  /** Bits 3:0, B3-B0: breakpoint condition n was met (even if not enabled in DR7). */
  BREAKPOINTS: bits(3, 0),
  /** Bit 13, BD: debug-register access detected. */
  BD: bit(13),
  /** Bit 14, BS: single step (or taken branch with DEBUGCTL.BTF). */
  BS: bit(14),
  /**
   * Bit 16, RTM: the #DB or #BP occurred inside an RTM region with advanced RTM debugging
   * enabled (2016 and later editions; absent from the 2008 text, where bits 63:15 are reserved).
   */
  RTM: bit(16),
} as const satisfies Record<string, BitField>;

/** Task switches: the target TSS selector and what initiated the switch. */
export const TASK_SWITCH_QUALIFICATION = {
  /** Bits 15:0: selector of the TSS the guest attempted to switch to. */
  SELECTOR: bits(15, 0),
  /** Bits 31:30: source of the task switch ({@link TASK_SWITCH_SOURCE}). */
  SOURCE: bits(31, 30),
} as const satisfies Record<string, BitField>;

/** Values of {@link TASK_SWITCH_QUALIFICATION}.SOURCE. */
export const TASK_SWITCH_SOURCE = { CALL: 0, IRET: 1, JMP: 2, IDT_TASK_GATE: 3 } as const;

/** Control-register accesses (exit reason 28): MOV to/from CR, CLTS and LMSW. */
export const CR_ACCESS_QUALIFICATION = {
  /** Bits 3:0: number of the control register (0 for CLTS and LMSW). */
  CR_NUMBER: bits(3, 0),
  /** Bits 5:4: access type ({@link CR_ACCESS_TYPE}). */
  ACCESS_TYPE: bits(5, 4),
  /** Bit 6: LMSW operand type, 0 register, 1 memory (0 for CLTS and MOV CR). */
  LMSW_OPERAND_TYPE: bit(6),
  /** Bits 11:8: the general-purpose register of MOV CR (0 for CLTS and LMSW). */
  GPR: bits(11, 8),
  /** Bits 31:16: the LMSW source data (0 for CLTS and MOV CR). */
  LMSW_SOURCE_DATA: bits(31, 16),
} as const satisfies Record<string, BitField>;

/** Values of {@link CR_ACCESS_QUALIFICATION}.ACCESS_TYPE. */
export const CR_ACCESS_TYPE = { MOV_TO_CR: 0, MOV_FROM_CR: 1, CLTS: 2, LMSW: 3 } as const;

/** The named parts of a control-register-access qualification. */
export interface CrAccessParts {
  accessType: (typeof CR_ACCESS_TYPE)[keyof typeof CR_ACCESS_TYPE];
  /** Control register (MOV CR only; CLTS and LMSW report 0). */
  cr?: number;
  /** General-purpose register (MOV CR only). */
  gpr?: number;
  /** LMSW with a memory operand (LMSW only). */
  lmswMemory?: boolean;
  /** The 16-bit LMSW source operand (LMSW only). */
  lmswSourceData?: number;
}

/**
 * The qualification of a control-register access. Parts the access type does not use are
 * cleared, as the table says; CLTS and LMSW report CR number 0 (they access CR0).
 */
export function crAccessQualification(parts: CrAccessParts): bigint {
  const isMov = parts.accessType === CR_ACCESS_TYPE.MOV_TO_CR || parts.accessType === CR_ACCESS_TYPE.MOV_FROM_CR;
  const isLmsw = parts.accessType === CR_ACCESS_TYPE.LMSW;
  return (
    placeField(CR_ACCESS_QUALIFICATION.CR_NUMBER, isMov ? (parts.cr ?? 0) : 0, 'control register') |
    placeField(CR_ACCESS_QUALIFICATION.ACCESS_TYPE, parts.accessType, 'access type') |
    placeField(CR_ACCESS_QUALIFICATION.LMSW_OPERAND_TYPE, isLmsw && parts.lmswMemory === true ? 1 : 0, 'LMSW operand type') |
    placeField(CR_ACCESS_QUALIFICATION.GPR, isMov ? (parts.gpr ?? 0) : 0, 'register') |
    placeField(CR_ACCESS_QUALIFICATION.LMSW_SOURCE_DATA, isLmsw ? (parts.lmswSourceData ?? 0) : 0, 'LMSW source data')
  );
}

/** The named parts of a control-register-access qualification. */
export function decodeCrAccessQualification(qualification: bigint): Required<CrAccessParts> {
  return {
    accessType: getField(qualification, CR_ACCESS_QUALIFICATION.ACCESS_TYPE) as CrAccessParts['accessType'],
    cr: getField(qualification, CR_ACCESS_QUALIFICATION.CR_NUMBER),
    gpr: getField(qualification, CR_ACCESS_QUALIFICATION.GPR),
    lmswMemory: isSet(qualification, CR_ACCESS_QUALIFICATION.LMSW_OPERAND_TYPE),
    lmswSourceData: getField(qualification, CR_ACCESS_QUALIFICATION.LMSW_SOURCE_DATA),
  };
}

/** MOV DR (exit reason 29). */
export const MOV_DR_QUALIFICATION = {
  /** Bits 2:0: number of the debug register. */
  DR_NUMBER: bits(2, 0),
  /** Bit 4: direction, 0 MOV to DR, 1 MOV from DR. */
  DIRECTION: bit(4),
  /** Bits 11:8: the general-purpose register. */
  GPR: bits(11, 8),
} as const satisfies Record<string, BitField>;

/** Values of {@link MOV_DR_QUALIFICATION}.DIRECTION. */
export const MOV_DR_DIRECTION = { TO_DR: 0, FROM_DR: 1 } as const;

/** The qualification of MOV to (`direction` 'to') or from debug register `dr` through `gpr`. */
export function movDrQualification(direction: 'to' | 'from', dr: number, gpr: number): bigint {
  return (
    placeField(MOV_DR_QUALIFICATION.DR_NUMBER, dr, 'debug register') |
    placeField(MOV_DR_QUALIFICATION.DIRECTION, direction === 'to' ? MOV_DR_DIRECTION.TO_DR : MOV_DR_DIRECTION.FROM_DR, 'direction') |
    placeField(MOV_DR_QUALIFICATION.GPR, gpr, 'register')
  );
}

/** I/O instructions (exit reason 30): IN, INS, OUT, OUTS. */
export const IO_QUALIFICATION = {
  /** Bits 2:0: size of access ({@link IO_ACCESS_SIZE}). */
  SIZE: bits(2, 0),
  /** Bit 3: direction, 0 OUT, 1 IN. */
  DIRECTION: bit(3),
  /** Bit 4: string instruction (INS/OUTS). */
  STRING: bit(4),
  /** Bit 5: REP prefixed. */
  REP: bit(5),
  /** Bit 6: operand encoding, 0 DX, 1 immediate. */
  IMMEDIATE: bit(6),
  /** Bits 31:16: the port number. */
  PORT: bits(31, 16),
} as const satisfies Record<string, BitField>;

/** Encodings of the access size in bits 2:0, by size in bytes (2 is not used). */
export const IO_ACCESS_SIZE = { 1: 0, 2: 1, 4: 3 } as const;

/** Values of {@link IO_QUALIFICATION}.DIRECTION. */
export const IO_DIRECTION = { OUT: 0, IN: 1 } as const;

/** The named parts of an I/O-instruction qualification. */
export interface IoParts {
  direction: 'in' | 'out';
  port: number;
  size: 1 | 2 | 4;
  string?: boolean;
  rep?: boolean;
  immediate?: boolean;
}

/** The qualification of an I/O instruction. */
export function ioQualification(parts: IoParts): bigint {
  const size = IO_ACCESS_SIZE[parts.size] as number | undefined;
  if (size === undefined) throw new Error(`I/O access size ${String(parts.size)} is not 1, 2 or 4`);
  return (
    placeField(IO_QUALIFICATION.SIZE, size, 'access size') |
    placeField(IO_QUALIFICATION.DIRECTION, parts.direction === 'in' ? IO_DIRECTION.IN : IO_DIRECTION.OUT, 'direction') |
    placeField(IO_QUALIFICATION.STRING, parts.string === true ? 1 : 0, 'string') |
    placeField(IO_QUALIFICATION.REP, parts.rep === true ? 1 : 0, 'REP') |
    placeField(IO_QUALIFICATION.IMMEDIATE, parts.immediate === true ? 1 : 0, 'operand encoding') |
    placeField(IO_QUALIFICATION.PORT, parts.port, 'port')
  );
}

/** The named parts of an I/O-instruction qualification. */
export function decodeIoQualification(qualification: bigint): Required<IoParts> {
  const sizeCode = getField(qualification, IO_QUALIFICATION.SIZE);
  const size = sizeCode === IO_ACCESS_SIZE[4] ? 4 : sizeCode === IO_ACCESS_SIZE[2] ? 2 : 1;
  return {
    direction: isSet(qualification, IO_QUALIFICATION.DIRECTION) ? 'in' : 'out',
    port: getField(qualification, IO_QUALIFICATION.PORT),
    size,
    string: isSet(qualification, IO_QUALIFICATION.STRING),
    rep: isSet(qualification, IO_QUALIFICATION.REP),
    immediate: isSet(qualification, IO_QUALIFICATION.IMMEDIATE),
  };
}

/**
 * The qualification holding a linear address: INVLPG's operand and a page fault's faulting
 * address. Bits 63:32 are cleared when the processor was not in 64-bit mode before the exit.
 */
export function linearAddressQualification(address: bigint, in64BitMode: boolean): bigint {
  return in64BitMode ? BigInt.asUintN(64, address) : BigInt.asUintN(32, address);
}

/**
 * The qualification of INVEPT, INVPCID, INVVPID, LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR,
 * VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMXON, XRSTORS and XSAVES: the instruction's
 * displacement, sign-extended to 64 bits; 0 when it has none (a register operand, or `[RBX]` as
 * the project's encodings use). Bits beyond the instruction's address size are undefined; with
 * RIP-relative addressing the field holds displacement plus the next instruction's RIP.
 */
export function displacementQualification(displacement: number): bigint {
  return BigInt.asUintN(64, BigInt(displacement));
}

/** The SIPI vector, bits 7:0 of a SIPI exit's qualification (bits 63:8 cleared). */
export const SIPI_QUALIFICATION = { VECTOR: bits(7, 0) } as const satisfies Record<string, BitField>;

/** MWAIT's qualification: whether address-range monitoring hardware was armed. */
export const MWAIT_QUALIFICATION = { NOT_ARMED: 0n, ARMED: 1n } as const;

/** APIC-access VM exits from linear and guest-physical accesses (exit reason 44). */
export const APIC_ACCESS_QUALIFICATION = {
  /** Bits 11:0: offset of the access in the APIC page (linear accesses; undefined for guest-physical ones). */
  OFFSET: bits(11, 0),
  /** Bits 15:12: access type ({@link APIC_ACCESS_TYPE}). */
  ACCESS_TYPE: bits(15, 12),
} as const satisfies Record<string, BitField>;

/** Values of {@link APIC_ACCESS_QUALIFICATION}.ACCESS_TYPE (others not used). */
export const APIC_ACCESS_TYPE = {
  LINEAR_DATA_READ: 0,
  LINEAR_DATA_WRITE: 1,
  LINEAR_INSTRUCTION_FETCH: 2,
  LINEAR_DURING_EVENT_DELIVERY: 3,
  GUEST_PHYSICAL_DURING_EVENT_DELIVERY: 10,
  GUEST_PHYSICAL_FETCH_OR_EXECUTION: 15,
} as const;

/**
 * EPT violations (exit reason 48): the bits present in the 2016 text. Bits 11:9 (advanced
 * information) and 13 onward came later and are not listed here.
 */
export const EPT_VIOLATION_QUALIFICATION = {
  DATA_READ: bit(0),
  DATA_WRITE: bit(1),
  INSTRUCTION_FETCH: bit(2),
  /** Bits 5:3: the guest-physical address was readable, writable, executable (AND over the walk). */
  READABLE: bit(3),
  WRITABLE: bit(4),
  EXECUTABLE: bit(5),
  /** Bit 7: the guest-linear-address field is valid. */
  GUEST_LINEAR_ADDRESS_VALID: bit(7),
  /** Bit 8 (when bit 7 is set): the access was the translation of that linear address, not a paging-structure access. */
  TRANSLATED_ACCESS: bit(8),
  /** Bit 12: NMI unblocking due to IRET. */
  NMI_UNBLOCKING_DUE_TO_IRET: bit(12),
} as const satisfies Record<string, BitField>;

/**
 * The basic exit reasons whose VM exits save an exit qualification; "for all other VM exits, this
 * field is cleared". An exception or NMI exit (reason 0) saves one only for #DB and #PF: see
 * {@link exitSavesQualification}.
 */
export const QUALIFICATION_EXIT_REASONS: ReadonlySet<number> = new Set([
  EXIT_REASON.SIPI,
  EXIT_REASON.IO_SMI,
  EXIT_REASON.TASK_SWITCH,
  EXIT_REASON.INVLPG,
  EXIT_REASON.VMCLEAR,
  EXIT_REASON.VMPTRLD,
  EXIT_REASON.VMPTRST,
  EXIT_REASON.VMREAD,
  EXIT_REASON.VMWRITE,
  EXIT_REASON.VMXON,
  EXIT_REASON.CONTROL_REGISTER_ACCESS,
  EXIT_REASON.MOV_DR,
  EXIT_REASON.IO_INSTRUCTION,
  EXIT_REASON.MWAIT,
  EXIT_REASON.APIC_ACCESS,
  EXIT_REASON.VIRTUALIZED_EOI,
  EXIT_REASON.GDTR_IDTR_ACCESS,
  EXIT_REASON.LDTR_TR_ACCESS,
  EXIT_REASON.EPT_VIOLATION,
  EXIT_REASON.INVEPT,
  EXIT_REASON.INVVPID,
  EXIT_REASON.APIC_WRITE,
  EXIT_REASON.INVPCID,
  EXIT_REASON.PML_FULL,
  EXIT_REASON.XSAVES,
  EXIT_REASON.XRSTORS,
]);

/** Exception vectors whose VM exits (reason 0) save a qualification: #DB (1) and #PF (14). */
export const QUALIFICATION_EXCEPTION_VECTORS: ReadonlySet<number> = new Set([1, 14]);

/**
 * Whether a VM exit with basic reason `reason` (and, for reason 0, exception `vector`) saves an
 * exit qualification; when it does not, the field is cleared to 0 (not left undefined). The list
 * of causes was read in the 2008 and 2016 texts; the closing "cleared" sentence was not in the
 * excerpts seen and is written from the known text of §28.2.1: check it when the page is at hand.
 */
export function exitSavesQualification(reason: number, vector?: number): boolean {
  if (reason === EXIT_REASON.EXCEPTION_OR_NMI) return vector !== undefined && QUALIFICATION_EXCEPTION_VECTORS.has(vector);
  return QUALIFICATION_EXIT_REASONS.has(reason);
}

/**
 * The guest-linear-address field (§28.2.1), in words: defined for LMSW with a memory operand (its
 * operand's linear address), for INS and OUTS whose segment is usable (the linear address of
 * ES:rDI, or segment:rSI; bits 63:32 cleared outside 64-bit mode) and for EPT violations that set
 * bit 7 of the exit qualification; undefined for every other VM exit.
 */
export const GUEST_LINEAR_ADDRESS_RULE =
  'defined for LMSW with a memory operand, INS/OUTS with a usable segment (bits 63:32 cleared outside 64-bit mode) and EPT violations with qualification bit 7 set; undefined otherwise';
