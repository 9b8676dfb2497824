/**
 * The VM-entry checks of the catalogue that the coverage gate (test/properties/entry-check-coverage.test.ts)
 * does not require a run to hit, each with the side it cannot reach and why. Sorted by group, in
 * catalogue order; one file per concern so that helpers working on different groups merge cleanly.
 *
 * Two kinds: {@link ENTRY_CHECK_EXCEPTIONS} cannot be reached by any run of the suite as it is (the
 * check needs SMM, or a processor feature no built-in profile or the model has, or the model can
 * never judge that side); {@link NOT_YET_REACHED} could be reached but the generators do not reach
 * them yet in the gate's run: work left, to shrink to nothing.
 */

import { GUEST_ENTRY_CHECK_EXCEPTIONS } from './entry-check-exceptions-guest.ts';

/** A side of a check the gate does not require, and why. */
export interface EntryCheckException {
  id: string;
  side: 'failing' | 'passing';
  reason: string;
}

const SMM = 'the model\'s processors are never in SMM (model/state.ts), and the check needs SMM on this side';
const FRED = 'needs FRED, which the model does not support (model/vm-entry/derived.ts fredSupported) and no built-in profile has';
const FRED_HOST = 'needs the "load FRED" secondary VM-exit control, which no built-in profile allows (IA32_VMX_EXIT_CTLS2 is 0), and FRED, which the model does not support';

const both = (id: string, reason: string): EntryCheckException[] => [
  { id, side: 'failing', reason },
  { id, side: 'passing', reason },
];

/** Sides of checks of the control, host and MSR-load groups no run of the suite can reach today. */
const CONTROL_AND_HOST_EXCEPTIONS: readonly EntryCheckException[] = [
  // entry-controls
  { id: 'entry-controls.entry-to-smm-only-in-smm', side: 'passing', reason: SMM },
  { id: 'entry-controls.deactivate-dual-monitor-only-in-smm', side: 'passing', reason: SMM },
  {
    id: 'entry-controls.smm-controls-exclusive',
    side: 'failing',
    reason: `${SMM}: outside SMM, setting both controls fails entry-to-smm-only-in-smm first, and the model reports the first failing check of the group`,
  },
  // event-injection
  ...both('event-injection.fred-other-event-vector', FRED),
  ...both('event-injection.fred-nested-exception-bit', FRED),
  ...both('event-injection.fred-instruction-length', FRED),
  // execution-controls
  {
    id: 'execution-controls.eptp-accessed-dirty',
    side: 'failing',
    reason: 'needs EPT without accessed and dirty flags (IA32_VMX_EPT_VPID_CAP[21] = 0); skylake and maximal have them (real profiles such as sandy-bridge-i5-2320 do not)',
  },
  // host-control-registers
  ...['fred-config-reserved', ...[1, 2, 3].flatMap((n) => [`fred-rsp${n}-canonical`, `fred-rsp${n}-aligned`, `fred-ssp${n}-canonical`, `fred-ssp${n}-aligned`])]
    .sort()
    .flatMap((name) => both(`host-control-registers.${name}`, FRED_HOST)),
  // address-space-size
  {
    id: 'address-space-size.ia32e-guest-needs-64-bit-host',
    side: 'failing',
    reason: 'whenever it fails, an earlier check of the group with the same error fails too (host-size-one-in-ia32e inside IA-32e mode, ia32e-guest-needs-ia32e-host-processor outside it), and the model reports the first',
  },
  // msr-load
  {
    id: 'msr-load.not-model-specific',
    side: 'passing',
    reason: 'the profile does not record which MSRs a processor refuses to load, so the model lets every entry fail this check or load: it never judges it passing',
  },
  {
    id: 'msr-load.wrmsr-would-succeed',
    side: 'passing',
    reason: 'the profile does not record which MSRs exist and which values WRMSR accepts, so the model lets every entry fail this check or load: it never judges it passing',
  },
];

/** The guest groups' list (entry-check-exceptions-guest.ts), one entry per side. */
const GUEST_EXCEPTIONS: readonly EntryCheckException[] = GUEST_ENTRY_CHECK_EXCEPTIONS.flatMap((e) =>
  (e.side === 'both' ? (['failing', 'passing'] as const) : [e.side]).map((side) => ({ id: e.id, side, reason: e.reason })),
);

/** Sides of checks no run of the suite can reach today (the guest list adds no side already listed). */
export const ENTRY_CHECK_EXCEPTIONS: readonly EntryCheckException[] = [
  ...CONTROL_AND_HOST_EXCEPTIONS,
  ...GUEST_EXCEPTIONS.filter((g) => !CONTROL_AND_HOST_EXCEPTIONS.some((e) => e.id === g.id && e.side === g.side)),
];

const NOT_YET = 'reachable (the generators have perturbations that fail or pass it alone), but not hit by the gate\'s runs of 2 December 2026 (skylake seed 1 and maximal seed 2, 1,000 sequences each; core2 seed 3, 300): drawn too rarely';

/**
 * Sides of checks the generators do not reach yet in the gate's runs (work left, not limits):
 * taken from the gate's own report; remove an entry once the generators reach it. Each has exact
 * perturbations (vmcs-perturb.ts `perturbationsOf`: failing no other modelled rule) on some built
 * VMCS, so only the draw misses it: one target in about 350 per round.
 */
export const NOT_YET_REACHED: readonly EntryCheckException[] = [
  // host-control-registers
  { id: 'host-control-registers.s-cet-reserved', side: 'failing', reason: `${NOT_YET} (maximal only: the host CET state)` },
  // guest-control-registers
  { id: 'guest-control-registers.cr4-cet-requires-cr0-wp', side: 'failing', reason: NOT_YET },
  // guest-segment-registers
  { id: 'guest-segment-registers.tr-type-ia32e', side: 'failing', reason: NOT_YET },
  { id: 'guest-segment-registers.tr-s-bit', side: 'failing', reason: NOT_YET },
  // guest-rip-rflags
  { id: 'guest-rip-rflags.ssp-canonical', side: 'failing', reason: `${NOT_YET} (maximal only: the guest CET state)` },
  // guest-pdptes
  { id: 'guest-pdptes.pdpte1-in-memory', side: 'failing', reason: `${NOT_YET} (a PAE guest without EPT: 4 of the 17 VMCS kinds built for skylake and maximal)` },
  // execution-controls
  { id: 'execution-controls.apic-register-virtualization-needs-tpr-shadow', side: 'passing', reason: NOT_YET },
  { id: 'execution-controls.mode-based-execute-needs-ept', side: 'passing', reason: `${NOT_YET} (maximal only)` },
  // Missed after the guest environment (gen-env) and event delivery landed together: the draws
  // shifted, and a VMX instruction's #UD in a virtual-8086 guest is now delivered through the
  // IDT, which the model does not follow there (event-delivery.virtual-8086), so the step that
  // fails basic.protected-mode is not compared in those guests.
  { id: 'basic.protected-mode', side: 'failing', reason: `${NOT_YET} (a real-address-mode guest's VMX instruction; in virtual-8086 guests its #UD delivery is not modelled)` },
  { id: 'guest-segment-registers.ss-dpl-zero', side: 'failing', reason: NOT_YET },
  { id: 'guest-non-register-state.sti-blocking-vs-nmi', side: 'failing', reason: NOT_YET },
];
