import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvironmentWriter, environmentWrites, gateVariantArbitrary, gateWrites, VALID_GATE, type GateVariant } from '../../properties/generators/guest-environment.ts';
import { buildMemory, buildVmcs, supportedOptions, type BuildOptions, type GuestMode } from '../../properties/generators/vmcs-builder.ts';
import { GUEST_LAYOUT } from '../../spec/guest-layout.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { accessRightsOf, descriptorAt, gateAt, qwordAt, walk32, walk4, walkEpt, walkPae, wordsOf, type Walk, type Words } from './guest-environment-decoder.ts';

const skylake = loadProfile('skylake');
const OPTIONS = supportedOptions(skylake);
const CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;
const EFER_LMA = 1n << 10n;

/** Every memory write the VMCS built with `options` needs, then the environment and the gates of `vectors`. */
function memoryFor(options: BuildOptions, vectors: readonly number[], variants?: readonly GateVariant[]): { m: Words; values: Map<string, bigint> } {
  const values = buildVmcs(skylake, options) as Map<string, bigint>;
  const writes = [...buildMemory(skylake, options), ...new EnvironmentWriter(options, variants).gates(vectors)];
  return { m: wordsOf(writes), values };
}

/** Linear → physical as the guest built with `values` translates it (paging by CR0.PG, CR4.PAE, EFER.LMA; then EPT). */
function translate(m: Words, values: Map<string, bigint>, linear: bigint, eptOn: boolean): Walk {
  const cr0 = values.get('GUEST_CR0') ?? 0n;
  const cr3 = values.get('GUEST_CR3') ?? 0n;
  const ept = eptOn ? values.get('EPT_POINTER') : undefined;
  const physical = (guestPhysical: bigint): Walk => (ept === undefined ? { ok: true, physical: guestPhysical } : walkEpt(m, ept, guestPhysical));
  // Every paging-structure access goes through EPT too: check the root tables translate to themselves.
  if ((cr0 & CR0_PG) === 0n) return physical(linear);
  let walk: Walk;
  if (((values.get('GUEST_IA32_EFER') ?? 0n) & EFER_LMA) !== 0n) walk = walk4(m, cr3, linear);
  else if (((values.get('GUEST_CR4') ?? 0n) & CR4_PAE) !== 0n) {
    const pdptes = ept === undefined ? [0n, 1n, 2n, 3n].map((n) => qwordAt(m, cr3 + 8n * n)) : [0, 1, 2, 3].map((n) => values.get(`GUEST_PDPTE${n}`) ?? 0n);
    walk = walkPae(m, pdptes, linear);
  } else walk = walk32(m, cr3, linear);
  return walk.ok ? physical(walk.physical) : walk;
}

/** The addresses a delivery of `vector` touches in a guest built with `values`: the gate, the descriptors, the TSS, the stacks, the handler. */
function touched(values: Map<string, bigint>, guest: GuestMode, vector: number): bigint[] {
  const idtr = values.get('GUEST_IDTR_BASE') ?? 0n;
  const gdtr = values.get('GUEST_GDTR_BASE') ?? 0n;
  const tr = values.get('GUEST_TR_BASE') ?? 0n;
  const rsp = values.get('GUEST_RSP') ?? 0n;
  const handler = GUEST_LAYOUT.handlers + 16n * BigInt(vector);
  if (guest === 'real') return [idtr + 4n * BigInt(vector), rsp - 6n, handler];
  const gate = guest === '64-bit' ? idtr + 16n * BigInt(vector) : idtr + 8n * BigInt(vector);
  return [gate, gdtr + 0x08n, gdtr + 0x10n, gdtr + 0x18n, tr, tr + 0x24n, rsp - 8n, GUEST_LAYOUT.ring0Top - 8n, GUEST_LAYOUT.istTop - 8n, handler, values.get('GUEST_RIP') ?? 0n];
}

