/**
 * Event delivery in IA-32e mode (64-bit and compatibility mode) — SDM Vol. 3A, December 2023,
 * §6.14 "Exception and Interrupt Handling in 64-bit Mode" (§6.14.1 "64-Bit Mode IDT", §6.14.2
 * "64-Bit Mode Stack Frame", §6.14.3 "IRET in IA-32e Mode", §6.14.4 "Stack Switching in IA-32e
 * Mode", §6.14.5 "Interrupt Stack Table"), §6.12.1 "Exception- or Interrupt-Handler Procedures",
 * and the IA-32e branch of Vol. 2 "INT n/INTO/INT3/INT1—Call to Interrupt Procedure" (Operation).
 *
 * In order:
 * 1. The 16-byte gate at IDTR.base + 16 × vector; vector × 16 + 15 beyond IDTR.limit is #GP.
 *    Bytes 1:0 and 7:6 and 11:8 the handler's offset (bits 15:0, 31:16, 63:32), bytes 3:2 the
 *    code-segment selector, byte 4 bits 2:0 the IST index, byte 5 the type (0EH a 64-bit
 *    interrupt gate, 0FH a 64-bit trap gate; any other type, task and 16-bit gates included, is
 *    #GP in IA-32e mode), DPL (bits 6:5) and P (bit 7).
 * 2. A software interrupt or exception with gate DPL < CPL: #GP; P = 0: #NP.
 * 3. The code segment: a null selector, an index beyond the table, a descriptor that is not a
 *    code segment, DPL > CPL, L = 0 or D = 1 (not a 64-bit code segment): #GP; not present: #NP;
 *    a non-canonical handler offset: #GP.
 * 4. The new CPL is the code segment's DPL (a conforming segment keeps the CPL). The stack: the
 *    IST entry (TSS offset 24H + 8 × (IST - 1)) when the gate names one, even without a CPL
 *    change; else on a CPL change RSPn (TSS offset 4 + 8 × n) for the new CPL n; else the
 *    current RSP. The TSS is the 64-bit TSS at the guest TR base (a field beyond TR.limit: #TS;
 *    a non-canonical new RSP: #SS). RSP is then aligned down to 16 bytes.
 * 5. Pushes of 8 bytes each: SS, RSP, RFLAGS, CS, RIP (as before the delivery), then the error
 *    code; a CPL change loads SS with the null selector whose RPL is the new CPL (impl/ marks it
 *    unusable, with DPL = the new CPL, which is what VM exits save as SS.DPL; base and limit stay).
 * 6. CS from the descriptor (RPL = the new CPL; accessed bit set in memory when clear), RIP the
 *    handler, RFLAGS.TF, NT, RF and VM cleared, and IF too through an interrupt gate.
 * Faults in any step are not modelled (index.ts).
 */
import { S_CPL, S_CSL, S_VM } from '../../cpu-row.ts';
import { DELIVER_ERROR_CODE, DELIVER_SOFTWARE, descriptorBase, descriptorLimit, descriptorRights, IF, NT, RF, TF, VM, type EventDelivery } from './index.ts';

const INTERRUPT_GATE = 0xe;
const TRAP_GATE = 0xf;

/** Bits 63:47 of the address (hi) are equal (48-bit canonical). */
const canonical = (hi: number): boolean => (hi << 16) >> 16 === hi;

