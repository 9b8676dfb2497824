/**
 * Delivery of an event through the guest's IDT in VMX non-root operation (SDM Vol. 3A, December
 * 2023, chapter 6 "Interrupt and Exception Handling"; Vol. 3C §27.6.1.1 "Details of
 * Vectored-Event Injection"): an event a VM entry injects, an exception a guest instruction
 * raises that the exception bitmap does not turn into a VM exit, a pending debug exception after
 * VM entry. One instance per machine (`machine.delivery`).
 *
 * The mode decides the mechanism: real-address mode (CR0.PE = 0, a guest under "unrestricted
 * guest") uses the interrupt-vector table (real-mode.ts); IA-32e mode (IA32_EFER.LMA = 1) 16-byte
 * gates and 64-bit handlers (ia32e.ts); protected mode 8-byte 32-bit gates (protected-mode.ts).
 * Every memory access goes through the guest's paging and EPT (paging.ts, ept.ts, linear.ts).
 * The guest state a delivery changes lives where impl/ keeps it while the guest runs: RIP, RSP,
 * RFLAGS, CS and SS in the guest-state area of the current VMCS, CPL, CS.L and RFLAGS.VM in the
 * processor row (the caller recomputes the machine's cached mode afterwards).
 *
 * Not modelled (answered STATUS_DELIVERY_UNIMPLEMENTED, with {@link EventDelivery.what}): any
 * fault the delivery itself meets (#GP, #NP, #SS, #TS, #PF: the nested exception, #DF, triple
 * fault, or a VM exit through the exception bitmap with IDT-vectoring information), an EPT
 * violation or misconfiguration, virtual-8086 mode, task gates, 16-bit gates and 16-bit TSSs,
 * 5-level paging, shadow stacks (CR4.CET = 1), sub-page write permissions for EPT.
 */
import { SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EPT_VPID_CAP } from '../../../spec/capability-msrs.ts';
import type { Profile } from '../../../spec/profile.ts';
import { S_CPL, S_CR0_LO, S_CR3_HI, S_CR3_LO, S_CR4_LO, S_CUR_BASE, S_EFER_LO, S_FLAGS, S_LMA, S_VM } from '../../cpu-row.ts';
import type { PhysicalMemory } from '../../memory.ts';
import { factsFor } from '../../profile-facts.ts';
import { STATUS_DELIVERY_UNIMPLEMENTED } from '../../status.ts';
import { deliverIa32e } from './ia32e.ts';
import { readLinear, writeLinear } from './linear.ts';
import { GuestMemory, PAGING_PAE } from './paging.ts';
import { deliverProtected } from './protected-mode.ts';
import { deliverReal } from './real-mode.ts';
import { deliveryWordsFor, type DeliveryWords } from './words.ts';

/** `flags` of {@link EventDelivery.deliver}: an error code is pushed. */
export const DELIVER_ERROR_CODE = 1;
/**
 * The event is a software interrupt or exception of INT n, INT3 or INTO (or their injection,
 * types 4 and 6): the gate's DPL must be at least the CPL (§6.12.1.1 "Protection of Exception-
 * and Interrupt-Handler Procedures"; §27.6.1.1 exempts type 5, privileged software exceptions).
 */
export const DELIVER_SOFTWARE = 2;
/** The RFLAGS image pushed has RF = 1 (a fault-class exception, Vol. 3A §18.3.1.1). */
export const DELIVER_RF = 4;

/** RFLAGS bits: TF 8, IF 9, NT 14, RF 16, VM 17, AC 18. */
export const TF = 0x100;
export const IF = 0x200;
export const NT = 0x4000;
export const RF = 0x1_0000;
export const VM = 0x2_0000;
export const AC = 0x4_0000;
const CR4_CET = 0x80_0000;
const EFER_NXE = 0x800;

/** One machine's event delivery (see the file header). */
export class EventDelivery {
  readonly g: GuestMemory;
  readonly w: DeliveryWords;
  /** What the last STATUS_DELIVERY_UNIMPLEMENTED did not implement. */
  what = '';
  /** The last descriptor read ({@link readDescriptor}): bits 31:0 and 63:32, and its linear address. */
  d0 = 0;
  d1 = 0;
  dLo = 0;
  dHi = 0;
  /** Scratch for a stack frame, (bits 31:0, bits 63:32) per push (no allocation per delivery). */
  readonly frame = new Int32Array(12);

  constructor(
    profile: Profile,
    readonly s: Int32Array,
    readonly memory: PhysicalMemory,
  ) {
    const facts = factsFor(profile);
    this.g = new GuestMemory(memory, facts.physicalHiBad, ((facts.capLo >>> EPT_VPID_CAP.EXECUTE_ONLY) & 1) === 1);
    this.w = deliveryWordsFor(profile);
  }

