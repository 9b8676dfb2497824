/**
 * The guest environment the generators lay out in memory before a guest runs: the addresses of
 * its paging structures, EPT paging structures, GDT, IDT, TSS, stacks and handler entry points,
 * and the encoders of each entry in the format the SDM gives it. A real hypervisor gives its
 * guest these structures; here they are written with `write-memory` steps (the generators'
 * properties/generators/guest-environment.ts), so that an event delivered through the guest IDT
 * finds a present gate, a code-segment descriptor, a TSS stack pointer and a mapped stack.
 * bochs/README.md designs this module as the contract the Bochs agent will share.
 *
 * Every address is identity-mapped (linear = guest-physical = physical) and lies in two regions:
 * the first 2 MBytes (all the structures below, the VMCS and VMXON regions of values.ts and the
 * bitmaps of the other step groups) and 4-6 MBytes (the guest code at {@link GUEST_LAYOUT}
 * `.guestRip` and the data addresses guest operations name). The pages used here are free of
 * every other structure the generators write: VMXON/VMCS/shadow regions 1000H-8000H, host CR3
 * 20000H, the link region 28000H, the I/O, MSR and VMREAD/VMWRITE bitmaps 30000H-34000H, the
 * virtual-APIC pages 35000H-36000H and 51000H-5B000H, and the CR3-target values 23000H-26000H a
 * guest MOV to CR3 may load. The PAE page directories at 29000H (which the VMCS builder's PDPTEs
 * name) are reused as the 4-level page directory.
 *
 * Sources (SDM, December 2023): Vol. 3A §4.3 "32-Bit Paging", §4.4 "PAE Paging", §4.5 "4-Level
 * Paging and 5-Level Paging" (entry formats, Tables 4-4 to 4-20); Vol. 3C §29.3.2 "EPT
 * Translation Mechanism" (Tables 29-1 to 29-6); Vol. 3A §3.4.5 "Segment Descriptors", §8.2.2
 * "TSS Descriptor", §8.2.3 "TSS Descriptor in 64-bit mode"; §6.11 "IDT Descriptors" (32-bit
 * gates), §6.14.1 "64-Bit Mode IDT" (16-byte gates, IST); §8.2.1 "Task-State Segment (TSS)"
 * (32-bit TSS: ESP0 at 4, SS0 at 8), §8.7 "Task Management in 64-bit Mode" (64-bit TSS: RSP0 at
 * 4, IST1 at 24H); §21.1.4 "Interrupt and Exception Handling" (the real-address-mode interrupt
 * vector table: 4-byte entries, offset then segment).
 */
import { sdm, type Citation } from './citation.ts';

/** Where each structure's format is defined. */
export const GUEST_LAYOUT_CITATIONS: Readonly<Record<string, Citation>> = {
  paging32: sdm('4.3', '32-Bit Paging', '3A'),
  pagingPae: sdm('4.4', 'PAE Paging', '3A'),
  paging4: sdm('4.5', '4-Level Paging and 5-Level Paging', '3A'),
  ept: sdm('29.3.2', 'EPT Translation Mechanism'),
  segmentDescriptor: sdm('3.4.5', 'Segment Descriptors', '3A'),
  tssDescriptor: sdm('8.2.2', 'TSS Descriptor', '3A'),
  tssDescriptor64: sdm('8.2.3', 'TSS Descriptor in 64-bit mode', '3A'),
  gate32: sdm('6.11', 'IDT Descriptors', '3A'),
  gate64: sdm('6.14.1', '64-Bit Mode IDT', '3A'),
  tss32: sdm('8.2.1', 'Task-State Segment (TSS)', '3A'),
  tss64: sdm('8.7', 'Task Management in 64-bit Mode', '3A'),
  ivt: sdm('21.1.4', 'Interrupt and Exception Handling', '3A'),
};

