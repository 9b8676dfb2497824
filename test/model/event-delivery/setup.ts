/**
 * Guests for the event-delivery tests: processor 0 in VMX non-root operation (test/model/
 * non-root-setup.ts) with a guest register file, control registers and memory laid out here
 * (IDT, GDT, TSS, stacks, paging structures and EPT tables written straight into the model's
 * memory). Addresses are identity-mapped by the guest's paging (and by EPT where enabled), all
 * in the first 2 MBytes.
 */
import { FIELD } from '../../../spec/fields.ts';
import type { FieldName } from '../../../spec/fields.ts';
import type { ModelState } from '../../../model/index.ts';
import type { GuestRegisters, SegmentRegister } from '../../../model/state.ts';
import { readWord, writeWord } from '../../../model/memory.ts';
import { MSR } from '../../../model/vm-exit/msr-indices.ts';
import { patchCpu, write } from '../helpers.ts';
import { ACTIVATE_SECONDARY, guest } from '../non-root-setup.ts';

export const PML4 = 0x10_0000n;
export const PDPT = 0x10_1000n;
export const PD = 0x10_2000n;
export const PT = 0x10_3000n;
export const GDT = 0x11_0000n;
export const IDT = 0x11_1000n;
export const TSS = 0x11_2000n;
/** RSP0 of the TSS points into this page (unaligned on purpose). */
export const KERNEL_STACK = 0x11_8000n;
export const IST_STACK = 0x11_a000n;
export const USER_STACK = 0x11_c000n;
export const HANDLER = 0x14_0000n;
export const GUEST_RIP = 0x13_0000n;
export const EPT_PML4 = 0x18_0000n;

/** GDT selectors: 0x08 64-bit code DPL 0 (accessed clear), 0x10 data DPL 0, 0x20 32-bit code DPL 0, 0x2b data DPL 3, 0x33 64-bit code DPL 3, 0x38 32-bit data DPL 0, 0x40 conforming 64-bit code DPL 0. */
export const DESCRIPTORS: ReadonlyArray<readonly [bigint, bigint]> = [
  [0x08n, 0x00af_9a00_0000_ffffn],
  [0x10n, 0x00cf_9300_0000_ffffn],
  [0x20n, 0x00cf_9b00_0000_ffffn],
  [0x28n, 0x00cf_f300_0000_ffffn],
  [0x30n, 0x00af_fb00_0000_ffffn],
  [0x38n, 0x00cf_9200_0000_ffffn],
  [0x40n, 0x00af_9e00_0000_ffffn],
];

/** Access rights (VMCS format) of the guest's own segments. */
export const AR = {
  CODE64_DPL3: 0xa0fbn,
  CODE64_DPL0: 0xa09bn,
  DATA_DPL3: 0xc0f3n,
  DATA_DPL0: 0xc093n,
  CODE32_DPL3: 0xc0fbn,
  CODE32_DPL0: 0xc09bn,
  BUSY_TSS64: 0x8bn,
  REAL_CODE: 0x9bn,
  REAL_DATA: 0x93n,
  UNUSABLE: 0x1_0000n,
} as const;

/** The 64-bit value at physical `address`. */
export function peek64(state: ModelState, address: bigint): bigint {
  return BigInt(readWord(state, address) >>> 0) | (BigInt(readWord(state, address + 4n) >>> 0) << 32n);
}

/** `state` with the 64-bit `value` at physical `address` (8-byte aligned). */
export function poke64(state: ModelState, address: bigint, value: bigint): ModelState {
  const low = writeWord(state, address, Number(value & 0xffff_ffffn) >>> 0);
  return writeWord(low, address + 4n, Number(value >> 32n) >>> 0);
}

/** A 16-byte IA-32e gate: `type` 0xE interrupt / 0xF trap, present unless told. */
export function gate64(selector: bigint, offset: bigint, options: { type?: number; dpl?: number; ist?: number; present?: boolean } = {}): [bigint, bigint] {
  const type = BigInt(options.type ?? 0xe);
  const p = options.present === false ? 0n : 1n;
  const flags = (p << 15n) | (BigInt(options.dpl ?? 0) << 13n) | (type << 8n) | BigInt(options.ist ?? 0);
  const low = (offset & 0xffffn) | (selector << 16n) | (flags << 32n) | (((offset >> 16n) & 0xffffn) << 48n);
  return [low, (offset >> 32n) & 0xffff_ffffn];
}