  /**
   * Delivers `vector` through the IDT of the guest the processor at row `b` runs (its current
   * VMCS), with `flags` (DELIVER_*), `errorCode`, and the RIP pushed = guest RIP + `length` (the
   * instruction length of a software interrupt or exception, else 0). 0 when delivered, else
   * STATUS_DELIVERY_UNIMPLEMENTED with {@link what}.
   */
  deliver(b: number, vector: number, flags: number, errorCode: number, length: number): number {
    const s = this.s;
    const v = this.memory.words;
    const w = this.w;
    const base = s[b + S_CUR_BASE] as number;
    this.what = '';
    if (s[b + S_VM] === 1) return this.unimplemented('event delivery in virtual-8086 mode');
    const cr4 = s[b + S_CR4_LO] as number;
    if ((cr4 & CR4_CET) !== 0) return this.unimplemented('event delivery with shadow stacks (CR4.CET = 1)');
    const secondary = this.secondary(base);
    if (((secondary >>> SECONDARY_CONTROL.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT) & 1) === 1) return this.unimplemented('event delivery with sub-page write permissions for EPT');
    const ept = ((secondary >>> SECONDARY_CONTROL.ENABLE_EPT) & 1) === 1;
    const apic = ((secondary >>> SECONDARY_CONTROL.VIRTUALIZE_APIC_ACCESSES) & 1) === 1 && w.APIC_ACCESS_ADDRESS >= 0;
    const g = this.g;
    const paging = g.setUp(
      s[b + S_CR0_LO] as number,
      s[b + S_CR3_LO] as number,
      s[b + S_CR3_HI] as number,
      cr4,
      s[b + S_LMA] === 1,
      ((s[b + S_EFER_LO] as number) & EFER_NXE) !== 0,
      ept,
      ept ? (v[base + w.EPT_POINTER] as number) : 0,
      ept ? (v[base + w.EPT_POINTER + 1] as number) : 0,
      apic ? (v[base + w.APIC_ACCESS_ADDRESS] as number) : 0,
      apic ? (v[base + w.APIC_ACCESS_ADDRESS + 1] as number) : -1,
    );
    if (g.what !== '') return this.unimplemented(g.what);
    if (paging === PAGING_PAE) this.loadPdptes(b, base, ept);
    const field = (v[base + w.GUEST_RFLAGS] as number) & ~(0x8d5 | VM);
    const rflags = field | (s[b + S_FLAGS] as number) | ((flags & DELIVER_RF) !== 0 ? RF : 0);
    let status: number;
    if (((s[b + S_CR0_LO] as number) & 1) === 0) status = deliverReal(this, base, vector, rflags, length);
    else if (s[b + S_LMA] === 1) status = deliverIa32e(this, b, base, vector, flags, errorCode, rflags, length);
    else status = deliverProtected(this, b, base, vector, flags, errorCode, rflags, length);
    return status;
  }

  /** The CPL the delivery starts from. */
  cpl(b: number): number {
    return this.s[b + S_CPL] as number;
  }

  /** The secondary processor-based controls when active, else 0. */
  private secondary(base: number): number {
    const v = this.memory.words;
    const w = this.w;
    if (w.SECONDARY_PROCESSOR_BASED_CONTROLS < 0 || (v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number) >= 0) return 0;
    return v[base + w.SECONDARY_PROCESSOR_BASED_CONTROLS] as number;
  }

  /**
   * The PAE PDPTEs (§4.4.1 "PDPTE Registers"): the guest PDPTE fields VM entry loaded when "enable
   * EPT" is 1 (§27.3.2.4), else the four entries at guest CR3[31:5] in memory.
   */
  private loadPdptes(b: number, base: number, ept: boolean): void {
    const p = this.g.pdptes;
    const v = this.memory.words;
    if (ept) {
      const at = base + this.w.GUEST_PDPTE0;
      for (let i = 0; i < 8; i++) p[i] = v[at + i] as number;
      return;
    }
    const cr3 = (this.s[b + S_CR3_LO] as number) & ~0x1f;
    for (let i = 0; i < 8; i++) p[i] = this.memory.read32(cr3 + i * 4, 0);
  }

  /** A read of `size` bytes at the linear address hi:lo (supervisor unless `user`). */
  read(lo: number, hi: number, size: number, user = false): number {
    return readLinear(this.g, this.memory, lo, hi, size, user);
  }

  /** A read of `size` bytes at the linear address hi:lo + `offset` (carry into bits 63:32 when `wide`). */
  readAt(lo: number, hi: number, offset: number, size: number, wide: boolean, user = false): number {
    const at = (lo + offset) | 0;
    return this.read(at, wide ? (hi + (at >>> 0 < lo >>> 0 ? 1 : 0)) | 0 : 0, size, user);
  }

  /** A write of `size` bytes at the linear address hi:lo + `offset` (carry as {@link readAt}). */
  writeAt(lo: number, hi: number, offset: number, size: number, value: number, wide: boolean, user = false): void {
    const at = (lo + offset) | 0;
    this.write(at, wide ? (hi + (at >>> 0 < lo >>> 0 ? 1 : 0)) | 0 : 0, size, value, user);
  }

  /** A write of `size` bytes at the linear address hi:lo. */
  write(lo: number, hi: number, size: number, value: number, user = false): void {
    writeLinear(this.g, this.memory, lo, hi, size, value, user);
  }

