/**
 * The guest environment as `write-memory` steps: what a hypervisor gives its guest before the
 * guest may take an event, laid out at the addresses of spec/guest-layout.ts for a VMCS built by
 * vmcs-builder.ts:
 * - identity paging for the guest's mode (4-level with 2-MByte pages for a 64-bit guest, PAE with
 *   2-MByte pages, 32-bit paging with 4-KByte pages, none in real-address mode), covering the
 *   environment (0-2 MBytes) and the guest code (4-6 MBytes);
 * - an EPT identity map of the same regions (2-MByte pages, RWX, WB) when "enable EPT" is 1;
 * - the GDT entries of the builder's selectors (code 08H, data 10H, the TSS at 18H that GUEST_TR
 *   names, the LDT at 20H of a rich protected-mode guest) and the TSS with its ring-0 stack pointer
 *   (and IST1 in IA-32e mode, SS0 in protected mode);
 * - IDT gates, one vector at a time, only for vectors a group may deliver ({@link gateWrites}):
 *   64-bit interrupt or trap gates (some with IST1) in IA-32e mode, 32-bit gates in protected
 *   mode, vector-table entries in real-address mode, each to a CPL-0 handler so that a guest at
 *   CPL 3 switches stacks. About one gate in ten is perturbed at a boundary of delivery: not
 *   present, or DPL 0 (below the CPL of a software interrupt from CPL 3).
 *
 * Memory starts zeroed, so zero words are skipped, except in the page at guest CR3, which every
 * guest mode uses for its own root table: there each entry is written whole, since a group of
 * another mode may have left other bits in the same words. The groups write the environment only
 * when a delivery may happen (an injected event, an exception the exception bitmap lets through,
 * a pending debug exception), so cases that deliver nothing stay as short as before.
 */
import fc from 'fast-check';
import {
  eptEntry,
  gate32,
  gate64,
  GUEST_LAYOUT,
  GUEST_SELECTORS,
  handlerAddress,
  ivtEntry,
  MAPPED_LARGE_PAGES,
  MAPPED_SMALL_PAGES,
  pagingEntry,
  REAL_MODE_HANDLER_SEGMENT,
  segmentDescriptor,
  systemDescriptor64,
  TSS32_OFFSET,
  TSS64_OFFSET,
  type GateKind,
} from '../../spec/guest-layout.ts';
import { toHex } from '../../spec/hex.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { Operation } from '../../spec/operations.ts';
import type { BuildOptions, GuestMode, MemoryWrite } from './vmcs-builder.ts';

/** How events are delivered in a guest mode: 16-byte gates (IA-32e), 8-byte gates (protected and virtual-8086), the vector table (real). */
export type DeliveryMode = 'ia32e' | 'protected' | 'real';

/** The delivery mode of a built guest. */
export function deliveryMode(guest: GuestMode): DeliveryMode {
  if (guest === '64-bit') return 'ia32e';
  return guest === 'real' ? 'real' : 'protected';
}

/** A boundary perturbation of a gate: none, not present (P = 0), or DPL 0. */
export type GateFault = 'none' | 'not-present' | 'dpl-0';

/** How one gate is written. */
export interface GateVariant {
  kind: GateKind;
  /** IA-32e: the gate names IST1. */
  ist: boolean;
  fault: GateFault;
}

/** A valid interrupt gate without IST. */
export const VALID_GATE: GateVariant = { kind: 'interrupt', ist: false, fault: 'none' };

/** Gate variants: interrupt or trap gates, one in four with IST1; about one in ten perturbed. */
export function gateVariantArbitrary(): fc.Arbitrary<GateVariant> {
  return fc.record({
    kind: fc.oneof({ arbitrary: fc.constant<GateKind>('interrupt'), weight: 3 }, { arbitrary: fc.constant<GateKind>('trap'), weight: 1 }),
    ist: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
    fault: fc.oneof(
      { arbitrary: fc.constant<GateFault>('none'), weight: 18 },
      { arbitrary: fc.constant<GateFault>('not-present'), weight: 1 },
      { arbitrary: fc.constant<GateFault>('dpl-0'), weight: 1 },
    ),
  });
}

