/**
 * A small decoder of guest memory for the guest-environment tests, written from the SDM's
 * structure formats (December 2023), independent of spec/guest-layout.ts's encoders:
 * - Vol. 3A §4.5 "4-Level Paging and 5-Level Paging": PML4 index = linear bits 47:39, PDPT 38:30,
 *   PD 29:21, PT 20:12; 8-byte entries, P = bit 0, R/W = 1, U/S = 2, PS = bit 7 (a PDPTE with PS
 *   maps 1 GByte, a PDE with PS maps 2 MBytes, frame in bits 51:21, bits 20:13 reserved).
 * - §4.4 "PAE Paging": four PDPTEs (linear bits 31:30) at CR3 bits 31:5, then as above.
 * - §4.3 "32-Bit Paging": 4-byte entries, PD index = linear bits 31:22, PT index 21:12.
 * - Vol. 3C §29.3.2 "EPT Translation Mechanism": the same indices as 4-level paging, an entry is
 *   present when any of bits 2:0 (R, W, X) is set, bit 7 in a PDE maps 2 MBytes, bits 5:3 of a
 *   leaf are the memory type (2, 3, 7 are misconfigurations), W without R is a misconfiguration.
 * - §3.4.5 "Segment Descriptors": limit 15:0 and 51:48, base 39:16 and 63:56, type 43:40, S 44,
 *   DPL 46:45, P 47, AVL 52, L 53, D/B 54, G 55.
 * - §6.14.1 "64-Bit Mode IDT" and §6.11 "IDT Descriptors": offset 15:0, selector 31:16, IST 34:32,
 *   type 43:40, DPL 46:45, P 47, offset 63:48, and (64-bit) offset 95:64.
 */

/** Memory as the tests see it: a 32-bit word per aligned address, zero where never written. */
export type Words = (address: bigint) => bigint;

/** Memory after `writes`, in order. */
export function wordsOf(writes: readonly { address: bigint; value: bigint }[]): Words {
  const map = new Map<bigint, bigint>();
  for (const w of writes) map.set(w.address, w.value);
  return (address) => map.get(address) ?? 0n;
}

const qword = (m: Words, address: bigint): bigint => m(address) | (m(address + 4n) << 32n);
const bits = (value: bigint, high: number, low: number): bigint => (value >> BigInt(low)) & ((1n << BigInt(high - low + 1)) - 1n);

/** A translation: the physical address, or why it failed. */
export type Walk = { ok: true; physical: bigint } | { ok: false; why: string };

/** A 4-level walk of `linear` from `cr3`. */
export function walk4(m: Words, cr3: bigint, linear: bigint): Walk {
  let table = cr3 & ~0xfffn;
  for (const [level, low] of [['PML4E', 39], ['PDPTE', 30], ['PDE', 21], ['PTE', 12]] as const) {
    const entry = qword(m, table + 8n * bits(linear, low + 8, low));
    if ((entry & 1n) === 0n) return { ok: false, why: `${level} not present` };
    if ((entry & 6n) !== 6n) return { ok: false, why: `${level} not writable and user` };
    const ps = (entry >> 7n) & 1n;
    if (level === 'PML4E' && ps === 1n) return { ok: false, why: 'PML4E PS set (reserved)' };
    if (level === 'PDE' && ps === 1n) {
      if (bits(entry, 20, 13) !== 0n) return { ok: false, why: 'PDE reserved bits 20:13' };
      return { ok: true, physical: (bits(entry, 51, 21) << 21n) | bits(linear, 20, 0) };
    }
    if (level === 'PDPTE' && ps === 1n) return { ok: false, why: 'unexpected 1-GByte page' };
    table = bits(entry, 51, 12) << 12n;
  }
  return { ok: true, physical: table | bits(linear, 11, 0) };
}

/** A PAE walk of `linear` from the four PDPTEs `pdptes` (memory at CR3 or the VMCS fields). */
export function walkPae(m: Words, pdptes: readonly bigint[], linear: bigint): Walk {
  const pdpte = pdptes[Number(bits(linear, 31, 30))] ?? 0n;
  if ((pdpte & 1n) === 0n) return { ok: false, why: 'PDPTE not present' };
  const pde = qword(m, (bits(pdpte, 51, 12) << 12n) + 8n * bits(linear, 29, 21));
  if ((pde & 1n) === 0n) return { ok: false, why: 'PDE not present' };
  if (((pde >> 7n) & 1n) === 1n) return { ok: true, physical: (bits(pde, 51, 21) << 21n) | bits(linear, 20, 0) };
  const pte = qword(m, (bits(pde, 51, 12) << 12n) + 8n * bits(linear, 20, 12));
  if ((pte & 1n) === 0n) return { ok: false, why: 'PTE not present' };
  return { ok: true, physical: (bits(pte, 51, 12) << 12n) | bits(linear, 11, 0) };
}

