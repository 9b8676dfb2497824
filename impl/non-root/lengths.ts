/**
 * Instruction lengths of the guest operations, taken once from the encodings the contract fixes
 * (spec/instruction-encodings.ts) so that no length is restated here. Register-operand forms add a
 * REX prefix in 64-bit mode for registers 8..15 (and for CR8): {@link rex}.
 */
import { instructionLength } from '../../spec/instruction-encodings.ts';
import type { Operation } from '../../spec/operations.ts';

function lengthOf(op: Operation): number {
  const length = instructionLength(op, false);
  if (length === undefined) throw new Error(`no instruction length for ${op.kind}`);
  return length;
}

export const CPUID_LENGTH = lengthOf({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' });
export const HLT_LENGTH = lengthOf({ kind: 'hlt', cpu: 0 });
export const INVD_LENGTH = lengthOf({ kind: 'invd', cpu: 0 });
export const WBINVD_LENGTH = lengthOf({ kind: 'wbinvd', cpu: 0 });
export const INVLPG_LENGTH = lengthOf({ kind: 'invlpg', cpu: 0, address: '0x0' });
export const RDTSC_LENGTH = lengthOf({ kind: 'rdtsc', cpu: 0 });
export const RDTSCP_LENGTH = lengthOf({ kind: 'rdtscp', cpu: 0 });
export const RDPMC_LENGTH = lengthOf({ kind: 'rdpmc', cpu: 0, ecx: '0x0' });
export const PAUSE_LENGTH = lengthOf({ kind: 'pause', cpu: 0 });
export const CLTS_LENGTH = lengthOf({ kind: 'clts', cpu: 0 });
export const LMSW_LENGTH = lengthOf({ kind: 'lmsw', cpu: 0, value: '0x0' });
export const RDMSR_LENGTH = lengthOf({ kind: 'rdmsr', cpu: 0, ecx: '0x0' });
export const WRMSR_LENGTH = lengthOf({ kind: 'wrmsr', cpu: 0, ecx: '0x0', value: '0x0' });
export const XSETBV_LENGTH = lengthOf({ kind: 'xsetbv', cpu: 0, ecx: '0x0', value: '0x0' });
export const MONITOR_LENGTH = lengthOf({ kind: 'monitor', cpu: 0 });
export const MWAIT_LENGTH = lengthOf({ kind: 'mwait', cpu: 0 });
/** MOV to/from CR0/CR3/CR4 with a register 0..7 (0F 22 /r, 0F 20 /r). */
export const MOV_CR_LENGTH = lengthOf({ kind: 'mov-cr3', cpu: 0, value: '0x0' });
/** MOV CR8 (always with REX.R, 64-bit mode only). */
export const MOV_CR8_LENGTH = lengthOf({ kind: 'mov-cr8', cpu: 0, value: '0x0' });
/** MOV to/from DR with a register 0..7 (0F 23 /r, 0F 21 /r). */
export const MOV_DR_LENGTH = lengthOf({ kind: 'mov-dr', cpu: 0, direction: 'to', dr: 0, gpr: 0 });
/** IN/OUT with the port in DX, one byte (EC-EF); the immediate form adds its imm8 byte. */
export const IO_DX_LENGTH = lengthOf({ kind: 'io', cpu: 0, direction: 'in', port: 0, size: 1 });
/** An operand-size prefix (66H) for 16-bit I/O; a REP prefix (F3H) for string I/O. */
export const PREFIX_LENGTH = lengthOf({ kind: 'io', cpu: 0, direction: 'in', port: 0, size: 2 }) - IO_DX_LENGTH;

/** 1 for the REX prefix register `gpr` needs in 64-bit mode (`wide` 1), else 0. */
export function rex(gpr: number, wide: number): number {
  return wide === 1 && gpr >= 8 ? 1 : 0;
}

/** Length of an I/O instruction by its form (see spec/instruction-encodings.ts). */
export function ioLength(size: number, string: boolean, rep: boolean, immediate: boolean): number {
  const operandSize = size === 2 ? PREFIX_LENGTH : 0;
  if (string) return IO_DX_LENGTH + operandSize + (rep ? PREFIX_LENGTH : 0);
  return IO_DX_LENGTH + (immediate ? 1 : 0) + operandSize;
}