/** How many gate variants a group draws (the n-th gate it writes uses variant n modulo this). */
export const GATE_VARIANTS_PER_GROUP = 4;

/** The variants a group draws for its gates. */
export function gateVariantsArbitrary(): fc.Arbitrary<GateVariant[]> {
  return fc.array(gateVariantArbitrary(), { minLength: GATE_VARIANTS_PER_GROUP, maxLength: GATE_VARIANTS_PER_GROUP });
}

const LOW32 = 0xffff_ffffn;

/** The stores of the 8-byte `value` at `address`: both halves when `whole`, otherwise only nonzero halves. */
function quad(address: bigint, value: bigint, whole = false): MemoryWrite[] {
  return [
    { address, value: value & LOW32 },
    { address: address + 4n, value: (value >> 32n) & LOW32 },
  ].filter((w) => whole || w.value !== 0n);
}

/** The store of the 4-byte `value` at `address`, unless it is zero. */
function dword(address: bigint, value: bigint): MemoryWrite[] {
  return value === 0n ? [] : [{ address, value }];
}

/** Identity paging for `guest` (Vol. 3A §4.3-§4.5): the regions of spec/guest-layout.ts. */
export function pagingWrites(guest: GuestMode): MemoryWrite[] {
  const L = GUEST_LAYOUT;
  const directory = (): MemoryWrite[] => MAPPED_LARGE_PAGES.flatMap((page) => quad(L.pageDirectories + 8n * (page >> 21n), pagingEntry(page, true)));
  switch (guest) {
    case '64-bit':
      // PML4 entry 0 (whole: the CR3 page is shared), PDPT entry 0, then 2-MByte pages in the page directory.
      return [...quad(L.guestCr3, pagingEntry(L.pdpt), true), ...quad(L.pdpt, pagingEntry(L.pageDirectories)), ...directory()];
    case '32-bit-pae':
      // The PDPTEs (in memory at CR3, or in the VMCS with EPT) name the page directories; the first covers 0-1 GByte.
      return directory();
    case '32-bit':
    case 'v8086': {
      const tables = [L.pageTableLow, L.pageTableCode];
      const pdes = tables.flatMap((table, i) => [{ address: L.guestCr3 + 4n * BigInt(i), value: pagingEntry(table) }]);
      const ptes = MAPPED_SMALL_PAGES.flatMap((page) => dword((tables[Number(page >> 22n)] as bigint) + 4n * ((page >> 12n) & 0x3ffn), pagingEntry(page)));
      return [...pdes, ...ptes];
    }
    case 'real':
      return [];
  }
}

/** The EPT identity map (Vol. 3C §29.3.2) under the EPT PML4 the builder's EPTP names. */
export function eptWrites(): MemoryWrite[] {
  const L = GUEST_LAYOUT;
  return [
    ...quad(L.eptPml4, eptEntry(L.eptPdpt)),
    ...quad(L.eptPdpt, eptEntry(L.eptPd)),
    ...MAPPED_LARGE_PAGES.flatMap((page) => quad(L.eptPd + 8n * (page >> 21n), eptEntry(page, true))),
  ];
}

/** Access rights (VMCS format) of the layout's descriptors: the builder's flat code and data, a busy TSS, an LDT. */
export const DESCRIPTOR_ACCESS_RIGHTS = { code64: 0xa09bn, code32: 0xc09bn, data: 0xc093n, busyTss: 0x8bn, ldt: 0x82n } as const;

/** TSS limit (GUEST_TR_LIMIT): 104 bytes. */
const TSS_LIMIT = 0x67n;
const FLAT_LIMIT = 0xffff_ffffn;
/** A rich guest's LDTR limit (the builder's GUEST_LDTR_LIMIT). */
const LDT_LIMIT = 0xffffn;

