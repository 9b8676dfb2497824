/**
 * MOV to and from debug registers (SDM Vol. 2B, December 2023, "MOV—Move to/from Debug
 * Registers"; the registers in Vol. 3A §18.2 "Debug Registers").
 *
 * In VMX non-root operation "MOV-DR exiting" causes a VM exit (reason 29) ahead of the #GP(0) for
 * CPL > 0 and the #UD for DR4/DR5 with CR4.DE = 1: the SDM names these two as exceptions to the
 * usual priority of faults over VM exits (Vol. 3C §26.1.3 "Instructions That Cause VM Exits
 * Conditionally"); the qualification has the DR number, the direction and the register (§28.2.1,
 * Table 28-4). Then, in the order Bochs also uses (the SDM gives no order among them): #UD for
 * DR4/DR5 with CR4.DE = 1, #DB when DR7.GD = 1 (DR6.BD set and DR7.GD cleared as the #DB is
 * delivered; in VMX non-root operation a #DB the exception bitmap turns into a VM exit reports BD in
 * the exit qualification and changes neither register), #GP(0) in virtual-8086 mode or at CPL > 0,
 * #GP(0) for bits 63:32 of DR6/DR7 in 64-bit mode. With CR4.DE = 0, DR4 and DR5 are DR6 and DR7.
 *
 * impl/ choice: DR6 and DR7 read back with their fixed bits (bits/DR6_ONES, DR7_ONES) and their
 * reserved-to-0 bits cleared, whatever was written there.
 */
import { PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { S_CR4_LO, S_DR0_LO, S_DR6_HI, S_DR6_LO, S_DR7_HI, S_DR7_LO, S_WIDE } from '../cpu-row.ts';
import {
  CR4_DE,
  DEBUG_BD,
  DR6_ONES,
  DR6_RESET,
  DR6_WRITABLE,
  DR7_GD,
  DR7_ONES,
  DR7_RESET,
  DR7_WRITABLE,
  DR_DIRECTION_FROM,
  DR_GPR_SHIFT,
} from './bits.ts';
import { STATUS_FAULT } from '../status.ts';
import { TYPE_HARDWARE_EXCEPTION, type GuestContext } from './context.ts';
import { MOV_DR_LENGTH, rex } from './lengths.ts';

const VECTOR_DB = 1;

/** Sets the debug registers of the row at `b` to their reset values (DR0-DR3 0). */
export function resetDebugRegisters(s: Int32Array, b: number): void {
  s.fill(0, b + S_DR0_LO, b + S_DR0_LO + 8);
  s[b + S_DR6_LO] = DR6_RESET;
  s[b + S_DR6_HI] = 0;
  s[b + S_DR7_LO] = DR7_RESET;
  s[b + S_DR7_HI] = 0;
}

/**
 * MOV DRn, r (`from` false, value (lo, hi)) or MOV r, DRn (`from` true: the value read in
 * `g.value`), through register `gpr`.
 */
export function movDr(g: GuestContext, cpu: number, from: boolean, dr: number, gpr: number, lo: number, hi: number): number {
  const b = g.hooks.instruction(cpu);
  const s = g.s;
  const wide = s[b + S_WIDE] as number;
  const length = MOV_DR_LENGTH + rex(gpr, wide);
  if (g.nonRoot(b) && g.primary(b, PRIMARY_CONTROL.MOV_DR_EXITING)) {
    return g.instructionExit(b, EXIT_REASON.MOV_DR, dr | (from ? DR_DIRECTION_FROM : 0) | ((wide === 1 ? gpr : gpr & 7) << DR_GPR_SHIFT), 0, length);
  }
  const debugExtensions = ((s[b + S_CR4_LO] as number) & CR4_DE) !== 0;
  if (debugExtensions && (dr === 4 || dr === 5)) return g.ud(b);
  if (((s[b + S_DR7_LO] as number) & DR7_GD) !== 0) {
    const status = g.raise(b, VECTOR_DB, TYPE_HARDWARE_EXCEPTION, false, 0, DEBUG_BD, 0, 0, true);
    if (status === STATUS_FAULT) {
      // Delivered, not a VM exit: the processor reports BD in DR6 and clears GD for the handler.
      s[b + S_DR6_LO] = (s[b + S_DR6_LO] as number) | DEBUG_BD;
      s[b + S_DR7_LO] = (s[b + S_DR7_LO] as number) & ~DR7_GD;
    }
    return status;
  }
  if (g.privileged(b)) return g.gp(b);
  const register = dr === 4 ? 6 : dr === 5 ? 7 : dr;
  if (from) {
    const at = register < 4 ? S_DR0_LO + 2 * register : register === 6 ? S_DR6_LO : S_DR7_LO;
    g.value[0] = s[b + at] as number;
    g.value[1] = wide === 1 ? (s[b + at + 1] as number) : 0;
    return g.complete(b, length);
  }
  const valueHi = wide === 1 ? hi : 0;
  if (register < 4) {
    s[b + S_DR0_LO + 2 * register] = lo;
    s[b + S_DR0_LO + 2 * register + 1] = valueHi;
  } else {
    if (valueHi !== 0) return g.gp(b);
    if (register === 6) s[b + S_DR6_LO] = (lo & DR6_WRITABLE) | DR6_ONES;
    else s[b + S_DR7_LO] = (lo & DR7_WRITABLE) | DR7_ONES;
  }
  return g.complete(b, length);
}