/** Addresses of the guest environment (physical = guest-physical = linear: every map is the identity). */
export const GUEST_LAYOUT = {
  /** The host's CR3 (HOST_CR3; the host's tables are the engine's business, not laid out here). */
  hostCr3: 0x20000n,
  /**
   * GUEST_CR3: the 4-level PML4, the 32-bit page directory or the PAE PDPT, by guest mode. Shared
   * by every mode, so entries here are written whole (both halves, zeros included): an earlier
   * group of another mode may have left other bits in the same words.
   */
  guestCr3: 0x21000n,
  /** The EPT PML4 table (EPT_POINTER bits 51:12). */
  eptPml4: 0x22000n,
  /** The region the VMCS link pointer references when in use. */
  linkRegion: 0x28000n,
  /** Four PAE page directories (the builder's PDPTEs name them); the first is also the 4-level page directory. */
  pageDirectories: 0x29000n,
  /** The 4-level page-directory-pointer table (PML4 entry 0 names it). */
  pdpt: 0x9000n,
  /** 32-bit paging: the page table for linear 0-4 MBytes (the environment's pages). */
  pageTableLow: 0xa000n,
  /** 32-bit paging: the page table for linear 4-8 MBytes (the guest code page). */
  pageTableCode: 0xb000n,
  /** IA-32e GDT (16 descriptors: limit 7FH, GUEST_GDTR_LIMIT). */
  gdt64: 0xc000n,
  /** Protected-mode GDT. */
  gdt32: 0xc100n,
  /** 64-bit TSS (limit 67H, GUEST_TR_LIMIT). */
  tss64: 0xc200n,
  /** 32-bit TSS. */
  tss32: 0xc300n,
  /** IA-32e IDT: 256 16-byte gates (limit FFFH, GUEST_IDTR_LIMIT). */
  idt64: 0xd000n,
  /** Protected-mode IDT: 256 8-byte gates. */
  idt32: 0xe000n,
  /** Real-address-mode interrupt vector table: 256 4-byte entries. */
  ivt: 0xe800n,
  /** The stack page; the three stacks below grow down inside it. */
  stackPage: 0xf000n,
  /** Top of the IST1 stack (TSS IST1). */
  istTop: 0xf400n,
  /** Top of the privilege-level-0 stack (TSS RSP0 / ESP0). */
  ring0Top: 0xf800n,
  /** GUEST_RSP: the guest's own stack, below 64 KBytes so that a real-address-mode SP reaches it with SS base 0. */
  guestRsp: 0xfff0n,
  /** Handler entry points: vector v enters at `handlers + 16·v` (a page of 256 16-byte stubs). */
  handlers: 0x10000n,
  /** The EPT page-directory-pointer table. */
  eptPdpt: 0x11000n,
  /** The EPT page directory. */
  eptPd: 0x12000n,
  /** HOST_RIP. */
  hostRip: 0x40_1000n,
  /** GUEST_RIP: the guest code page. */
  guestRip: 0x40_2000n,
} as const;

/**
 * Guest selectors: flat code, flat data, the TSS and the LDT a rich guest names (GDT, RPL 0), and
 * the flat code and data of a guest at CPL 3 (GDT entries 5 and 6, RPL 3; clear of the 16-byte
 * IA-32e TSS descriptor at 18H-27H).
 */
export const GUEST_SELECTORS = { code: 0x08n, data: 0x10n, tss: 0x18n, ldt: 0x20n, userCode: 0x2bn, userData: 0x33n } as const;

/** The real-address-mode handler segment: CS = 1000H, so that CS × 16 = {@link GUEST_LAYOUT}.handlers. */
export const REAL_MODE_HANDLER_SEGMENT = GUEST_LAYOUT.handlers >> 4n;

/** The 2-MByte regions the identity maps cover: the environment (0-2 MBytes) and the guest code (4-6 MBytes). */
export const MAPPED_LARGE_PAGES: readonly bigint[] = [0n, 0x40_0000n];

/** The 4-KByte pages 32-bit paging maps (it uses 4-KByte pages: the built guests have CR4.PSE = 0). */
export const MAPPED_SMALL_PAGES: readonly bigint[] = [GUEST_LAYOUT.gdt32 & ~0xfffn, GUEST_LAYOUT.idt32, GUEST_LAYOUT.stackPage, GUEST_LAYOUT.handlers, GUEST_LAYOUT.guestRip];

/** The entry point of the handler of `vector`. */
export function handlerAddress(vector: number): bigint {
  return GUEST_LAYOUT.handlers + 16n * BigInt(vector);
}

const bit = (n: number): bigint => 1n << BigInt(n);

/** Paging-entry flags (Vol. 3A §4.3-§4.5): present, read/write, user/supervisor, page size. */
export const PAGE = { P: bit(0), RW: bit(1), US: bit(2), PS: bit(7) } as const;

/**
 * A paging-structure entry that references the next table or maps a page at `address`: present,
 * writable and user-accessible (so a guest at any CPL may run; implicit supervisor accesses of
 * delivery are allowed to user pages while CR4.SMAP = 0), PS for a 2-MByte page.
 */
export function pagingEntry(address: bigint, large = false): bigint {
  return address | PAGE.P | PAGE.RW | PAGE.US | (large ? PAGE.PS : 0n);
}

