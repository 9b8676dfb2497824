/**
 * Event delivery in real-address mode (CR0.PE = 0; in VMX non-root operation a guest under
 * "unrestricted guest") — SDM Vol. 3A, December 2023, §21.1.4 "Interrupt and Exception Handling"
 * (the interrupt vector table), and Vol. 2 "INT n/INTO/INT3/INT1—Call to Interrupt Procedure"
 * (Operation, real-address mode):
 * 1. The 4-byte IVT entry at IDTR.base + 4 × vector (offset in bytes 1:0, segment in bytes 3:2);
 *    vector × 4 + 3 beyond IDTR.limit is #GP.
 * 2. Push FLAGS (bits 15:0 of the RFLAGS image), CS, IP, 2 bytes each, on SS:SP (impl/ uses ESP
 *    when SS.B = 1, legacy-stack.ts); a push beyond the stack limit is #SS.
 * 3. CS.selector = the entry's segment, CS.base = segment × 16 (limit and access rights as they
 *    were); IP = the entry's offset (RIP bits 63:16 cleared); RFLAGS.IF, TF and AC cleared.
 * No error code is pushed in real-address mode. Faults are not modelled (index.ts).
 */
import { AC, IF, TF, type EventDelivery } from './index.ts';
import { pushLegacy } from './legacy-stack.ts';

/** Delivers `vector` in real-address mode; `rflags` is the RFLAGS image (see index.ts). */
export function deliverReal(d: EventDelivery, base: number, vector: number, rflags: number, length: number): number {
  // Writes may create memory chunks, which can replace the slab: `v` is re-read after them.
  let v = d.memory.words;
  const w = d.w;
  if (vector * 4 + 3 > ((v[base + w.GUEST_IDTR_LIMIT] as number) & 0xffff)) {
    d.fault('#GP (vector beyond the IVT limit)');
    return d.failed();
  }
  const entry = d.readAt(v[base + w.GUEST_IDTR_BASE] as number, 0, vector * 4, 4, false);
  if (!d.fine) return d.failed();
  const frame = d.frame;
  frame[0] = rflags & 0xffff;
  frame[1] = ((v[base + w.GUEST_CS_SELECTOR] as number) & 0xffff);
  frame[2] = ((v[base + w.GUEST_RIP] as number) + length) & 0xffff;
  const esp = pushLegacy(d, v[base + w.GUEST_SS_BASE] as number, v[base + w.GUEST_SS_LIMIT] as number, v[base + w.GUEST_SS_ACCESS_RIGHTS] as number, v[base + w.GUEST_RSP] as number, frame, 3, 2, false);
  if (d.what !== '' || !d.fine) return d.failed();
  v = d.memory.words;
  v[base + w.GUEST_RSP] = esp;
  const segment = entry >>> 16;
  v[base + w.GUEST_CS_SELECTOR] = segment;
  v[base + w.GUEST_CS_BASE] = segment << 4;
  v[base + w.GUEST_CS_BASE + 1] = 0;
  v[base + w.GUEST_RIP] = entry & 0xffff;
  v[base + w.GUEST_RIP + 1] = 0;
  v[base + w.GUEST_RFLAGS] = rflags & ~(IF | TF | AC);
  return 0;
}