/** An 8-byte 32-bit gate. */
export function gate32(selector: bigint, offset: bigint, options: { type?: number; dpl?: number; present?: boolean } = {}): bigint {
  const type = BigInt(options.type ?? 0xe);
  const p = options.present === false ? 0n : 1n;
  const flags = (p << 15n) | (BigInt(options.dpl ?? 0) << 13n) | (type << 8n);
  return (offset & 0xffffn) | (selector << 16n) | (flags << 32n) | (((offset >> 16n) & 0xffffn) << 48n);
}

/** Present, writable, user entries (P, R/W, U/S). */
const PWU = 0x7n;

/** 4-level paging for `pages` (4-KByte pages, identity), U/S on the pages listed in `user`. */
export function fourLevelPaging(state: ModelState, pages: readonly bigint[], user: readonly bigint[] = []): ModelState {
  let next = poke64(state, PML4, PDPT | PWU);
  next = poke64(next, PDPT, PD | PWU);
  next = poke64(next, PD, PT | PWU);
  for (const page of pages) next = poke64(next, PT + (page >> 12n) * 8n, page | (user.includes(page) ? PWU : 0x3n));
  return next;
}

/** The pages every IA-32e test maps. */
export const SYSTEM_PAGES = [GDT, IDT, TSS, KERNEL_STACK, IST_STACK];

/** The GDT descriptors written. */
export function withGdt(state: ModelState): ModelState {
  return DESCRIPTORS.reduce((next, [selector, value]) => poke64(next, GDT + selector, value), state);
}

/** A segment register. */
export function segment(selector: bigint, base: bigint, limit: bigint, accessRights: bigint): SegmentRegister {
  return { selector, base, limit, accessRights };
}

/** What a guest is: mode-related control registers and its registers. */
export interface GuestSpec {
  readonly cr0: bigint;
  readonly cr3?: bigint;
  readonly cr4: bigint;
  readonly ia32e: boolean;
  readonly cs: SegmentRegister;
  readonly ss: SegmentRegister;
  readonly tr: SegmentRegister;
  readonly rsp: bigint;
  readonly rflags: bigint;
  readonly rip?: bigint;
  readonly idtLimit?: bigint;
  readonly gdtLimit?: bigint;
  readonly idtBase?: bigint;
  /** Secondary controls (with "activate secondary controls"), and the EPTP. */
  readonly secondary?: bigint;
  readonly eptp?: bigint;
  readonly exceptionBitmap?: bigint;
  readonly primary?: bigint;
  readonly interruptibility?: bigint;
  readonly efer?: bigint;
}

/** Processor 0 in VMX non-root operation as `spec` says (memory is the caller's). */
export function deliveryGuest(spec: GuestSpec): ModelState {
  let state = guest({
    primary: (spec.primary ?? 0n) | (spec.secondary === undefined ? 0n : ACTIVATE_SECONDARY),
    ...(spec.secondary === undefined ? {} : { secondary: spec.secondary }),
    exceptionBitmap: spec.exceptionBitmap ?? 0n,
  });
  // The EPTP is written in VMX root operation (a guest's VMWRITE would exit).
  if (spec.eptp !== undefined) state = patchCpu(write(patchCpu(state, 0, { vmx: 'root' }), FIELD.EPT_POINTER, spec.eptp), 0, { vmx: 'non-root' });
  const flat = segment(0x10n, 0n, 0xffff_ffffn, AR.DATA_DPL0);
  const registers: GuestRegisters = {
    rsp: spec.rsp,
    rflags: spec.rflags,
    segments: { ES: flat, CS: spec.cs, SS: spec.ss, DS: flat, FS: flat, GS: flat, LDTR: segment(0n, 0n, 0n, AR.UNUSABLE), TR: spec.tr },
    gdtr: { selector: undefined, base: GDT, limit: spec.gdtLimit ?? 0xffn, accessRights: undefined },
    idtr: { selector: undefined, base: spec.idtBase ?? IDT, limit: spec.idtLimit ?? 0xfffn, accessRights: undefined },
    interruptibility: spec.interruptibility ?? 0n,
    pendingDebugExceptions: 0n,
    activity: 0n,
    pdptes: undefined,
    loadedCr3: spec.cr3,
    ssp: undefined,
  };
  const cpl = Number((spec.ss.accessRights ?? 0n) >> 5n) & 3;
  return patchCpu(state, 0, {
    cr0: spec.cr0,
    cr3: spec.cr3 ?? PML4,
    cr4: spec.cr4,
    eferLma: spec.ia32e ? 1 : 0,
    eferLme: spec.ia32e ? 1 : 0,
    csL: ((spec.cs.accessRights ?? 0n) >> 13n) & 1n ? 1 : 0,
    cpl,
    rflagsVm: Number((spec.rflags >> 17n) & 1n),
    flags: Number(spec.rflags & 0x8d5n),
    rip: spec.rip ?? GUEST_RIP,
    msrs: new Map([[MSR.EFER, spec.efer ?? (spec.ia32e ? 0xd00n : 0n)]]),
    guest: registers,
  });
}

