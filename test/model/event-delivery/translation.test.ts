/**
 * The accesses of delivery through EPT and the guest's paging, with expectations from SDM Vol.
 * 3C, December 2023, §29.3.2 "EPT Translation Mechanism", §29.3.3 "EPT-Induced VM Exits"
 * (violations and misconfigurations), §29.3.5 "Accessed and Dirty Flags for EPT" (bit 8 of every
 * entry used, bit 9 of the entry mapping the page on a write; guest paging-structure accesses
 * count as writes), and Vol. 3A §4.3 "32-Bit Paging" (4-MByte pages with CR4.PSE), §4.4 "PAE
 * Paging", §4.8 "Accessed and Dirty Flags".
 */
import { describe, expect, it } from 'vitest';
import type { ModelState } from '../../../model/index.ts';
import { deliverEvent } from '../../../model/event-delivery/deliver.ts';
import type { DeliveryOutcome } from '../../../model/event-delivery/deliver.ts';
import { cpuOf } from '../../../model/state.ts';
import { writeWord, readWord } from '../../../model/memory.ts';
import { RULES_HIT } from '../helpers.ts';
import {
  AR,
  EPT_PML4,
  gate64,
  guest64,
  HANDLER,
  IDT,
  KERNEL_STACK,
  PD,
  PDPT,
  PML4,
  PT,
  peek64,
  poke64,
  segment,
  SYSTEM_PAGES,
  TSS,
  USER_STACK,
  withDeliveryMemory,
  deliveryGuest,
  gate32,
  GDT,
  withGdt,
} from './setup.ts';

const EPT_PDPT = EPT_PML4 + 0x1000n;
const EPT_PD = EPT_PML4 + 0x2000n;
const EPT_PT = EPT_PML4 + 0x3000n;
/** Secondary controls: "enable EPT". */
const ENABLE_EPT = 2n;
/** EPTP: 4-level walk, write-back, accessed and dirty flags. */
const EPTP_AD = EPT_PML4 | (3n << 3n) | 6n | 0x40n;
/** An EPT entry referencing a table (read, write, execute), and one mapping a write-back page. */
const EPT_TABLE = 7n;
const EPT_PAGE = 7n | (6n << 3n);

/** Identity EPT of the 4-KByte pages `pages` (and everything else unmapped). */
function ept(state: ModelState, pages: readonly bigint[], entry: (page: bigint) => bigint = () => EPT_PAGE): ModelState {
  let next = poke64(state, EPT_PML4, EPT_PDPT | EPT_TABLE);
  next = poke64(next, EPT_PDPT, EPT_PD | EPT_TABLE);
  next = poke64(next, EPT_PD, EPT_PT | EPT_TABLE);
  for (const page of pages) next = poke64(next, EPT_PT + (page >> 12n) * 8n, page | entry(page));
  return next;
}

/** The pages a delivery in withDeliveryMemory's layout touches: paging structures, GDT, IDT, TSS, stacks. */
const TOUCHED = [PML4, PDPT, PD, PT, ...SYSTEM_PAGES, USER_STACK];

function delivered(outcome: DeliveryOutcome, ruleId: string): ModelState {
  expect(outcome.kind === 'stopped' ? outcome.rule.id : 'delivered').toBe('delivered');
  RULES_HIT.add(ruleId);
  return (outcome as Extract<DeliveryOutcome, { kind: 'delivered' }>).state;
}

function stopped(outcome: DeliveryOutcome, ruleId: string): void {
  expect(outcome).toMatchObject({ kind: 'stopped', rule: { id: ruleId } });
  RULES_HIT.add(ruleId);
}

const interrupt = { vector: 32, type: 0, pushedRip: 0x13_0000n, pushedRflags: 0x202n } as const;