/** A 32-bit-paging walk of `linear` from `cr3` with CR4.PSE = 0 (every PDE references a page table). */
export function walk32(m: Words, cr3: bigint, linear: bigint): Walk {
  const pde = m((cr3 & ~0xfffn) + 4n * bits(linear, 31, 22));
  if ((pde & 1n) === 0n) return { ok: false, why: 'PDE not present' };
  const pte = m((pde & ~0xfffn) + 4n * bits(linear, 21, 12));
  if ((pte & 1n) === 0n) return { ok: false, why: 'PTE not present' };
  if ((pde & pte & 6n) !== 6n) return { ok: false, why: 'not writable and user' };
  return { ok: true, physical: (pte & ~0xfffn) | bits(linear, 11, 0) };
}

/** An EPT walk of guest-physical `address` under `eptp` (walk length 4). */
export function walkEpt(m: Words, eptp: bigint, address: bigint): Walk {
  let table = bits(eptp, 51, 12) << 12n;
  for (const [level, low] of [['PML4E', 39], ['PDPTE', 30], ['PDE', 21], ['PTE', 12]] as const) {
    const entry = qword(m, table + 8n * bits(address, low + 8, low));
    if ((entry & 7n) === 0n) return { ok: false, why: `EPT ${level} not present` };
    if ((entry & 7n) !== 7n) return { ok: false, why: `EPT ${level} not read/write/execute` };
    const leaf = level === 'PTE' || (level === 'PDE' && ((entry >> 7n) & 1n) === 1n);
    if (!leaf) {
      if (bits(entry, 7, 3) !== 0n) return { ok: false, why: `EPT ${level} reserved bits 7:3` };
      table = bits(entry, 51, 12) << 12n;
      continue;
    }
    const type = bits(entry, 5, 3);
    if (type === 2n || type === 3n || type === 7n) return { ok: false, why: `EPT memory type ${type}` };
    if (level === 'PDE') return { ok: true, physical: (bits(entry, 51, 21) << 21n) | bits(address, 20, 0) };
    return { ok: true, physical: (bits(entry, 51, 12) << 12n) | bits(address, 11, 0) };
  }
  return { ok: false, why: 'unreachable' };
}

/** A segment descriptor's fields. */
export interface Descriptor {
  base: bigint;
  /** The byte limit (scaled by G). */
  limit: bigint;
  type: number;
  s: number;
  dpl: number;
  p: number;
  l: number;
  db: number;
  g: number;
}

/** The 8-byte descriptor at `address`. */
export function descriptorAt(m: Words, address: bigint): Descriptor {
  const d = qword(m, address);
  const raw = bits(d, 15, 0) | (bits(d, 51, 48) << 16n);
  const g = Number(bits(d, 55, 55));
  return {
    base: bits(d, 39, 16) | (bits(d, 63, 56) << 24n),
    limit: g === 1 ? (raw << 12n) | 0xfffn : raw,
    type: Number(bits(d, 43, 40)),
    s: Number(bits(d, 44, 44)),
    dpl: Number(bits(d, 46, 45)),
    p: Number(bits(d, 47, 47)),
    l: Number(bits(d, 53, 53)),
    db: Number(bits(d, 54, 54)),
    g,
  };
}

/** The VMCS access-rights form of a descriptor (§25.4.1). */
export function accessRightsOf(d: Descriptor): bigint {
  return BigInt(d.type | (d.s << 4) | (d.dpl << 5) | (d.p << 7) | (d.l << 13) | (d.db << 14) | (d.g << 15));
}

/** A gate's fields. */
export interface GateFields {
  offset: bigint;
  selector: bigint;
  ist: number;
  type: number;
  dpl: number;
  p: number;
}

/** The gate at `address`: 16 bytes when `wide` (IA-32e), else 8. */
export function gateAt(m: Words, address: bigint, wide: boolean): GateFields {
  const g = qword(m, address);
  const high = wide ? bits(qword(m, address + 8n), 31, 0) << 32n : 0n;
  return {
    offset: bits(g, 15, 0) | (bits(g, 63, 48) << 16n) | high,
    selector: bits(g, 31, 16),
    ist: wide ? Number(bits(g, 34, 32)) : 0,
    type: Number(bits(g, 43, 40)),
    dpl: Number(bits(g, 46, 45)),
    p: Number(bits(g, 47, 47)),
  };
}

/** The 8-byte little-endian value at `address`. */
export function qwordAt(m: Words, address: bigint): bigint {
  return qword(m, address);
}
