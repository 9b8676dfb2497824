/**
 * Pushes on a stack outside 64-bit mode, for event delivery in protected mode and real-address
 * mode (SDM Vol. 3A, December 2023, §3.4.5.1 "Code- and Data-Segment Descriptor Types" (expand-down
 * segments), §5.3 "Limit Checking", §6.12.1 "Exception- or Interrupt-Handler Procedures"; Vol. 1
 * §6.2.3 "Address-Size Attributes for Stack Accesses"): the stack segment's B flag (access rights
 * bit 14) makes ESP (B = 1) or SP (B = 0, the upper half of ESP unchanged) the stack pointer; each
 * push first decrements it by the size, then stores at SS.base + the pointer (32-bit linear
 * address). A push outside the segment's limit (expand-up: last byte above the limit;
 * expand-down: first byte at or below the limit, or last byte above FFFFH / FFFFFFFFH) is #SS,
 * which is not modelled (the caller answers "not implemented").
 */
import type { EventDelivery } from './index.ts';

/**
 * Pushes `count` values of `size` bytes (2 or 4) from `values` (first pushed first) at SS with
 * `ssBase`, `ssLimit`, `ssRights` from the stack pointer `esp`; returns the new stack pointer.
 * A limit violation records the fault in `d` (check `d.what`).
 */
export function pushLegacy(d: EventDelivery, ssBase: number, ssLimit: number, ssRights: number, esp: number, values: Int32Array, count: number, size: number, user: boolean): number {
  const big = (ssRights & 0x4000) !== 0;
  const expandDown = (ssRights & 0x1c) === 0x14;
  const top = big ? 0xffff_ffff : 0xffff;
  const limit = ssLimit >>> 0;
  for (let i = 0; i < count; i++) {
    esp = big ? (esp - size) | 0 : (esp & ~0xffff) | ((esp - size) & 0xffff);
    const offset = big ? esp >>> 0 : esp & 0xffff;
    const last = offset + size - 1;
    if (expandDown ? offset <= limit || last > top : last > limit || last > top) {
      d.fault('#SS (a push beyond the stack-segment limit)');
      return esp;
    }
    d.write((ssBase + offset) | 0, 0, size, values[i] as number, user);
  }
  return esp;
}
