/**
 * The shape of the VM-entry check catalogue: every check of SDM Vol. 3C "VM Entries" as data, so
 * that the model, the emulator, the generators, the run report and `explain` all name a check the
 * same way. One file per group (spec/entry-checks/<group>.ts) lists its checks in SDM order.
 */
import type { Citation } from '../citation.ts';

/** The groups of VM-entry checks, in the order the SDM performs them. */
export const ENTRY_CHECK_GROUPS = [
  /** "Basic VM-Entry Checks". */
  'basic',
  /** "Checks on VMX Controls": "VM-Execution Control Fields". */
  'execution-controls',
  /** "Checks on VMX Controls": "VM-Exit Control Fields". */
  'exit-controls',
  /** "Checks on VMX Controls": "VM-Entry Control Fields" (without event injection). */
  'entry-controls',
  /** "VM-Entry Control Fields": the VM-entry interruption-information field, error code, instruction length. */
  'event-injection',
  /** "Checks on Host Control Registers, MSRs, and SSP". */
  'host-control-registers',
  /** "Checks on Host Segment and Descriptor-Table Registers". */
  'host-segment-registers',
  /** "Checks Related to Address-Space Size". */
  'address-space-size',
  /** "Checks on Guest Control Registers, Debug Registers, and MSRs". */
  'guest-control-registers',
  /** "Checks on Guest Segment Registers". */
  'guest-segment-registers',
  /** "Checks on Guest Descriptor-Table Registers". */
  'guest-descriptor-tables',
  /** "Checks on Guest RIP, RFLAGS, and SSP". */
  'guest-rip-rflags',
  /** "Checks on Guest Non-Register State". */
  'guest-non-register-state',
  /** "Checks on Guest Page-Directory-Pointer-Table Entries". */
  'guest-pdptes',
  /** "Loading MSRs": the VM-entry MSR-load area. */
  'msr-load',
] as const;

/** One group of VM-entry checks. */
export type EntryCheckGroup = (typeof ENTRY_CHECK_GROUPS)[number];

/** Exit qualifications of a VM-entry failure due to invalid guest state (exit reason 33). */
export type GuestStateQualification = 0 | 2 | 3 | 4;

/** What the processor does when a check fails. */
export type EntryCheckConsequence =
  /** A fault instead of the instruction (basic checks). */
  | { kind: 'fault'; vector: 'UD' | 'GP' }
  /** A VM exit (VMLAUNCH/VMRESUME in VMX non-root operation). */
  | { kind: 'vm-exit'; reasons: readonly number[] }
  /** VMfailInvalid: CF = 1. */
  | { kind: 'vmfail-invalid' }
  /** VMfailValid(error): 4, 5, 6, 26 for basic checks; 7 for controls, 8 for host state. */
  | { kind: 'vmfail-valid'; error: number }
  /**
   * VM-entry failure due to invalid guest state: exit reason 33 with bit 31 set, the exit
   * qualification given, host state loaded as on a VM exit.
   */
  | { kind: 'entry-failure-guest-state'; qualification: GuestStateQualification }
  /**
   * VM-entry failure due to MSR loading: exit reason 34 with bit 31 set, the exit qualification
   * the 1-based index of the failing entry of the VM-entry MSR-load area.
   */
  | { kind: 'entry-failure-msr-load' };

/** How far the catalogue entry was checked against SDM text. */
export type Verification =
  /** The condition was read in the SDM text of {@link EntryCheck.citation}'s edition. */
  | 'read'
  /**
   * The check comes from an SDM edition not available to read here; it is backed by the sources
   * named in {@link EntryCheck.basis} (code that tracks the SDM, Intel's own errata or specs).
   */
  | 'corroborated';

/** One VM-entry check. */
export interface EntryCheck {
  /**
   * Stable identifier, `<group>.<name>`, for example `guest-segment-registers.cs-type`. Never
   * reused or renumbered: the model's rules, test names and saved reports refer to it.
   */
  id: string;
  group: EntryCheckGroup;
  /** What must hold for the entry to go on, in words, with the fields and bits named. */
  condition: string;
  /** When the check applies at all (a control setting, a guest mode); absent when always. */
  appliesWhen?: string;
  /** What a processor reports when the check fails. */
  consequence: EntryCheckConsequence;
  /** The SDM section (number and title, of the edition the check was verified in). */
  citation: Citation;
  /** The same section's number in the December 2023 edition, when it differs from `citation`'s. */
  december2023Section?: string;
  verification: Verification;
  /** For `corroborated` checks: what backs them, in words. */
  basis?: string;
  /** Names of the VMCS fields the check reads (keys of `FIELD` in spec/field-names.ts). */
  fields: readonly string[];
  /** Processor state or memory the check reads besides VMCS fields (capability MSRs, VTPR, ...). */
  alsoReads?: readonly string[];
  /** The ID of this check in the shared inventory (`../shared/sdm/entry-checks.md`), for tracing. */
  inventoryId?: string;
  /** Anything a reader should know: freedom the SDM leaves, known hardware behaviour. */
  note?: string;
}
