/**
 * Delivery through the interrupt vector table in real-address mode, which a guest reaches with
 * "unrestricted guest" (SDM Vol. 3B, December 2023, §21.1.4 "Interrupt and Exception Handling";
 * Vol. 2A "INT n/INTO/INT3/INT1—Call to Interrupt Procedure", Operation, REAL-ADDRESS-MODE):
 *
 * 1. The entry is the 4 bytes at IDTR.base + 4 × vector (offset in bytes 0-1, segment in bytes
 *    2-3); an entry beyond the IDTR limit (4 × vector + 3 > limit) is #GP.
 * 2. FLAGS (bits 15:0 of the pushed RFLAGS), CS and IP (bits 15:0 of the pushed RIP) are pushed
 *    as 2-byte values; no error code is pushed in real-address mode, whatever the event. The
 *    stack offset is SP (ESP with a 32-bit stack segment, SS.D/B = 1), wrapping; a push beyond the
 *    SS limit is #SS. Bits of RSP above the stack width are kept.
 * 3. IF, TF and AC are cleared (the other flags are kept).
 * 4. CS takes the entry's segment as selector and selector × 16 as base; the limit and access
 *    rights stay as they were (a real-address-mode segment load changes only selector and base);
 *    EIP takes the entry's offset (bits 31:16 cleared).
 *
 * Paging is off in real-address mode (CR0.PG requires CR0.PE), so linear addresses go to EPT
 * directly (translate.ts).
 */
import { GATE, RFLAGS_BIT } from '../../spec/event-delivery-formats.ts';
import { cpuOf } from '../state.ts';
import type { DeliveryState } from './ept.ts';
import type { DeliveryEvent, HandlerState } from './event.ts';
import { EVENT_DELIVERY_RULES as R, isStop, stopAt } from './rules.ts';
import type { Stop } from './rules.ts';
import { readLinear, writeLinear } from './translate.ts';

const LOW32 = 0xffff_ffffn;
/** VMCS access rights bit 14: D/B. */
const AR_DB = 1n << 14n;
const ACCESS = { write: false, user: false } as const;
const PUSH = { write: true, user: false } as const;

/** The handler state after delivering `event` in real-address mode (memory written in `d`), or a stop. */
export function deliverReal(d: DeliveryState, event: DeliveryEvent): HandlerState | Stop {
  const cpu = cpuOf(d.state, d.cpu);
  const guest = cpu.guest;
  const idtr = guest?.idtr;
  const cs = guest?.segments.CS;
  const ss = guest?.segments.SS;
  const rsp = guest?.rsp;
  if (idtr?.base === undefined || idtr.limit === undefined || cs?.selector === undefined || ss?.base === undefined || ss.limit === undefined || ss.accessRights === undefined || rsp === undefined) {
    return stopAt(R.stateUnknown);
  }

  const offset = BigInt(event.vector) * GATE.SIZE_REAL;
  if (offset + 3n > idtr.limit) return stopAt(R.nestedGp);
  const entry = readLinear(d, (idtr.base + offset) & LOW32, 4, ACCESS, LOW32);
  if (isStop(entry)) return entry;

  const mask = (ss.accessRights & AR_DB) !== 0n ? LOW32 : 0xffffn;
  let top = rsp & mask;
  for (const value of [event.pushedRflags & 0xffffn, cs.selector & 0xffffn, event.pushedRip & 0xffffn]) {
    top = (top - 2n) & mask;
    if (top + 1n > ss.limit) return stopAt(R.nestedStack);
    const stored = writeLinear(d, (ss.base + top) & LOW32, 2, value, PUSH, LOW32);
    if (stored !== undefined) return stored;
  }

  const selector = (entry >> 16n) & 0xffffn;
  return {
    cs: { ...cs, selector, base: selector << 4n },
    rip: entry & 0xffffn,
    cpl: 0,
    csL: 0,
    rsp: (rsp & ~mask) | top,
    rflags: event.pushedRflags & ~(RFLAGS_BIT.IF | RFLAGS_BIT.TF | RFLAGS_BIT.AC),
  };
}
