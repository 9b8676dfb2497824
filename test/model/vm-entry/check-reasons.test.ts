/**
 * What a VM-entry check says when it cannot decide: a `may-fail` (the SDM, or a fact the profile
 * does not record, lets the check fail or pass) names that fact, and an `undecided` (the
 * environment, as for `explain`, does not know memory) names what is missing. The outcomes
 * themselves come from the SDM text cited in each group's own test file; this file checks that
 * the report explains them (no reason is left empty, so a reader of `explain` or of a run report
 * can tell which fact was missing).
 *
 * PDPTEs: SDM Vol. 3C §27.3.1.6 "Checks on Guest Page-Directory-Pointer-Table Entries" (2016:
 * §26.3.1.6): each PDPTE is 8 bytes at guest CR3 bits 31:5 + 8n, read when EPT is off.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../model/vm-entry/check.ts';
import type { CheckEnvironment, CheckResult } from '../../../model/vm-entry/check.ts';
import { ENTRY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { LATER_ENTRY_CONTROL } from '../../../spec/guest-state-bits.ts';
import { skylake } from '../helpers.ts';
import { bit } from './check-cases.ts';
import { entryRule } from './check-helpers.ts';

type Fields = Partial<Record<FieldName, bigint>>;

/** Rule `id` over `fields`, with memory read by `readMemory32` (every word 0 unless told). */
function resultOf(id: string, fields: Fields, readMemory32: CheckEnvironment['readMemory32'] = () => 0): CheckResult {
  return evaluate(entryRule(id), { get: (field: FieldName) => fields[field] }, { profile: skylake(), readMemory32 });
}

function whyOf(result: CheckResult): string {
  if (result.kind !== 'may-fail') throw new Error(`expected may-fail, got ${result.kind}`);
  return result.why;
}

describe('a may-fail names the fact the profile does not record', () => {
  it.each([
    ['guest-control-registers.debugctl-reserved', { VM_ENTRY_CONTROLS: bit(ENTRY_CONTROL.LOAD_DEBUG_CONTROLS), GUEST_IA32_DEBUGCTL: bit(15) }, /IA32_DEBUGCTL/],
    ['guest-control-registers.efer-reserved', { VM_ENTRY_CONTROLS: bit(ENTRY_CONTROL.LOAD_IA32_EFER), GUEST_IA32_EFER: bit(11) }, /NXE/],
    ['guest-control-registers.perf-global-ctrl-reserved', { VM_ENTRY_CONTROLS: bit(ENTRY_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL), GUEST_IA32_PERF_GLOBAL_CTRL: 1n }, /IA32_PERF_GLOBAL_CTRL/],
    ['guest-non-register-state.interruptibility-reserved', { GUEST_INTERRUPTIBILITY_STATE: bit(4) }, /SGX/],
    ['guest-non-register-state.sti-blocking-vs-nmi', { VM_ENTRY_INTERRUPTION_INFORMATION: bit(31) | (2n << 8n) | 2n, GUEST_INTERRUPTIBILITY_STATE: 1n }, /blocking by STI/],
    ['guest-control-registers.spec-ctrl-writable', { VM_ENTRY_CONTROLS: bit(LATER_ENTRY_CONTROL.LOAD_IA32_SPEC_CTRL), GUEST_IA32_SPEC_CTRL: 1n }, /IA32_SPEC_CTRL/],
  ] as const)('%s', (id, fields, names) => {
    expect(whyOf(resultOf(id, fields))).toMatch(names);
  });
});

describe('guest PDPTEs in memory (EPT off) where memory is not known', () => {
  const PAE_GUEST: Fields = {
    GUEST_CR0: 0x8000_0021n,
    GUEST_CR4: 0x2020n,
    VM_ENTRY_CONTROLS: 0n,
    PRIMARY_PROCESSOR_BASED_CONTROLS: 0n,
    SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY_CONTROL.ENABLE_EPT), // in effect 0: secondary controls not activated
    GUEST_CR3: 0x3000n,
  };

  it.each([0, 1, 2, 3])('PDPTE%i: undecided, naming the PDPTE, never guessed', (n) => {
    const result = resultOf(`guest-pdptes.pdpte${n}-in-memory`, PAE_GUEST, () => undefined);
    expect(result).toEqual({ kind: 'undecided', missing: [`PDPTE${n} in memory at guest CR3`] });
  });

  it('a PDPTE is 8 bytes: with only its low half (present, bit 1 reserved) or only its high half known, it is still undecided', () => {
    const lowHalfOnly = (address: bigint): number | undefined => (address % 8n === 0n ? 0x1003 : undefined);
    expect(resultOf('guest-pdptes.pdpte0-in-memory', PAE_GUEST, lowHalfOnly).kind).toBe('undecided');
    const highHalfOnly = (address: bigint): number | undefined => (address % 8n === 4n ? 0 : undefined);
    expect(resultOf('guest-pdptes.pdpte0-in-memory', PAE_GUEST, highHalfOnly).kind).toBe('undecided');
  });

  it('an invalid PDPTE where PAE paging may have been in use with the same CR3: the may-fail names that', () => {
    const invalid = (address: bigint): number => (address === 0x3000n ? 0x1003 : 0);
    expect(whyOf(resultOf('guest-pdptes.pdpte0-in-memory', PAE_GUEST, invalid))).toMatch(/PAE paging/);
  });
});

describe('the VMCS link pointer (§27.3.1.5 "Checks on Guest Non-Register State") where memory or the current VMCS is not known', () => {
  const LINKED: Fields = { VMCS_LINK_POINTER: 0x5000n, PRIMARY_PROCESSOR_BASED_CONTROLS: 0n, SECONDARY_PROCESSOR_BASED_CONTROLS: 0n, VM_ENTRY_CONTROLS: 0n };

  it.each(['guest-non-register-state.link-pointer-revision', 'guest-non-register-state.link-pointer-shadow-indicator'])(
    '%s: undecided, naming the first 32 bits of the referenced region, never guessed',
    (id) => {
      expect(resultOf(id, LINKED, () => undefined)).toEqual({ kind: 'undecided', missing: ['the first 32 bits of the region the VMCS link pointer references'] });
    },
  );

  it('link-pointer-not-current-vmcs without the current-VMCS pointer: undecided, naming it', () => {
    expect(resultOf('guest-non-register-state.link-pointer-not-current-vmcs', LINKED)).toEqual({ kind: 'undecided', missing: ['the current-VMCS pointer'] });
  });
});