/** CR0 with PG, WP, NE, ET, PE; CR4 with PAE and VMXE. */
export const CR0_PAGED = 0x8001_0031n;
export const CR4_PAE = 0x2020n;

/** A 64-bit guest at CPL 3 (or 0) with its stack at USER_STACK (user page), TSS at TSS. */
export function guest64(cpl: 0 | 3, more: Partial<GuestSpec> = {}): ModelState {
  const spec: GuestSpec = {
    cr0: CR0_PAGED,
    cr4: CR4_PAE,
    ia32e: true,
    cs: cpl === 3 ? segment(0x33n, 0n, 0xffff_ffffn, AR.CODE64_DPL3) : segment(0x08n, 0n, 0xffff_ffffn, AR.CODE64_DPL0),
    ss: cpl === 3 ? segment(0x2bn, 0n, 0xffff_ffffn, AR.DATA_DPL3) : segment(0x10n, 0n, 0xffff_ffffn, AR.DATA_DPL0),
    tr: segment(0x18n, TSS, 0x67n, AR.BUSY_TSS64),
    rsp: USER_STACK + 0xff8n,
    rflags: 0x246n,
    ...more,
  };
  return deliveryGuest(spec);
}

/**
 * VMCS guest-state fields of a 64-bit CPL-0 guest whose IDT, GDT, TSS and paging structures are
 * those {@link withDeliveryMemory} lays out (added to a VMCS that passes the entry checks).
 */
export const DELIVERY_FIELDS: Partial<Record<FieldName, bigint>> = {
  GUEST_CR3: PML4,
  GUEST_CS_SELECTOR: 0x08n,
  GUEST_CS_BASE: 0n,
  GUEST_CS_LIMIT: 0xffff_ffffn,
  GUEST_SS_SELECTOR: 0x10n,
  GUEST_SS_BASE: 0n,
  GUEST_SS_LIMIT: 0xffff_ffffn,
  GUEST_TR_SELECTOR: 0x18n,
  GUEST_TR_BASE: TSS,
  GUEST_TR_LIMIT: 0x67n,
  GUEST_TR_ACCESS_RIGHTS: AR.BUSY_TSS64,
  GUEST_GDTR_BASE: GDT,
  GUEST_GDTR_LIMIT: 0xffn,
  GUEST_IDTR_BASE: IDT,
  GUEST_IDTR_LIMIT: 0xfffn,
  GUEST_RSP: USER_STACK + 0xff8n,
};

/** The handler of `vector` in {@link withDeliveryMemory}'s IDT. */
export const handlerOf = (vector: number): bigint => HANDLER + 0x10n * BigInt(vector);

/**
 * Memory for {@link DELIVERY_FIELDS}: 4-level paging of the system pages and the user stack, the
 * GDT, an IDT whose vectors 0-47 are 64-bit interrupt gates (DPL 3, so software interrupts pass)
 * to `handlerOf(vector)` through selector 08H — except vector 1 (#DB) and 6 (#UD), trap gates —
 * and the TSS with RSP0 = KERNEL_STACK + FF8H and IST1 = IST_STACK + 1000H.
 */
export function withDeliveryMemory(state: ModelState): ModelState {
  let next = withGdt(fourLevelPaging(state, SYSTEM_PAGES.concat([USER_STACK]), [USER_STACK]));
  for (let vector = 0; vector < 48; vector++) {
    const [low, high] = gate64(0x08n, handlerOf(vector), { dpl: 3, type: vector === 1 || vector === 6 ? 0xf : 0xe });
    next = poke64(poke64(next, IDT + BigInt(vector) * 16n, low), IDT + BigInt(vector) * 16n + 8n, high);
  }
  next = poke64(next, TSS, (KERNEL_STACK + 0xff8n) << 32n);
  next = poke64(next, TSS + 8n, (KERNEL_STACK + 0xff8n) >> 32n);
  return poke64(next, TSS + 0x24n - 4n, (IST_STACK + 0x1000n) << 32n);
}