/** The GDT and TSS of `guest` (Vol. 3A §3.4.5, §8.2.1-§8.2.3, §8.7); none in real-address mode. */
export function descriptorWrites(guest: GuestMode, rich = false): MemoryWrite[] {
  const L = GUEST_LAYOUT;
  const S = GUEST_SELECTORS;
  const mode = deliveryMode(guest);
  if (mode === 'real') return [];
  if (mode === 'ia32e') {
    const [tssLow, tssHigh] = systemDescriptor64(L.tss64, TSS_LIMIT, DESCRIPTOR_ACCESS_RIGHTS.busyTss);
    return [
      ...quad(L.gdt64 + S.code, segmentDescriptor(0n, FLAT_LIMIT, DESCRIPTOR_ACCESS_RIGHTS.code64)),
      ...quad(L.gdt64 + S.data, segmentDescriptor(0n, FLAT_LIMIT, DESCRIPTOR_ACCESS_RIGHTS.data)),
      ...quad(L.gdt64 + S.tss, tssLow),
      ...quad(L.gdt64 + S.tss + 8n, tssHigh),
      ...quad(L.tss64 + TSS64_OFFSET.rsp0, L.ring0Top),
      ...quad(L.tss64 + TSS64_OFFSET.ist1, L.istTop),
    ];
  }
  return [
    ...quad(L.gdt32 + S.code, segmentDescriptor(0n, FLAT_LIMIT, DESCRIPTOR_ACCESS_RIGHTS.code32)),
    ...quad(L.gdt32 + S.data, segmentDescriptor(0n, FLAT_LIMIT, DESCRIPTOR_ACCESS_RIGHTS.data)),
    ...quad(L.gdt32 + S.tss, segmentDescriptor(L.tss32, TSS_LIMIT, DESCRIPTOR_ACCESS_RIGHTS.busyTss)),
    ...(rich ? quad(L.gdt32 + S.ldt, segmentDescriptor(0n, LDT_LIMIT, DESCRIPTOR_ACCESS_RIGHTS.ldt)) : []),
    ...dword(L.tss32 + TSS32_OFFSET.esp0, L.ring0Top),
    ...dword(L.tss32 + TSS32_OFFSET.ss0, S.data),
  ];
}

/** DPL 3 (access-rights bits 6:5) for the user segments. */
const DPL3 = 0x60n;

/**
 * A guest at CPL 3 (protected or IA-32e mode; not real-address or virtual-8086 mode): the VMCS
 * values of its CS and SS (selectors with RPL 3, flat segments with DPL 3, §27.3.1.2: SS.DPL =
 * CS.DPL for a non-conforming code segment, SS.RPL = SS.DPL). DS, ES, FS and GS stay the built
 * flat data segment (DPL 0 ≥ RPL 0). Its handlers are at CPL 0, so a delivery switches stacks.
 */
export function userSegmentFields(guest: GuestMode): [FieldName, bigint][] {
  const code = guest === '64-bit' ? DESCRIPTOR_ACCESS_RIGHTS.code64 : DESCRIPTOR_ACCESS_RIGHTS.code32;
  return [
    ['GUEST_CS_SELECTOR', GUEST_SELECTORS.userCode],
    ['GUEST_CS_ACCESS_RIGHTS', code | DPL3],
    ['GUEST_SS_SELECTOR', GUEST_SELECTORS.userData],
    ['GUEST_SS_ACCESS_RIGHTS', DESCRIPTOR_ACCESS_RIGHTS.data | DPL3],
  ];
}

/** The GDT entries of {@link userSegmentFields} (§3.4.5). */
export function userDescriptorWrites(guest: GuestMode): MemoryWrite[] {
  const gdt = deliveryMode(guest) === 'ia32e' ? GUEST_LAYOUT.gdt64 : GUEST_LAYOUT.gdt32;
  return userSegmentFields(guest)
    .filter(([field]) => field.endsWith('ACCESS_RIGHTS'))
    .flatMap(([field, rights]) => quad(gdt + ((field === 'GUEST_CS_ACCESS_RIGHTS' ? GUEST_SELECTORS.userCode : GUEST_SELECTORS.userData) & ~7n), segmentDescriptor(0n, FLAT_LIMIT, rights)));
}

/** Everything but the gates: paging, EPT (when on), GDT and TSS for a VMCS built with `options`. */
export function environmentWrites(options: BuildOptions): MemoryWrite[] {
  return [...pagingWrites(options.guest), ...(options.ept ? eptWrites() : []), ...descriptorWrites(options.guest, options.rich === true)];
}

