/**
 * The address rules the VM-entry checks share. Many checks require a physical address in a
 * control field to be aligned and to "not set any bits beyond the processor's physical-address
 * width" (SDM Vol. 3C, December 2023, §27.2.1.1 "VM-Execution Control Fields"); on processors
 * with IA32_VMX_BASIC[48] = 1 such addresses are further limited to 32 bits (Vol. 3D, Appendix
 * A.1 "Basic VMX Information"). The profile's `pointerWidth` is the smaller of the two limits.
 */
import type { CheckEnvironment } from './check.ts';

/** True when `address` has bits `alignmentBits - 1`:0 clear. */
export function aligned(address: bigint, alignmentBits: number): boolean {
  return (address & ((1n << BigInt(alignmentBits)) - 1n)) === 0n;
}

/** True when `address` sets no bit at or above the width VMX physical addresses may use. */
export function withinPhysicalWidth(address: bigint, env: CheckEnvironment): boolean {
  return address >> BigInt(env.profile.pointerWidth) === 0n;
}

/**
 * True when the last byte of an area of `count` entries of `entryBytes` bytes starting at
 * `address` is within the physical-address width: (address + count × entryBytes) − 1.
 */
export function areaWithinPhysicalWidth(address: bigint, count: bigint, entryBytes: bigint, env: CheckEnvironment): boolean {
  return withinPhysicalWidth(address + count * entryBytes - 1n, env);
}
