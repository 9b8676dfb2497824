/**
 * Canonical addresses for the VM-entry checks. A linear address is canonical when bits 63:N-1 are
 * all equal, N being the processor's linear-address width (SDM Vol. 3A, December 2023, §3.3.7.1
 * "Canonical Addressing"); some checks ask only that bits 63:N be identical (guest RIP and SSP,
 * §27.3.1.4 "Checks on Guest RIP, RFLAGS, and SSP").
 *
 * N is 48, or 57 on processors with 5-level paging (CPUID.80000008H:EAX[15:8]). The profile does
 * not record it, so where a value passes with one width and fails with the other the check may
 * fail or not ({@link MayFail}): the model allows both outcomes.
 */
import type { Holds } from './check.ts';
import { mayFail } from './check.ts';

/** The linear-address widths an Intel 64 processor may have. */
export const LINEAR_ADDRESS_WIDTHS = [48, 57] as const;

/** One linear-address width. */
export type LinearAddressWidth = (typeof LINEAR_ADDRESS_WIDTHS)[number];

/** True when bits 63:`from` of the 64-bit `value` are all 0 or all 1. */
export function highBitsIdentical(value: bigint, from: number): boolean {
  const high = (value & 0xffff_ffff_ffff_ffffn) >> BigInt(from);
  return high === 0n || high === (1n << BigInt(64 - from)) - 1n;
}

/** True when `address` is canonical for linear-address width `width`. */
export function canonicalFor(address: bigint, width: LinearAddressWidth): boolean {
  return highBitsIdentical(address, width - 1);
}

/**
 * `holds` decided for both linear-address widths: true or false when both agree, otherwise
 * {@link MayFail}.
 */
export function forEitherLinearWidth(holds: (width: LinearAddressWidth) => boolean): Holds {
  const narrow = holds(48);
  const wide = holds(57);
  if (narrow === wide) return narrow;
  return mayFail('the outcome differs between 48-bit and 57-bit linear addresses, and the profile does not record the width');
}

/** True, false or may-fail: `address` is canonical (bits 63:N-1 identical). */
export function canonicalAddress(address: bigint): Holds {
  return forEitherLinearWidth((width) => canonicalFor(address, width));
}

/** True, false or may-fail: bits 63:N of `value` are identical. */
export function highBitsIdenticalAboveWidth(value: bigint): Holds {
  return forEitherLinearWidth((width) => highBitsIdentical(value, width));
}