/**
 * The gate of `vector` for `guest` (Vol. 3A §6.11, §6.14.1, §21.1.4): to the vector's handler
 * stub in the CPL-0 code segment, DPL 3 unless perturbed. Real mode: CS = 1000H, IP = 16 × vector
 * (the same stub); the variant does not apply.
 */
export function gateWrites(guest: GuestMode, vector: number, variant: GateVariant = VALID_GATE): MemoryWrite[] {
  const mode = deliveryMode(guest);
  const v = BigInt(vector);
  if (mode === 'real') return dword(GUEST_LAYOUT.ivt + 4n * v, ivtEntry(REAL_MODE_HANDLER_SEGMENT, handlerAddress(vector) - GUEST_LAYOUT.handlers));
  const gate = {
    offset: handlerAddress(vector),
    selector: GUEST_SELECTORS.code,
    kind: variant.kind,
    dpl: variant.fault === 'dpl-0' ? 0 : 3,
    present: variant.fault !== 'not-present',
    ist: mode === 'ia32e' && variant.ist ? 1 : 0,
  };
  if (mode === 'protected') return quad(GUEST_LAYOUT.idt32 + 8n * v, gate32(gate));
  const [low, high] = gate64(gate);
  return [...quad(GUEST_LAYOUT.idt64 + 16n * v, low), ...quad(GUEST_LAYOUT.idt64 + 16n * v + 8n, high)];
}

/** Bit 31 (valid) and bits 10:8 (type) of the VM-entry interruption-information field (SDM Vol. 3C §25.8.3). */
const INTERRUPTION_VALID = 1n << 31n;
const TYPE_NMI = 2n;
const TYPE_OTHER_EVENT = 7n;
const NMI_VECTOR = 2;
const DEBUG_VECTOR = 1;

/**
 * The vectors an entry with `values` may deliver through the guest IDT: the injected event's
 * (SDM Vol. 3C §27.6 "Event Injection"; type 7, "other event", delivers nothing) and #DB for pending debug
 * exceptions when the exception bitmap does not make #DB exit (§27.6.3).
 */
export function entryDeliveredVectors(values: ReadonlyMap<FieldName, bigint>): number[] {
  const vectors: number[] = [];
  const info = values.get('VM_ENTRY_INTERRUPTION_INFORMATION') ?? 0n;
  const type = (info >> 8n) & 7n;
  if ((info & INTERRUPTION_VALID) !== 0n && type !== TYPE_OTHER_EVENT) vectors.push(type === TYPE_NMI ? NMI_VECTOR : Number(info & 0xffn));
  const debugExits = ((values.get('EXCEPTION_BITMAP') ?? 0n) >> BigInt(DEBUG_VECTOR)) & 1n;
  if ((values.get('GUEST_PENDING_DEBUG_EXCEPTIONS') ?? 0n) !== 0n && debugExits === 0n) vectors.push(DEBUG_VECTOR);
  return vectors;
}

/** The `write-memory` operations of `writes` on `cpu`. */
export function memoryOperations(cpu: number, writes: readonly MemoryWrite[]): Operation[] {
  return writes.map((w): Operation => ({ kind: 'write-memory', cpu, address: toHex(w.address), value: toHex(w.value) }));
}

/**
 * Lays out a group's environment lazily: the environment the first time a gate is asked for,
 * then each vector's gate once (the n-th gate with the n-th drawn variant).
 */
export class EnvironmentWriter {
  private laid = false;
  private readonly written = new Set<number>();

  constructor(
    private readonly options: BuildOptions,
    private readonly variants: readonly GateVariant[] = [VALID_GATE],
  ) {}

  /** The stores that make `vectors` deliverable, beyond what this writer has already stored. */
  gates(vectors: readonly number[]): MemoryWrite[] {
    const writes: MemoryWrite[] = [];
    for (const vector of vectors) {
      if (this.written.has(vector)) continue;
      if (!this.laid) writes.push(...environmentWrites(this.options));
      this.laid = true;
      const variant = this.variants[this.written.size % Math.max(1, this.variants.length)] ?? VALID_GATE;
      this.written.add(vector);
      writes.push(...gateWrites(this.options.guest, vector, variant));
    }
    return writes;
  }
}