/** Delivers `vector` in IA-32e mode; `rflags` is the RFLAGS image to push (see index.ts). */
export function deliverIa32e(d: EventDelivery, b: number, base: number, vector: number, flags: number, errorCode: number, rflags: number, length: number): number {
  const s = d.s;
  // Writes may create memory chunks, which can replace the slab: `v` is re-read after them.
  let v = d.memory.words;
  const w = d.w;
  const cpl = d.cpl(b);
  // 1. The gate.
  if (vector * 16 + 15 > ((v[base + w.GUEST_IDTR_LIMIT] as number) & 0xffff)) return fail(d, '#GP (vector beyond the IDT limit)');
  const idtLo = v[base + w.GUEST_IDTR_BASE] as number;
  const idtHi = v[base + w.GUEST_IDTR_BASE + 1] as number;
  const g0 = d.readAt(idtLo, idtHi, vector * 16, 4, true);
  const g1 = d.readAt(idtLo, idtHi, vector * 16 + 4, 4, true);
  const g2 = d.readAt(idtLo, idtHi, vector * 16 + 8, 4, true);
  if (!d.fine) return d.failed();
  const type = (g1 >>> 8) & 0x1f;
  if (type !== INTERRUPT_GATE && type !== TRAP_GATE) return fail(d, '#GP (not a 64-bit interrupt or trap gate)');
  // 2. Gate privilege and presence.
  if ((flags & DELIVER_SOFTWARE) !== 0 && ((g1 >>> 13) & 3) < cpl) return fail(d, '#GP (gate DPL below CPL for a software interrupt)');
  if ((g1 & 0x8000) === 0) return fail(d, '#NP (gate not present)');
  // 3. The code segment.
  const selector = g0 >>> 16;
  if ((selector & 0xfffc) === 0) return fail(d, '#GP (null code-segment selector)');
  if (!d.readDescriptor(base, selector, true)) return d.failed();
  const d1 = d.d1;
  if ((d1 & 0x1800) !== 0x1800) return fail(d, '#GP (not a code segment)');
  const dpl = (d1 >>> 13) & 3;
  if (dpl > cpl) return fail(d, '#GP (code-segment DPL above CPL)');
  if ((d1 & 0x8000) === 0) return fail(d, '#NP (code segment not present)');
  if ((d1 & 0x60_0000) !== 0x20_0000) return fail(d, '#GP (not a 64-bit code segment)');
  const targetLo = (g1 & ~0xffff) | (g0 & 0xffff);
  if (!canonical(g2)) return fail(d, '#GP (non-canonical handler address)');
  // 4. The new CPL and the stack.
  const newCpl = (d1 & 0x400) !== 0 ? cpl : dpl;
  const ist = g1 & 7;
  const change = newCpl < cpl;
  let rspLo = v[base + w.GUEST_RSP] as number;
  let rspHi = v[base + w.GUEST_RSP + 1] as number;
  if (ist !== 0 || change) {
    const offset = ist !== 0 ? 0x24 + (ist - 1) * 8 : 4 + newCpl * 8;
    if (offset + 7 > (v[base + w.GUEST_TR_LIMIT] as number) >>> 0) return fail(d, '#TS (stack pointer beyond the TSS limit)');
    const trLo = v[base + w.GUEST_TR_BASE] as number;
    const trHi = v[base + w.GUEST_TR_BASE + 1] as number;
    rspLo = d.readAt(trLo, trHi, offset, 4, true);
    rspHi = d.readAt(trLo, trHi, offset + 4, 4, true);
    if (!d.fine) return d.failed();
    if (!canonical(rspHi)) return fail(d, '#SS (non-canonical stack pointer from the TSS)');
  }
  rspLo &= ~0xf;
  // 5. The frame: SS, RSP, RFLAGS, CS, RIP, error code, from the highest address down.
  const ripLo = v[base + w.GUEST_RIP] as number;
  const ripHi = v[base + w.GUEST_RIP + 1] as number;
  const pushedRipLo = (ripLo + length) | 0;
  const pushedRipHi = s[b + S_CSL] === 1 ? (ripHi + (pushedRipLo >>> 0 < ripLo >>> 0 ? 1 : 0)) | 0 : 0;
  const frame = d.frame;
  frame[0] = ((v[base + w.GUEST_SS_SELECTOR] as number) & 0xffff);
  frame[1] = 0;
  frame[2] = v[base + w.GUEST_RSP] as number;
  frame[3] = v[base + w.GUEST_RSP + 1] as number;
  frame[4] = rflags;
  frame[5] = 0;
  frame[6] = ((v[base + w.GUEST_CS_SELECTOR] as number) & 0xffff);
  frame[7] = 0;
  frame[8] = pushedRipLo;
  frame[9] = pushedRipHi;
  frame[10] = errorCode;
  frame[11] = 0;
  const count = (flags & DELIVER_ERROR_CODE) !== 0 ? 6 : 5;
  const user = newCpl === 3;
  let atLo = rspLo;
  let atHi = rspHi;
  for (let i = 0; i < count; i++) {
    const next = (atLo - 8) | 0;
    atHi = (atHi - (next >>> 0 > atLo >>> 0 ? 1 : 0)) | 0;
    atLo = next;
    if (!canonical(atHi)) return fail(d, '#SS (non-canonical stack address)');
    d.writeAt(atLo, atHi, 0, 4, frame[i * 2] as number, true, user);
    d.writeAt(atLo, atHi, 4, 4, frame[i * 2 + 1] as number, true, user);
  }
  d.markAccessed();
  if (!d.fine) return d.failed();
  // 6. The new state.
  v = d.memory.words;
  if (change) {
    v[base + w.GUEST_SS_SELECTOR] = newCpl;
    v[base + w.GUEST_SS_ACCESS_RIGHTS] = 0x1_0000 | (newCpl << 5);
  }
  d.loadSegment(base, false, (selector & ~3) | newCpl, descriptorBase(d.d0, d.d1), descriptorLimit(d.d0, d.d1), descriptorRights(d.d1));
  v[base + w.GUEST_RSP] = atLo;
  v[base + w.GUEST_RSP + 1] = atHi;
  v[base + w.GUEST_RIP] = targetLo;
  v[base + w.GUEST_RIP + 1] = g2;
  v[base + w.GUEST_RFLAGS] = rflags & ~(TF | NT | RF | VM | (type === INTERRUPT_GATE ? IF : 0));
  s[b + S_CPL] = newCpl;
  s[b + S_CSL] = 1;
  s[b + S_VM] = 0;
  return 0;
}

function fail(d: EventDelivery, what: string): number {
  d.fault(what);
  return d.failed();
}

