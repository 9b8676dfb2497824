/**
 * Operating modes, as the VMX instructions test them, and the size of their register operands.
 *
 * The instructions' Operation sections test single bits rather than named modes (SDM Vol. 3C,
 * December 2023, §31.3 "VMX Instructions"): CR0.PE = 0 (real-address mode), RFLAGS.VM = 1
 * (virtual-8086 mode), IA32_EFER.LMA = 1 and CS.L = 0 (compatibility mode). The model tests the
 * same bits, so a state a harness set inconsistently (say LMA = 1 with CR0.PE = 0) is judged
 * exactly as the pseudo-code reads.
 *
 * Register operands of VMREAD, VMWRITE, INVEPT and INVVPID are 32 bits outside IA-32e mode
 * (whatever CS.D says) and 64 bits in 64-bit mode (each instruction's Description); in
 * compatibility mode those instructions cause #UD before any operand matters.
 */
import type { CpuState } from './state.ts';

/** CR0.PE, bit 0. */
const CR0_PE = 1n;

/** CR0.PE = 0: real-address mode. */
export function inRealAddressMode(cpu: CpuState): boolean {
  return (cpu.cr0 & CR0_PE) === 0n;
}

/** RFLAGS.VM = 1: virtual-8086 mode. */
export function inVirtual8086Mode(cpu: CpuState): boolean {
  return cpu.rflagsVm === 1;
}

/** IA32_EFER.LMA = 1: IA-32e mode (64-bit or compatibility mode). */
export function inIa32eMode(cpu: CpuState): boolean {
  return cpu.eferLma === 1;
}

/** IA32_EFER.LMA = 1 and CS.L = 0: compatibility mode. */
export function inCompatibilityMode(cpu: CpuState): boolean {
  return cpu.eferLma === 1 && cpu.csL === 0;
}

/** IA32_EFER.LMA = 1 and CS.L = 1: 64-bit mode. */
export function in64BitMode(cpu: CpuState): boolean {
  return cpu.eferLma === 1 && cpu.csL === 1;
}

/** Width in bits of a register operand (and of VMREAD's and VMWRITE's r/m operand): 64 or 32. */
export function registerOperandBits(cpu: CpuState): 32 | 64 {
  return in64BitMode(cpu) ? 64 : 32;
}

/** `value` cut to the register operand size of `cpu` (upper bits ignored outside 64-bit mode). */
export function toOperandSize(cpu: CpuState, value: bigint): bigint {
  return registerOperandBits(cpu) === 64 ? value : value & 0xffff_ffffn;
}
