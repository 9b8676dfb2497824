import { describe, expect, it } from 'vitest';
import { SDM_EDITION } from '../../spec/citation.ts';
import { GUEST_CONTROL_REGISTERS_CHECKS } from '../../spec/entry-checks/guest-control-registers.ts';
import { GUEST_DESCRIPTOR_TABLES_CHECKS } from '../../spec/entry-checks/guest-descriptor-tables.ts';
import { GUEST_NON_REGISTER_STATE_CHECKS } from '../../spec/entry-checks/guest-non-register-state.ts';
import { GUEST_PDPTES_CHECKS } from '../../spec/entry-checks/guest-pdptes.ts';
import { GUEST_RIP_RFLAGS_CHECKS } from '../../spec/entry-checks/guest-rip-rflags.ts';
import { GUEST_SEGMENT_REGISTERS_CHECKS } from '../../spec/entry-checks/guest-segment-registers.ts';
import { MSR_LOAD_CHECKS } from '../../spec/entry-checks/msr-load.ts';
import { ENTRY_CHECK_GROUPS, type EntryCheck, type EntryCheckGroup } from '../../spec/entry-checks/types.ts';
import { FIELD } from '../../spec/field-names.ts';

/** The groups of this part of the catalogue, with the number of checks each holds. */
const PART: ReadonlyArray<[EntryCheckGroup, readonly EntryCheck[], number]> = [
  ['guest-control-registers', GUEST_CONTROL_REGISTERS_CHECKS, 43],
  ['guest-segment-registers', GUEST_SEGMENT_REGISTERS_CHECKS, 104],
  ['guest-descriptor-tables', GUEST_DESCRIPTOR_TABLES_CHECKS, 4],
  ['guest-rip-rflags', GUEST_RIP_RFLAGS_CHECKS, 11],
  ['guest-non-register-state', GUEST_NON_REGISTER_STATE_CHECKS, 30],
  ['guest-pdptes', GUEST_PDPTES_CHECKS, 8],
  ['msr-load', MSR_LOAD_CHECKS, 7],
];
const ALL = PART.flatMap(([, checks]) => checks);

/** Inventory lines of these sections that the catalogue leaves out or merges (see README-guest.md). */
const DROPPED = new Set(['G-CR-27', 'G-CR-28', 'G-PDE-04', 'G-PDE-05', 'G-PDE-06', 'G-PDE-07', 'G-LINK-07']);

/** Every inventory ID of the sections this part covers (SMM dual-monitor S-* excluded). */
function inventoryIds(): string[] {
  const range = (prefix: string, n: number): string[] =>
    Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);
  return [
    ...range('G-CR', 33),
    ...range('G-SEG', 103),
    ...range('G-DT', 4),
    ...range('G-RIP', 10),
    ...range('G-ACT', 7),
    ...range('G-INT', 12),
    ...range('G-PDE', 7),
    ...range('G-LINK', 7),
    ...range('G-NR', 1),
    ...range('G-PDPTE', 2),
    ...range('M', 7),
  ];
}

