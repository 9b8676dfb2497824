/**
 * Event delivery in protected mode (CR0.PE = 1, IA32_EFER.LMA = 0, RFLAGS.VM = 0) through 32-bit
 * interrupt and trap gates — SDM Vol. 3A, December 2023, §6.10 "Interrupt Descriptor Table
 * (IDT)", §6.11 "IDT Descriptors", §6.12.1 "Exception- or Interrupt-Handler Procedures"
 * (§6.12.1.1 "Protection of Exception- and Interrupt-Handler Procedures", §6.12.1.3 "Flag Usage
 * By Exception- or Interrupt-Handler Procedure"), §7.7 "Task Management in 64-bit Mode" is not
 * involved; Vol. 2 "INT n/INTO/INT3/INT1—Call to Interrupt Procedure" (Operation, protected mode).
 *
 * In order:
 * 1. The 8-byte gate at IDTR.base + 8 × vector; vector × 8 + 7 beyond IDTR.limit is #GP. Type 0EH
 *    a 32-bit interrupt gate, 0FH a 32-bit trap gate; 5 (task gate) and 6, 7 (16-bit gates) are
 *    not modelled; any other type is #GP.
 * 2. A software interrupt or exception with gate DPL < CPL: #GP; P = 0: #NP.
 * 3. The code segment: null selector, index beyond the table, not a code segment, DPL > CPL: #GP;
 *    not present: #NP; the handler offset beyond the segment limit: #GP(0).
 * 4. A non-conforming code segment with DPL < CPL is an inter-privilege-level interrupt: SS:ESP
 *    for the new CPL n from the 32-bit TSS (ESPn at offset 4 + 8n, SSn at 8 + 8n; beyond TR.limit
 *    #TS); the new SS must be a non-null selector with RPL = n naming a present, writable data
 *    segment with DPL = n (#TS, #SS otherwise). The old SS and ESP are pushed on the new stack,
 *    then EFLAGS, CS, EIP and the error code, 4 bytes each (the selectors zero-extended: impl/'s
 *    choice where the SDM lets the upper bytes be left as they were). Without a CPL change the
 *    frame (EFLAGS, CS, EIP, error code) goes on the current stack.
 * 5. CS (RPL = the new CPL) and, on a CPL change, SS loaded from their descriptors (accessed bits
 *    set in memory when clear); EIP the handler; RFLAGS.TF, NT, RF, VM cleared, IF too through an
 *    interrupt gate.
 * Faults in any step are not modelled (index.ts); so are 16-bit TSSs.
 */
import { S_CPL, S_CSL, S_VM } from '../../cpu-row.ts';
import { DELIVER_ERROR_CODE, DELIVER_SOFTWARE, descriptorBase, descriptorLimit, descriptorRights, IF, NT, RF, TF, VM, type EventDelivery } from './index.ts';
import { pushLegacy } from './legacy-stack.ts';

const TASK_GATE = 5;
const INTERRUPT_GATE_16 = 6;
const TRAP_GATE_16 = 7;
const INTERRUPT_GATE = 0xe;
const TRAP_GATE = 0xf;
/** TR access-rights type of a busy 32-bit TSS (the VM-entry checks allow 11 and, outside IA-32e mode, 3). */
const BUSY_TSS_32 = 11;

