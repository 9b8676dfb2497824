/**
 * Checks on the guest PDPTEs, in the order of SDM Vol. 3C (December 2023) §27.3.1.6 "Checks on
 * Guest Page-Directory-Pointer-Table Entries" (2016: §26.3.1.6, the edition the catalogue read).
 * A VM entry to a guest that will use PAE paging (CR0.PG = 1, CR4.PAE = 1, "IA-32e mode guest" =
 * 0) checks the four PDPTEs as MOV to CR3 does under PAE paging (Vol. 3A §4.4.1 "PDPTE
 * Registers"): a present PDPTE (bit 0 = 1) has reserved bits 2:1, 8:5 and every bit at or above
 * MAXPHYADDR clear. With "enable EPT" = 0 the PDPTEs are read from memory at guest CR3 (bits
 * 31:5); with "enable EPT" = 1 they are the four PDPTE fields of the guest-state area. A failure
 * is a VM-entry failure, exit reason 33, qualification 2.
 *
 * With EPT off the SDM checks the PDPTEs in memory when (1) PAE paging was not in use before the
 * entry or (2) CR3 changes, and "may check their validity even if neither (1) nor (2) hold". The
 * model knows (1) from the processor's state before the entry (CheckEnvironment) but does not
 * follow CR3 in VMX root operation: when PAE paging was in use, or when that is not known, an
 * invalid PDPTE in memory may fail the entry or not.
 */
import { PDPTE } from '../../../spec/guest-state-bits.ts';
import type { FieldName } from '../../../spec/fields.ts';
import type { Profile } from '../../../spec/profile.ts';
import { bitOf } from '../../non-root.ts';
import { check, mayFail, unknown } from '../check.ts';
import type { CheckEnvironment, EntryRule, Holds } from '../check.ts';
import { eptEnabled, paePagingGuest } from '../guest-facts.ts';

/** True when a PDPTE is valid: not present, or present with no reserved bit set. */
export function pdpteValid(entry: bigint, profile: Profile): boolean {
  if (!bitOf(entry, PDPTE.P)) return true;
  const reserved = PDPTE.RESERVED | ((0xffff_ffff_ffff_ffffn >> BigInt(profile.data.physicalAddressWidth)) << BigInt(profile.data.physicalAddressWidth));
  return (entry & reserved) === 0n;
}

/** PDPTE `n` in memory at guest CR3: the 8 bytes at (CR3 bits 31:5) + 8n, or unknown. */
function pdpteInMemory(cr3: bigint, n: number, env: CheckEnvironment): bigint | undefined {
  const address = (cr3 & 0xffff_ffe0n) + 8n * BigInt(n);
  const low = env.readMemory32(address);
  const high = env.readMemory32(address + 4n);
  if (low === undefined || high === undefined) return undefined;
  return (BigInt(high) << 32n) | BigInt(low);
}

/** The fields the EPT-on and EPT-off conditions read. */
const GUEST_MODE_FIELDS = [
  'GUEST_CR0',
  'GUEST_CR4',
  'VM_ENTRY_CONTROLS',
  'PRIMARY_PROCESSOR_BASED_CONTROLS',
  'SECONDARY_PROCESSOR_BASED_CONTROLS',
] as const;

type GuestMode = { readonly [P in (typeof GUEST_MODE_FIELDS)[number]]: bigint };

/** True when the guest will use PAE paging and "enable EPT" is `ept`. */
function paeGuestWithEpt(f: GuestMode, ept: boolean): boolean {
  return (
    paePagingGuest(f.GUEST_CR0, f.GUEST_CR4, f.VM_ENTRY_CONTROLS) &&
    eptEnabled(f.PRIMARY_PROCESSOR_BASED_CONTROLS, f.SECONDARY_PROCESSOR_BASED_CONTROLS) === ept
  );
}

/** The check of PDPTE `n` in memory (EPT off). */
function inMemory(n: number): EntryRule {
  return check(`guest-pdptes.pdpte${n}-in-memory`, {
    when: { fields: GUEST_MODE_FIELDS, test: (f) => paeGuestWithEpt(f, false) },
    fields: ['GUEST_CR3'],
    holds: (f, env): Holds => {
      const entry = pdpteInMemory(f.GUEST_CR3, n, env);
      if (entry === undefined) return unknown(`PDPTE${n} in memory at guest CR3`);
      if (pdpteValid(entry, env.profile)) return true;
      if (env.paePagingBeforeEntry === false) return false;
      return mayFail('PAE paging may have been in use before the entry with the same CR3: the SDM lets the processor check the PDPTEs or not');
    },
  });
}

/** The check of the guest PDPTE field `n` (EPT on). */
function inVmcs(n: 0 | 1 | 2 | 3): EntryRule {
  const field: FieldName = `GUEST_PDPTE${n}`;
  return check(`guest-pdptes.pdpte${n}-field`, {
    when: { fields: GUEST_MODE_FIELDS, test: (f) => paeGuestWithEpt(f, true) },
    fields: [field],
    holds: (f: Record<FieldName, bigint>, env) => pdpteValid(f[field], env.profile),
  });
}

/** The guest PDPTE checks: the four PDPTEs in memory (EPT off), then the four fields (EPT on). */
export const GUEST_PDPTE_RULES: readonly EntryRule[] = [inMemory(0), inMemory(1), inMemory(2), inMemory(3), inVmcs(0), inVmcs(1), inVmcs(2), inVmcs(3)];