describe('VM-entry check catalogue: guest state and MSR loading', () => {
  it('has the number of checks per group that the README states', () => {
    for (const [group, checks, count] of PART) {
      expect(ENTRY_CHECK_GROUPS).toContain(group);
      expect({ group, count: checks.length }).toEqual({ group, count });
    }
    expect(ALL.length).toBe(207);
  });

  it('gives every check a unique id made of its group and a kebab-case name', () => {
    expect(new Set(ALL.map((c) => c.id)).size).toBe(ALL.length);
    for (const [group, checks] of PART) {
      for (const c of checks) {
        expect(c.group).toBe(group);
        expect(c.id).toMatch(new RegExp(`^${group}\\.[a-z0-9]+(-[a-z0-9]+)*$`));
      }
    }
  });

  it('names only VMCS fields that FIELD defines', () => {
    const known = new Set(Object.keys(FIELD));
    const unknown = ALL.flatMap((c) => c.fields.filter((f) => !known.has(f)).map((f) => `${c.id}: ${f}`));
    expect(unknown).toEqual([]);
    for (const c of ALL) expect(c.fields.length).toBeGreaterThan(0);
  });

  it('cites a section, a title and an edition, and the December 2023 number when the edition differs', () => {
    for (const c of ALL) {
      expect(c.citation.volume).toMatch(/^3[BC]$/);
      expect(c.citation.section).toMatch(/^\d+(\.\d+)+$/);
      expect(c.citation.title.length).toBeGreaterThan(5);
      expect(c.citation.edition.length).toBeGreaterThan(3);
      if (c.citation.edition === SDM_EDITION) {
        expect(c.december2023Section).toBeUndefined();
        expect(c.citation.section).toMatch(/^27\./);
      } else {
        expect(c.december2023Section).toMatch(/^27\./);
      }
    }
  });

  it('keeps verification and basis consistent: read checks cite an edition read, others name their backing', () => {
    for (const c of ALL) {
      if (c.verification === 'read') {
        expect(c.basis).toBeUndefined();
        expect(c.citation.edition).not.toBe(SDM_EDITION);
      } else {
        expect(c.basis?.length ?? 0).toBeGreaterThan(10);
      }
    }
  });

  it('reports guest-state failures with the qualification the SDM gives and MSR-load failures as exit reason 34', () => {
    for (const c of ALL) {
      if (c.group === 'msr-load') {
        expect(c.consequence).toEqual({ kind: 'entry-failure-msr-load' });
        continue;
      }
      expect(c.consequence.kind).toBe('entry-failure-guest-state');
      const qualification =
        c.consequence.kind === 'entry-failure-guest-state' ? c.consequence.qualification : -1;
      const expected =
        c.group === 'guest-pdptes'
          ? 2
          : c.id.includes('.link-pointer-')
            ? 4
            : c.id.endsWith('.sti-blocking-vs-nmi')
              ? 3
              : 0;
      expect({ id: c.id, qualification }).toEqual({ id: c.id, qualification: expected });
    }
  });

  it('traces every inventory line of these sections to a check, or lists it as dropped', () => {
    const used = new Set(ALL.map((c) => c.inventoryId).filter((id): id is string => id !== undefined));
    const missing = inventoryIds().filter((id) => !used.has(id) && !DROPPED.has(id));
    expect(missing).toEqual([]);
    for (const id of DROPPED) expect(used.has(id)).toBe(false);
    for (const id of used) expect(inventoryIds()).toContain(id);
  });

  it('lists checks in SDM order: inventory positions never go backwards within a group', () => {
    for (const [group, checks] of PART) {
      const last = new Map<string, number>();
      for (const c of checks) {
        if (c.inventoryId === undefined) continue;
        const match = /^(.*)-(\d+)$/.exec(c.inventoryId);
        expect(match, c.inventoryId).not.toBeNull();
        const [, prefix, n] = match as RegExpExecArray;
        const position = Number(n);
        const inOrder = position >= (last.get(prefix as string) ?? 0);
        expect({ group, id: c.id, inOrder }).toEqual({ group, id: c.id, inOrder: true });
        last.set(prefix as string, position);
      }
    }
  });

  it('writes the per-register segment rules once per register', () => {
    const ids = new Set(GUEST_SEGMENT_REGISTERS_CHECKS.map((c) => c.id));
    const common = [
      's-bit',
      'present',
      'access-rights-reserved-11-8',
      'granularity-low-limit',
      'granularity-high-limit',
      'access-rights-reserved-31-17',
    ];
    const perDataRegister = ['limit-v8086', 'access-rights-v8086', 'base-v8086', ...common];
    for (const rule of perDataRegister) {
      for (const reg of ['cs', 'ss', 'ds', 'es', 'fs', 'gs']) {
        expect(ids).toContain(`guest-segment-registers.${reg}-${rule}`);
      }
    }
    for (const rule of ['type-accessed', 'type-readable-code', 'dpl-not-below-rpl']) {
      for (const reg of ['ds', 'es', 'fs', 'gs']) expect(ids).toContain(`guest-segment-registers.${reg}-${rule}`);
    }
    for (const rule of [...common, 'type', 'base-canonical', 'selector-ti']) {
      for (const reg of ['tr', 'ldtr']) expect(ids).toContain(`guest-segment-registers.${reg}-${rule}`);
    }
  });

  it('verified at least three quarters of these checks in SDM text', () => {
    const read = ALL.filter((c) => c.verification === 'read').length;
    expect(read / ALL.length).toBeGreaterThan(0.75);
  });
});
