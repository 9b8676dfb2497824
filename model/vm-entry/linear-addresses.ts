/**
 * Canonical linear addresses, as the host-state checks require them (SDM Vol. 3C, December 2023,
 * §27.2.2 "Checks on Host Control Registers, MSRs, and SSP", §27.2.3 "Checks on Host Segment and
 * Descriptor-Table Registers", §27.2.4 "Checks Related to Address-Space Size").
 *
 * An address is canonical when its bits 63 down to N − 1 are all equal, N being the processor's
 * linear-address width (CPUID.80000008H:EAX[15:8]): 48 on processors with 4-level paging only, 57
 * on processors that support 5-level paging. The profile does not record N, so:
 * - an address canonical with 48 bits is canonical on every processor: the check passes;
 * - an address not canonical with 57 bits is canonical on none: the check fails;
 * - an address in between (canonical with 57 bits, not with 48) fails on some processors and
 *   passes on others: the check may fail ({@link MayFail}), and the SDM allows both outcomes.
 *
 * The same three cases cover readings that judge an address against 57 bits only when the host
 * CR4 field enables 5-level paging (KVM does so for host RIP): such a reading gives one of the two
 * outcomes allowed in the middle case, and agrees in the other two.
 */
import type { MayFail } from './check.ts';
import { mayFail } from './check.ts';

/** Linear-address widths of processors with 4-level and with 5-level paging. */
const FOUR_LEVEL_WIDTH = 48;
const FIVE_LEVEL_WIDTH = 57;

/** True when bits 63:(width − 1) of `address` are all equal. */
export function canonicalWith(address: bigint, width: number): boolean {
  const top = address >> BigInt(width - 1);
  return top === 0n || top === (1n << BigInt(65 - width)) - 1n;
}

/**
 * Whether `address` is canonical on the processor: true, false, or may-fail when the answer
 * depends on its linear-address width.
 */
export function canonical(address: bigint): boolean | MayFail {
  if (canonicalWith(address, FOUR_LEVEL_WIDTH)) return true;
  if (!canonicalWith(address, FIVE_LEVEL_WIDTH)) return false;
  return mayFail('the linear-address width (48 or 57 bits; CPUID.80000008H:EAX[15:8]), which the profile does not record');
}

/** True when bits 63:`width` of `value` are all equal. */
function bitsAboveIdentical(value: bigint, width: number): boolean {
  const top = (value & 0xffff_ffff_ffff_ffffn) >> BigInt(width);
  return top === 0n || top === (1n << BigInt(64 - width)) - 1n;
}

/**
 * Whether bits 63:N of `value` are identical, N the linear-address width (what the guest RIP
 * check asks outside a 64-bit guest's CS.L: §27.3.1.4 "Checks on Guest RIP, RFLAGS, and SSP"):
 * true, false, or may-fail when the answer depends on the width, as for {@link canonical}.
 */
export function identicalAboveWidth(value: bigint): boolean | MayFail {
  if (bitsAboveIdentical(value, FOUR_LEVEL_WIDTH)) return true;
  if (!bitsAboveIdentical(value, FIVE_LEVEL_WIDTH)) return false;
  return mayFail('the linear-address width (48 or 57 bits; CPUID.80000008H:EAX[15:8]), which the profile does not record');
}