/** EPT entry bits (Vol. 3C §29.3.2): read, write, execute, memory type WB (6) in bits 5:3, bit 7 = maps a page. */
export const EPT = { R: bit(0), W: bit(1), X: bit(2), MEMORY_TYPE_WB: 6n << 3n, LARGE: bit(7) } as const;

/** An EPT entry that references the next EPT table (RWX) or (`large`) maps a 2-MByte page RWX with memory type WB. */
export function eptEntry(address: bigint, large = false): bigint {
  return address | EPT.R | EPT.W | EPT.X | (large ? EPT.MEMORY_TYPE_WB | EPT.LARGE : 0n);
}

/**
 * The 8-byte segment descriptor (§3.4.5) whose base, limit and access rights a VMCS holds:
 * access rights in the VMCS format (§25.4.1: type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14,
 * G 15) land in descriptor bits 47:40 and 55:52; `limit` is the byte-granular limit of the
 * segment register, stored in 20 bits (scaled down by 4 KBytes when G = 1).
 */
export function segmentDescriptor(base: bigint, limit: bigint, accessRights: bigint): bigint {
  const g = (accessRights & bit(15)) !== 0n;
  const raw = g ? limit >> 12n : limit;
  return (
    (raw & 0xffffn) |
    ((base & 0xff_ffffn) << 16n) |
    ((accessRights & 0xffn) << 40n) |
    (((raw >> 16n) & 0xfn) << 48n) |
    (((accessRights >> 12n) & 0xfn) << 52n) |
    (((base >> 24n) & 0xffn) << 56n)
  );
}

/** The 16-byte TSS (or LDT) descriptor of IA-32e mode (§8.2.3): the 8-byte form, then base 63:32, then a zero type field. */
export function systemDescriptor64(base: bigint, limit: bigint, accessRights: bigint): [bigint, bigint] {
  return [segmentDescriptor(base & 0xffff_ffffn, limit, accessRights), (base >> 32n) & 0xffff_ffffn];
}

/** Gate kinds: an interrupt gate clears RFLAGS.IF, a trap gate leaves it (§6.12.1.3). */
export type GateKind = 'interrupt' | 'trap';

/** Gate type field values (Table 3-2): 32-bit (or, in IA-32e mode, 64-bit) interrupt gate EH, trap gate FH. */
export const GATE_TYPE: Readonly<Record<GateKind, bigint>> = { interrupt: 0xen, trap: 0xfn };

/** What a gate holds. */
export interface Gate {
  offset: bigint;
  selector: bigint;
  kind: GateKind;
  dpl: number;
  present: boolean;
  /** IA-32e only: the IST index (0 = no stack switch by IST). */
  ist?: number;
}

/** Bits 47:32 of a gate (both formats): IST 2:0 (IA-32e), type 11:8, DPL 14:13, P 15, at bit 32. */
function gateAttributes(gate: Gate): bigint {
  return (BigInt(gate.ist ?? 0) & 7n) | (GATE_TYPE[gate.kind] << 8n) | ((BigInt(gate.dpl) & 3n) << 13n) | (gate.present ? bit(15) : 0n);
}

/** The 8-byte 32-bit interrupt or trap gate (§6.11): offset 15:0, selector, attributes, offset 31:16. */
export function gate32(gate: Gate): bigint {
  return (gate.offset & 0xffffn) | ((gate.selector & 0xffffn) << 16n) | ((gateAttributes(gate) & 0xff00n) << 32n) | (((gate.offset >> 16n) & 0xffffn) << 48n);
}

/** The 16-byte 64-bit interrupt or trap gate (§6.14.1): the 8-byte form with IST, then offset 63:32, then reserved zeros. */
export function gate64(gate: Gate): [bigint, bigint] {
  const low = (gate.offset & 0xffffn) | ((gate.selector & 0xffffn) << 16n) | (gateAttributes(gate) << 32n) | (((gate.offset >> 16n) & 0xffffn) << 48n);
  return [low, (gate.offset >> 32n) & 0xffff_ffffn];
}

/** A real-address-mode vector-table entry (§21.1.4): the handler's offset in bits 15:0, its segment in bits 31:16. */
export function ivtEntry(segment: bigint, offset: bigint): bigint {
  return (offset & 0xffffn) | ((segment & 0xffffn) << 16n);
}

/** Byte offsets in the 64-bit TSS (§8.7, Figure 8-11): RSP0 at 4, IST1 at 24H (each 8 bytes). */
export const TSS64_OFFSET = { rsp0: 0x4n, ist1: 0x24n } as const;

/** Byte offsets in the 32-bit TSS (§8.2.1, Figure 8-2): ESP0 at 4, SS0 at 8. */
export const TSS32_OFFSET = { esp0: 0x4n, ss0: 0x8n } as const;