/** Delivers `vector` in protected mode; `rflags` is the EFLAGS image to push (see index.ts). */
export function deliverProtected(d: EventDelivery, b: number, base: number, vector: number, flags: number, errorCode: number, rflags: number, length: number): number {
  const s = d.s;
  // Writes may create memory chunks, which can replace the slab: `v` is re-read after them.
  let v = d.memory.words;
  const w = d.w;
  const cpl = d.cpl(b);
  // 1. The gate.
  if (vector * 8 + 7 > ((v[base + w.GUEST_IDTR_LIMIT] as number) & 0xffff)) return fail(d, '#GP (vector beyond the IDT limit)');
  const idt = v[base + w.GUEST_IDTR_BASE] as number;
  const g0 = d.readAt(idt, 0, vector * 8, 4, false);
  const g1 = d.readAt(idt, 0, vector * 8 + 4, 4, false);
  if (!d.fine) return d.failed();
  const type = (g1 >>> 8) & 0x1f;
  if (type === TASK_GATE) return d.unimplemented('event delivery through a task gate');
  if (type === INTERRUPT_GATE_16 || type === TRAP_GATE_16) return d.unimplemented('event delivery through a 16-bit gate');
  if (type !== INTERRUPT_GATE && type !== TRAP_GATE) return fail(d, '#GP (not an interrupt, trap or task gate)');
  // 2. Gate privilege and presence.
  if ((flags & DELIVER_SOFTWARE) !== 0 && ((g1 >>> 13) & 3) < cpl) return fail(d, '#GP (gate DPL below CPL for a software interrupt)');
  if ((g1 & 0x8000) === 0) return fail(d, '#NP (gate not present)');
  // 3. The code segment.
  const selector = g0 >>> 16;
  if ((selector & 0xfffc) === 0) return fail(d, '#GP (null code-segment selector)');
  if (!d.readDescriptor(base, selector, false)) return d.failed();
  if ((d.d1 & 0x1800) !== 0x1800) return fail(d, '#GP (not a code segment)');
  const dpl = (d.d1 >>> 13) & 3;
  if (dpl > cpl) return fail(d, '#GP (code-segment DPL above CPL)');
  if ((d.d1 & 0x8000) === 0) return fail(d, '#NP (code segment not present)');
  const offset = (g1 & ~0xffff) | (g0 & 0xffff);
  const csLimit = descriptorLimit(d.d0, d.d1);
  if (offset >>> 0 > csLimit >>> 0) return fail(d, '#GP (handler offset beyond the code-segment limit)');
  d.markAccessed();
  v = d.memory.words;
  const cs0 = d.d0;
  const cs1 = d.d1;
  // 4. The stack.
  const newCpl = (cs1 & 0x400) !== 0 ? cpl : dpl;
  const change = newCpl < cpl;
  const eip = ((v[base + w.GUEST_RIP] as number) + length) | 0;
  const frame = d.frame;
  let n = 0;
  let ssSelector = ((v[base + w.GUEST_SS_SELECTOR] as number) & 0xffff);
  let ssBase = v[base + w.GUEST_SS_BASE] as number;
  let ssLimit = v[base + w.GUEST_SS_LIMIT] as number;
  let ssRights = v[base + w.GUEST_SS_ACCESS_RIGHTS] as number;
  let esp = v[base + w.GUEST_RSP] as number;
  if (change) {
    if (((v[base + w.GUEST_TR_ACCESS_RIGHTS] as number) & 0xf) !== BUSY_TSS_32) return d.unimplemented('an inter-privilege event delivery through a 16-bit TSS');
    const at = 4 + newCpl * 8;
    if (at + 5 > (v[base + w.GUEST_TR_LIMIT] as number) >>> 0) return fail(d, '#TS (stack beyond the TSS limit)');
    const tr = v[base + w.GUEST_TR_BASE] as number;
    const newEsp = d.readAt(tr, 0, at, 4, false);
    const newSs = d.readAt(tr, 0, at + 4, 2, false);
    if (!d.fine) return d.failed();
    if ((newSs & 0xfffc) === 0 || (newSs & 3) !== newCpl) return fail(d, '#TS (new SS selector)');
    if (!d.readDescriptor(base, newSs, false)) return d.failed();
    if (((d.d1 >>> 13) & 3) !== newCpl || (d.d1 & 0x1a00) !== 0x1200) return fail(d, '#TS (new SS not a writable data segment with DPL = CPL)');
    if ((d.d1 & 0x8000) === 0) return fail(d, '#SS (new stack segment not present)');
    d.markAccessed();
    v = d.memory.words;
    frame[n++] = ssSelector;
    frame[n++] = esp;
    ssSelector = newSs;
    ssBase = descriptorBase(d.d0, d.d1);
    ssLimit = descriptorLimit(d.d0, d.d1);
    ssRights = descriptorRights(d.d1);
    esp = newEsp;
  } else if ((ssRights & 0x1_0000) !== 0) {
    return fail(d, '#SS (unusable stack segment)');
  }
  frame[n++] = rflags;
  frame[n++] = ((v[base + w.GUEST_CS_SELECTOR] as number) & 0xffff);
  frame[n++] = eip;
  if ((flags & DELIVER_ERROR_CODE) !== 0) frame[n++] = errorCode;
  esp = pushLegacy(d, ssBase, ssLimit, ssRights, esp, frame, n, 4, newCpl === 3);
  if (d.what !== '' || !d.fine) return d.failed();
  // 5. The new state.
  v = d.memory.words;
  if (change) {
    d.loadSegment(base, true, ssSelector, ssBase, ssLimit, ssRights);
    v[base + w.GUEST_RSP + 1] = 0;
  }
  v[base + w.GUEST_RSP] = esp;
  d.loadSegment(base, false, (selector & ~3) | newCpl, descriptorBase(cs0, cs1), csLimit, descriptorRights(cs1));
  v[base + w.GUEST_RIP] = offset;
  v[base + w.GUEST_RIP + 1] = 0;
  v[base + w.GUEST_RFLAGS] = rflags & ~(TF | NT | RF | VM | (type === INTERRUPT_GATE ? IF : 0));
  s[b + S_CPL] = newCpl;
  s[b + S_CSL] = 0;
  s[b + S_VM] = 0;
  return 0;
}

function fail(d: EventDelivery, what: string): number {
  d.fault(what);
  return d.failed();
}