describe('§29.3 EPT for the accesses of delivery', () => {
  const guest = (entry?: (page: bigint) => bigint, pages = TOUCHED): ModelState => ept(withDeliveryMemory(guest64(3, { secondary: ENABLE_EPT, eptp: EPTP_AD })), pages, entry);

  it('translates every access through the identity EPT: the handler runs as without EPT', () => {
    const after = delivered(deliverEvent(guest(), 0, interrupt), 'event-delivery.ia32e');
    expect(cpuOf(after, 0).rip).toBe(HANDLER + 0x200n);
    expect(peek64(after, KERNEL_STACK + 0xff0n - 0x28n)).toBe(0x13_0000n);
  });

  it('with EPTP bit 6 sets the accessed flag of every EPT entry used, and the dirty flag where the page is written: the stack, and the guest paging structures (their accesses count as writes)', () => {
    const after = delivered(deliverEvent(guest(), 0, interrupt), 'event-delivery.ia32e');
    const eptPte = (page: bigint): bigint => peek64(after, EPT_PT + (page >> 12n) * 8n);
    expect(peek64(after, EPT_PML4) & 0x100n).toBe(0x100n);
    expect(eptPte(KERNEL_STACK) & 0x300n).toBe(0x300n);
    expect(eptPte(PT) & 0x300n).toBe(0x300n);
    expect(eptPte(IDT) & 0x300n).toBe(0x100n);
  });

  it('without EPTP bit 6 no EPT flag is set', () => {
    const state = ept(withDeliveryMemory(guest64(3, { secondary: ENABLE_EPT, eptp: EPTP_AD & ~0x40n })), TOUCHED);
    const after = delivered(deliverEvent(state, 0, interrupt), 'event-delivery.ia32e');
    expect(peek64(after, EPT_PT + (KERNEL_STACK >> 12n) * 8n) & 0x300n).toBe(0n);
  });

  it('an IDT page EPT does not map is an EPT violation; a write-only entry is an EPT misconfiguration; a read-only stack page is an EPT violation', () => {
    stopped(deliverEvent(guest(undefined, TOUCHED.filter((page) => page !== IDT)), 0, interrupt), 'event-delivery.ept-violation');
    stopped(deliverEvent(guest((page) => (page === IDT ? 2n | (6n << 3n) : EPT_PAGE)), 0, interrupt), 'event-delivery.ept-misconfiguration');
    stopped(deliverEvent(guest((page) => (page === KERNEL_STACK ? 1n | (6n << 3n) : EPT_PAGE)), 0, interrupt), 'event-delivery.ept-violation');
    stopped(deliverEvent(guest((page) => (page === IDT ? 1n | (2n << 3n) : EPT_PAGE)), 0, interrupt), 'event-delivery.ept-misconfiguration');
  });

  it('a 5-level EPT walk and page-modification logging with A/D flags are not followed', () => {
    const fiveLevel = ept(withDeliveryMemory(guest64(3, { secondary: ENABLE_EPT, eptp: EPT_PML4 | (4n << 3n) | 6n })), TOUCHED);
    stopped(deliverEvent(fiveLevel, 0, interrupt), 'event-delivery.five-level-paging');
    const pml = ept(withDeliveryMemory(guest64(3, { secondary: ENABLE_EPT | (1n << 17n), eptp: EPTP_AD })), TOUCHED);
    stopped(deliverEvent(pml, 0, interrupt), 'event-delivery.feature-not-modelled');
  });
});

/** A 32-bit protected-mode guest at CPL 0 with a flat stack at USER_STACK and an IDT of 32-bit interrupt gates to selector 20H. */
function protectedGuest(cr0: bigint, cr4: bigint, cr3: bigint): ModelState {
  const state = deliveryGuest({
    cr0,
    cr3,
    cr4,
    ia32e: false,
    cs: segment(0x20n, 0n, 0xffff_ffffn, AR.CODE32_DPL0),
    ss: segment(0x10n, 0n, 0xffff_ffffn, AR.DATA_DPL0),
    tr: segment(0x18n, TSS, 0x67n, 0x8bn),
    rsp: USER_STACK + 0xffcn,
    rflags: 0x202n,
  });
  return poke64(withGdt(state), IDT + 32n * 8n, gate32(0x20n, HANDLER));
}

describe('§4.3 32-bit paging and §4.4 PAE paging', () => {
  it('32-bit paging with a 4-MByte page (CR4.PSE): the PDE gets its accessed and dirty flags', () => {
    const state = writeWord(protectedGuest(0x8000_0031n, 0x2010n, PD), PD, 0x87);
    const after = delivered(deliverEvent(state, 0, interrupt), 'event-delivery.protected-mode');
    expect(readWord(after, PD) & 0x60).toBe(0x60);
    expect(cpuOf(after, 0).rip).toBe(HANDLER);
  });

  it('32-bit paging through a page table: PTEs of pages read get the accessed flag only', () => {
    let state = writeWord(protectedGuest(0x8000_0031n, 0x2000n, PD), PD, Number(PT | 7n));
    for (const page of [GDT, IDT, TSS, USER_STACK]) state = writeWord(state, PT + (page >> 12n) * 4n, Number(page | 7n));
    const after = delivered(deliverEvent(state, 0, interrupt), 'event-delivery.protected-mode');
    expect(readWord(after, PT + (IDT >> 12n) * 4n) & 0x60).toBe(0x20);
    expect(readWord(after, PT + (USER_STACK >> 12n) * 4n) & 0x60).toBe(0x60);
    const missing = writeWord(state, PT + (IDT >> 12n) * 4n, 0);
    stopped(deliverEvent(missing, 0, interrupt), 'event-delivery.nested-pf');
  });

  it('PAE paging (EPT off): the PDPTEs at CR3, then a 2-MByte page', () => {
    let state = protectedGuest(0x8000_0031n, 0x2020n, PDPT);
    state = poke64(state, PDPT, PD | 1n);
    state = poke64(state, PD, 0x87n);
    const after = delivered(deliverEvent(state, 0, interrupt), 'event-delivery.protected-mode');
    expect(peek64(after, PD) & 0x60n).toBe(0x60n);
    stopped(deliverEvent(poke64(state, PDPT, 0n), 0, interrupt), 'event-delivery.nested-pf');
    stopped(deliverEvent(poke64(state, PD, 0x87n | (1n << 51n)), 0, interrupt), 'event-delivery.nested-pf');
  });
});
