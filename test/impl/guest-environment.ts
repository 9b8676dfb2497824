/**
 * A guest environment in physical memory for the valid VMCS of test/impl/vm-entry-vmcs.ts, so
 * that events delivered through the guest IDT succeed (SDM Vol. 3A, December 2023, §6.10
 * "Interrupt Descriptor Table (IDT)", §6.14.1 "64-Bit Mode IDT", §3.4.5 "Segment Descriptors",
 * §8.2.1/§8.7 TSS layouts, chapter 4 "Paging"; Vol. 3C §29.3.2 "EPT Translation Mechanism"):
 *
 * - guest paging identity-maps 0-8 MBytes with 2-MByte pages (user, writable): for an IA-32e
 *   guest a PML4 at the guest CR3 (7000H), a PDPT at 64000H and a page directory at 65000H; for a
 *   PAE guest the PDPTE at CR3 pointing at the same page directory;
 * - with "enable EPT", EPT identity-maps the same 8 MBytes (EPT PML4 at 0, as the valid EPTP says;
 *   PDPT 66000H, page directory 67000H, read/write/execute, write-back 2-MByte pages);
 * - the GDT (30000H): 08H ring-0 code (64-bit for an IA-32e guest, else 32-bit), 10H ring-0 data,
 *   20H ring-3 code, 28H ring-3 data (all base 0, limit 4 GBytes);
 * - the IDT (40000H): interrupt gates (DPL 3, selector 08H) for vectors 0-47, handler at
 *   3000H + 10H × vector;
 * - the TSS (50000H): RSP0/ESP0 = A000H (SS0 = 10H for a 32-bit TSS), IST1 = B000H.
 *
 * Expected values in tests follow from this layout and the SDM, never from running impl/.
 */
import { ENTRY_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import type { FieldName } from './vm-entry-vmcs.ts';

export const HANDLER_BASE = 0x3000;
export const GDT = 0x3_0000;
export const IDT = 0x4_0000;
export const TSS = 0x5_0000;
export const RSP0 = 0xa000;
export const IST1 = 0xb000;
export const CODE0 = 0x08;
export const DATA0 = 0x10;
export const CODE3 = 0x23;
export const DATA3 = 0x2b;
/** Vectors with a gate. */
export const GATES = 48;

/** The handler address of `vector`. */
export const handlerOf = (vector: number): number => HANDLER_BASE + vector * 0x10;

/** True when `fields` describe an IA-32e guest ("IA-32e mode guest" = 1). */
export function isLongMode(fields: ReadonlyMap<FieldName, bigint>): boolean {
  return (((fields.get('VM_ENTRY_CONTROLS') ?? 0n) >> BigInt(ENTRY_CONTROL.IA32E_MODE_GUEST)) & 1n) === 1n;
}

/** True when `fields` enable EPT ("activate secondary controls" and "enable EPT" 1). */
export function usesEpt(fields: ReadonlyMap<FieldName, bigint>): boolean {
  const primary = fields.get('PRIMARY_PROCESSOR_BASED_CONTROLS') ?? 0n;
  const secondary = fields.get('SECONDARY_PROCESSOR_BASED_CONTROLS') ?? 0n;
  return ((primary >> BigInt(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS)) & 1n) === 1n && ((secondary >> BigInt(SECONDARY_CONTROL.ENABLE_EPT)) & 1n) === 1n;
}

/** The environment for the guest `fields` describe (see {@link guestEnvironment}). */
export function environmentFor(fields: ReadonlyMap<FieldName, bigint>): [number, number][] {
  return guestEnvironment(isLongMode(fields), usesEpt(fields));
}

/**
 * The 32-bit words (address, value) of the environment for an IA-32e (`long`) or 32-bit guest;
 * the EPT tables only with `ept` (their EPT PML4 at physical 0 would otherwise be read as PAE
 * PDPTEs by a guest whose CR3 is 0).
 */
export function guestEnvironment(long: boolean, ept = false): [number, number][] {
  const words: [number, number][] = [];
  const put = (address: number, lo: number, hi = 0): void => {
    words.push([address, lo >>> 0]);
    if (hi !== 0) words.push([address + 4, hi >>> 0]);
  };
  // Guest paging: 2-MByte pages 0-8 MBytes (P, R/W, U/S, PS).
  if (long) {
    put(0x7000, 0x6_4000 | 7);
    put(0x6_4000, 0x6_5000 | 7);
  } else {
    put(0x7000, 0x6_5000 | 1);
  }
  for (let i = 0; i < 4; i++) put(0x6_5000 + i * 8, (i << 21) | 0x87);
  // EPT: read/write/execute, memory type 6 (write-back), 2-MByte pages.
  if (ept) {
    put(0, 0x6_6000 | 7);
    put(0x6_6000, 0x6_7000 | 7);
    for (let i = 0; i < 4; i++) put(0x6_7000 + i * 8, (i << 21) | 0x80 | (6 << 3) | 7);
  }
  // GDT: code and data descriptors (base 0, limit FFFFFH, G = 1, accessed).
  const code = long ? 0x00a0_9b00 : 0x00c0_9b00;
  put(GDT + CODE0, 0xffff, code | 0xf_0000);
  put(GDT + DATA0, 0xffff, 0x00cf_9300);
  put(GDT + (CODE3 & ~3), 0xffff, (code | 0xf_0000) | 0x6000);
  put(GDT + (DATA3 & ~3), 0xffff, 0x00cf_f300);
  // IDT: interrupt gates, P = 1, DPL = 3, type EH.
  for (let vector = 0; vector < GATES; vector++) {
    const handler = handlerOf(vector);
    const at = IDT + vector * (long ? 16 : 8);
    put(at, (CODE0 << 16) | (handler & 0xffff), (handler & 0xffff_0000) | 0xee00);
  }
  // TSS: the stack pointers for CPL 0 and IST1.
  put(TSS + 4, RSP0);
  if (long) put(TSS + 0x24, IST1);
  else put(TSS + 8, DATA0);
  return words;
}
