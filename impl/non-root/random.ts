/**
 * RDRAND and RDSEED (SDM Vol. 2B, December 2023, "RDRAND—Read Random Number", "RDSEED—Read Random
 * SEED"): in order, #UD where the processor lacks the instruction (impl/non-root/system-features.ts);
 * in VMX non-root operation the VM exit of "RDRAND exiting" (reason 57) or "RDSEED exiting" (61)
 * (Vol. 3C §26.1.3 "Instructions That Cause VM Exits Conditionally"), with exit qualification 0,
 * the instruction length and the instruction information "as Used for RDRAND and RDSEED"
 * (destination register, operand size; §28.2.5); otherwise the instruction completes at any
 * privilege level and in every mode.
 *
 * Completion: the SDM allows CF = 1 with any value, or CF = 0 with the destination cleared; OF,
 * SF, ZF, AF and PF are cleared either way. impl/'s choice: a random value is always available
 * (CF = 1), and the value is a fixed constant per instruction, truncated to the operand size, so
 * that a case replays identically (the `ok` observation reports it).
 */
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { ARITHMETIC_FLAGS } from '../../spec/observations.ts';
import { S_FLAGS, S_WIDE } from '../cpu-row.ts';
import type { GuestContext } from './context.ts';
import { randomInformationOf, randomLength } from './system-exit-info.ts';

/** impl/'s "random" values (bits 31:0, 63:32): the golden-ratio constant for RDRAND, its companion for RDSEED. */
const RDRAND_LO = 0x7f4a_7c15;
const RDRAND_HI = 0x9e37_79b9 | 0;
const RDSEED_LO = 0x27d4_eb4f;
const RDSEED_HI = 0xc2b2_ae3d | 0;

/**
 * RDRAND (`seed` false) or RDSEED (`seed` true) into register `gpr` with operand size index
 * `sizeIndex` (0: 16, 1: 32, 2: 64 bits; 64 bits is 32 outside 64-bit mode, where REX.W does not
 * exist). The value written is left in `g.value` (lo, hi).
 */
export function random(g: GuestContext, cpu: number, seed: boolean, gpr: number, sizeIndex: number): number {
  const b = g.hooks.instruction(cpu);
  if (!(seed ? g.features.rdseed : g.features.rdrand)) return g.ud(b);
  const wide = g.s[b + S_WIDE] as number;
  if (g.nonRoot(b) && g.secondary(b, seed ? SECONDARY_CONTROL.RDSEED_EXITING : SECONDARY_CONTROL.RDRAND_EXITING)) {
    return g.informationExit(b, seed ? EXIT_REASON.RDSEED : EXIT_REASON.RDRAND, randomLength(gpr, sizeIndex, wide), randomInformationOf(gpr, sizeIndex, wide));
  }
  const size = sizeIndex === 2 && wide === 0 ? 1 : sizeIndex;
  const lo = seed ? RDSEED_LO : RDRAND_LO;
  g.value[0] = size === 0 ? lo & 0xffff : lo;
  g.value[1] = size === 2 ? (seed ? RDSEED_HI : RDRAND_HI) : 0;
  g.s[b + S_FLAGS] = ARITHMETIC_FLAGS.CF;
  return g.complete(b, randomLength(gpr, sizeIndex, wide));
}