  /** True while no access met anything impl/ does not model. */
  get fine(): boolean {
    return this.g.what === '';
  }

  /**
   * Reads the descriptor `selector` names from the GDT or (TI = 1) the LDT of the guest into
   * d0/d1 (§3.4.2 "Segment Selectors", §3.5.1 "Segment Descriptor Tables"); false (with
   * {@link what}) for an index beyond the table's limit or an unusable LDTR (#GP or #TS). The
   * table bases are 64-bit linear addresses in IA-32e mode, 32-bit otherwise (`wide`).
   */
  readDescriptor(base: number, selector: number, wide: boolean): boolean {
    const v = this.memory.words;
    const w = this.w;
    let tableLo: number;
    let tableHi: number;
    let limit: number;
    if ((selector & 4) !== 0) {
      if (((v[base + w.GUEST_LDTR_ACCESS_RIGHTS] as number) & 0x1_0000) !== 0) return this.fault('#GP (a selector in an unusable LDT)');
      tableLo = v[base + w.GUEST_LDTR_BASE] as number;
      tableHi = wide ? (v[base + w.GUEST_LDTR_BASE + 1] as number) : 0;
      limit = v[base + w.GUEST_LDTR_LIMIT] as number;
    } else {
      tableLo = v[base + w.GUEST_GDTR_BASE] as number;
      tableHi = wide ? (v[base + w.GUEST_GDTR_BASE + 1] as number) : 0;
      limit = (v[base + w.GUEST_GDTR_LIMIT] as number) & 0xffff;
    }
    const offset = selector & 0xfff8;
    if (offset + 7 > limit >>> 0) return this.fault('#GP (a selector beyond its descriptor table)');
    const lo = (tableLo + offset) | 0;
    const hi = wide ? (tableHi + (lo >>> 0 < tableLo >>> 0 ? 1 : 0)) | 0 : 0;
    this.dLo = lo;
    this.dHi = hi;
    this.d0 = this.read(lo, hi, 4);
    const hiLo = (lo + 4) | 0;
    this.d1 = this.read(hiLo, hi + (hiLo >>> 0 < lo >>> 0 ? 1 : 0), 4);
    if (this.fine) return true;
    this.what = this.g.what;
    return false;
  }

  /** Sets the accessed bit of the descriptor last read, when clear (§3.4.5 "Segment Descriptors"). */
  markAccessed(): void {
    if ((this.d1 & 0x100) !== 0) return;
    this.d1 |= 0x100;
    const lo = (this.dLo + 4) | 0;
    this.write(lo, this.dHi + (lo >>> 0 < this.dLo >>> 0 ? 1 : 0), 4, this.d1);
  }

  /** Writes CS (`ss` false) or SS: the four guest-state fields (the base's bits 63:32 0). */
  loadSegment(base: number, ss: boolean, selector: number, segmentBase: number, limit: number, accessRights: number): void {
    const v = this.memory.words;
    const w = this.w;
    v[base + (ss ? w.GUEST_SS_SELECTOR : w.GUEST_CS_SELECTOR)] = selector;
    const at = base + (ss ? w.GUEST_SS_BASE : w.GUEST_CS_BASE);
    v[at] = segmentBase;
    v[at + 1] = 0;
    v[base + (ss ? w.GUEST_SS_LIMIT : w.GUEST_CS_LIMIT)] = limit;
    v[base + (ss ? w.GUEST_SS_ACCESS_RIGHTS : w.GUEST_CS_ACCESS_RIGHTS)] = accessRights;
  }

  /** A fault during delivery (not modelled): false, with {@link what}. */
  fault(what: string): false {
    if (this.what === '') this.what = `a fault during event delivery: ${what}`;
    return false;
  }

  /** STATUS_DELIVERY_UNIMPLEMENTED with `what`. */
  unimplemented(what: string): number {
    this.what = what;
    return STATUS_DELIVERY_UNIMPLEMENTED;
  }

  /** STATUS_DELIVERY_UNIMPLEMENTED with the reason already set by {@link fault} or the memory. */
  failed(): number {
    return this.unimplemented(this.what !== '' ? this.what : this.g.what);
  }
}

/** The base address (bits 31:0) of the descriptor d0:d1. */
export function descriptorBase(d0: number, d1: number): number {
  return (d0 >>> 16) | ((d1 & 0xff) << 16) | (d1 & 0xff00_0000);
}

/** The scaled limit of the descriptor d0:d1 (G = 1: 4-KByte units). */
export function descriptorLimit(d0: number, d1: number): number {
  const raw = (d0 & 0xffff) | (d1 & 0xf_0000);
  return (d1 & 0x80_0000) !== 0 ? (raw << 12) | 0xfff : raw;
}

/** The access rights of the descriptor d0:d1 in the VMCS format (bits 15:12 and 7:0 of d1[23:8]). */
export function descriptorRights(d1: number): number {
  return (d1 >>> 8) & 0xf0ff;
}