describe('the guest environment: paging and EPT (SDM Vol. 3A §4.3-§4.5, Vol. 3C §29.3.2)', () => {
  it('maps every address a delivery touches to itself, in every guest mode the builder offers (paging, then EPT)', () => {
    for (const options of OPTIONS) {
      if (options.guest === 'v8086') continue; // delivery in virtual-8086 mode is not modelled; its 32-bit paging is checked below
      const { m, values } = memoryFor(options, [13]);
      for (const address of touched(values, options.guest, 13)) {
        expect(translate(m, values, address, options.ept), `${JSON.stringify(options)} ${address.toString(16)}`).toEqual({ ok: true, physical: address });
      }
    }
  });

  it('EPT also maps the guest paging structures themselves (every walk access is translated)', () => {
    for (const options of OPTIONS.filter((o) => o.ept)) {
      const { m, values } = memoryFor(options, [6]);
      for (const table of [GUEST_LAYOUT.guestCr3, GUEST_LAYOUT.pdpt, GUEST_LAYOUT.pageDirectories, GUEST_LAYOUT.pageTableLow, GUEST_LAYOUT.pageTableCode]) {
        expect(walkEpt(m, values.get('EPT_POINTER') as bigint, table)).toEqual({ ok: true, physical: table });
      }
    }
  });

  it('a virtual-8086 guest has 32-bit paging over the environment', () => {
    const options = OPTIONS.find((o) => o.guest === 'v8086') as BuildOptions;
    const { m } = memoryFor(options, [13]);
    for (const address of [GUEST_LAYOUT.idt32 + 8n * 13n, GUEST_LAYOUT.gdt32 + 8n, GUEST_LAYOUT.tss32 + 4n, GUEST_LAYOUT.ring0Top - 4n]) {
      expect(walk32(m, GUEST_LAYOUT.guestCr3, address)).toEqual({ ok: true, physical: address });
    }
  });

  it('leaves 1 GByte and up unmapped (only the two regions of the layout)', () => {
    const { m, values } = memoryFor(OPTIONS.find((o) => o.guest === '64-bit' && !o.ept) as BuildOptions, [6]);
    expect(translate(m, values, 0x4000_0000n, false).ok).toBe(false);
    expect(translate(m, values, 0x20_0000n, false).ok).toBe(false);
  });

  it('keeps the guest CR3 page valid when groups of different modes take turns in one case (entries there are written whole)', () => {
    const long = OPTIONS.find((o) => o.guest === '64-bit' && !o.ept) as BuildOptions;
    const flat = OPTIONS.find((o) => o.guest === '32-bit' && !o.ept) as BuildOptions;
    const pae = OPTIONS.find((o) => o.guest === '32-bit-pae' && !o.ept) as BuildOptions;
    const env = (o: BuildOptions) => [...buildMemory(skylake, o), ...environmentWrites(o)];
    const after32 = wordsOf([...env(flat), ...env(long)]);
    expect(walk4(after32, GUEST_LAYOUT.guestCr3, GUEST_LAYOUT.idt64)).toEqual({ ok: true, physical: GUEST_LAYOUT.idt64 });
    const afterPae = wordsOf([...env(pae), ...env(long), ...env(flat)]);
    expect(walk32(afterPae, GUEST_LAYOUT.guestCr3, GUEST_LAYOUT.idt32)).toEqual({ ok: true, physical: GUEST_LAYOUT.idt32 });
    const after64 = wordsOf([...env(long), ...env(pae)]);
    const pdptes = [0n, 1n, 2n, 3n].map((n) => qwordAt(after64, GUEST_LAYOUT.guestCr3 + 8n * n));
    expect(walkPae(after64, pdptes, GUEST_LAYOUT.idt32)).toEqual({ ok: true, physical: GUEST_LAYOUT.idt32 });
  });

  it('stays clear of the structures other steps use (VMXON/VMCS regions, bitmaps, virtual-APIC pages, CR3-target values)', () => {
    const busy = [[0x1000n, 0x9000n], [0x20000n, 0x21000n], [0x23000n, 0x29000n], [0x2d000n, 0x60000n]] as const;
    for (const options of OPTIONS) {
      for (const w of new EnvironmentWriter(options).gates([0, 1, 2, 3, 6, 13, 14, 0x80])) {
        expect(busy.some(([low, high]) => w.address >= low && w.address < high), w.address.toString(16)).toBe(false);
      }
    }
  });
});

describe('the guest environment: GDT, TSS and gates (SDM Vol. 3A §3.4.5, §6.11, §6.14.1, §8.2.1, §8.7, §21.1.4)', () => {
  it('has GDT descriptors that match the guest segment registers the builder loads (CS, SS, TR)', () => {
    for (const options of OPTIONS.filter((o) => o.guest === '64-bit' || o.guest === '32-bit' || o.guest === '32-bit-pae')) {
      const { m, values } = memoryFor(options, [13]);
      const gdtr = values.get('GUEST_GDTR_BASE') as bigint;
      for (const seg of ['CS', 'SS', 'TR'] as const) {
        const selector = values.get(`GUEST_${seg}_SELECTOR`) as bigint;
        expect(selector + 7n).toBeLessThanOrEqual(values.get('GUEST_GDTR_LIMIT') as bigint);
        const d = descriptorAt(m, gdtr + (selector & ~7n));
        expect(accessRightsOf(d), `${options.guest} ${seg}`).toBe(values.get(`GUEST_${seg}_ACCESS_RIGHTS`));
        expect(d.limit, `${options.guest} ${seg}`).toBe(values.get(`GUEST_${seg}_LIMIT`));
        expect(d.base, `${options.guest} ${seg}`).toBe(values.get(`GUEST_${seg}_BASE`) ?? 0n);
      }
      if (options.guest === '64-bit') expect(qwordAt(m, gdtr + 0x20n) & 0xffff_ffffn).toBe(0n); // TSS base 63:32
    }
  });

  it('has a rich protected-mode guest\'s LDT descriptor where its LDTR points', () => {
    const options = OPTIONS.find((o) => o.guest === '32-bit' && o.rich === true) as BuildOptions;
    const { m, values } = memoryFor(options, [13]);
    const d = descriptorAt(m, (values.get('GUEST_GDTR_BASE') as bigint) + (values.get('GUEST_LDTR_SELECTOR') as bigint));
    expect(accessRightsOf(d)).toBe(values.get('GUEST_LDTR_ACCESS_RIGHTS'));
    expect(d.limit).toBe(values.get('GUEST_LDTR_LIMIT'));
  });

  it('has a 64-bit TSS with RSP0 and IST1 on mapped stacks, and a 32-bit TSS with SS0:ESP0', () => {
    const long = memoryFor(OPTIONS.find((o) => o.guest === '64-bit') as BuildOptions, [13]);
    const tss64 = long.values.get('GUEST_TR_BASE') as bigint;
    expect(qwordAt(long.m, tss64 + 4n)).toBe(GUEST_LAYOUT.ring0Top); // RSP0
    expect(qwordAt(long.m, tss64 + 0x24n)).toBe(GUEST_LAYOUT.istTop); // IST1
    expect(GUEST_LAYOUT.ring0Top % 16n).toBe(0n);
    const flat = memoryFor(OPTIONS.find((o) => o.guest === '32-bit') as BuildOptions, [13]);
    const tss32 = flat.values.get('GUEST_TR_BASE') as bigint;
    expect(flat.m(tss32 + 4n)).toBe(GUEST_LAYOUT.ring0Top); // ESP0
    expect(flat.m(tss32 + 8n) & 0xffffn).toBe(flat.values.get('GUEST_SS_SELECTOR')); // SS0: the flat data segment
    const ss0 = descriptorAt(flat.m, (flat.values.get('GUEST_GDTR_BASE') as bigint) + 0x10n);
    expect([ss0.type & 0xa, ss0.dpl, ss0.p]).toEqual([2, 0, 1]); // writable data, DPL 0, present
  });

  it('has a present 64-bit interrupt gate to the vector\'s handler in a CPL-0 64-bit code segment', () => {
    const { m, values } = memoryFor(OPTIONS.find((o) => o.guest === '64-bit') as BuildOptions, [14]);
    const gate = gateAt(m, (values.get('GUEST_IDTR_BASE') as bigint) + 16n * 14n, true);
    expect(gate).toEqual({ offset: GUEST_LAYOUT.handlers + 16n * 14n, selector: 0x08n, ist: 0, type: 0xe, dpl: 3, p: 1 });
    const cs = descriptorAt(m, (values.get('GUEST_GDTR_BASE') as bigint) + gate.selector);
    expect([cs.type & 8, cs.dpl, cs.p, cs.l, cs.db]).toEqual([8, 0, 1, 1, 0]); // code, DPL 0, present, 64-bit
  });

  it('writes trap gates, IST1 and the perturbed gates as drawn', () => {
    const options = OPTIONS.find((o) => o.guest === '64-bit') as BuildOptions;
    const variants: GateVariant[] = [
      { kind: 'trap', ist: true, fault: 'none' },
      { kind: 'interrupt', ist: false, fault: 'not-present' },
      { kind: 'interrupt', ist: false, fault: 'dpl-0' },
    ];
    const { m } = memoryFor(options, [3, 13, 0x80], variants);
    expect(gateAt(m, GUEST_LAYOUT.idt64 + 16n * 3n, true)).toMatchObject({ type: 0xf, ist: 1, p: 1, dpl: 3 });
    expect(gateAt(m, GUEST_LAYOUT.idt64 + 16n * 13n, true)).toMatchObject({ p: 0 });
    expect(gateAt(m, GUEST_LAYOUT.idt64 + 16n * 0x80n, true)).toMatchObject({ p: 1, dpl: 0 });
  });

  it('has 32-bit gates in protected mode and CS:IP entries in the real-mode vector table', () => {
    const flat = memoryFor(OPTIONS.find((o) => o.guest === '32-bit-pae') as BuildOptions, [6]);
    expect(gateAt(flat.m, (flat.values.get('GUEST_IDTR_BASE') as bigint) + 8n * 6n, false)).toEqual({ offset: GUEST_LAYOUT.handlers + 0x60n, selector: 0x08n, ist: 0, type: 0xe, dpl: 3, p: 1 });
    const real = memoryFor(OPTIONS.find((o) => o.guest === 'real') as BuildOptions, [13]);
    const entry = real.m((real.values.get('GUEST_IDTR_BASE') as bigint) + 4n * 13n);
    const [ip, cs] = [entry & 0xffffn, entry >> 16n];
    expect(cs * 16n + ip).toBe(GUEST_LAYOUT.handlers + 16n * 13n);
    expect((real.values.get('GUEST_RSP') as bigint) < 0x1_0000n).toBe(true); // SP reaches the stack with SS base 0
  });

  it('perturbs about one gate in ten (not present, or DPL 0)', () => {
    const drawn = fc.sample(gateVariantArbitrary(), { seed: 5, numRuns: 2000 });
    const perturbed = drawn.filter((v) => v.fault !== 'none').length / drawn.length;
    expect(perturbed).toBeGreaterThan(0.05);
    expect(perturbed).toBeLessThan(0.15);
    expect(gateWrites('64-bit', 6, VALID_GATE)).toHaveLength(2);
  });
});

