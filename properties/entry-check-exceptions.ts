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

const NOT_YET = 'reachable, but not hit by the gate\'s runs of 2 December 2026 (skylake seed 1 and maximal seed 2, 1,000 sequences each; core2 seed 3, 300): drawn too rarely, work left for the generators';

/**
 * Sides of checks the generators do not reach yet in the gate's runs (work left, not limits):
 * taken from the gate's own report; remove an entry once the generators reach it. The guest
 * groups are cov-guest's to shrink.
 */
export const NOT_YET_REACHED: readonly EntryCheckException[] = [
  // basic
  { id: 'basic.vmresume-not-after-vmxoff', side: 'failing', reason: NOT_YET },
  // execution-controls
  { id: 'execution-controls.pin-based-must-be-1', side: 'failing', reason: NOT_YET },
  // entry-controls
  { id: 'entry-controls.must-be-1', side: 'failing', reason: NOT_YET },
  // host-control-registers
  { id: 'host-control-registers.s-cet-reserved', side: 'failing', reason: NOT_YET },
  { id: 'host-control-registers.interrupt-ssp-table-canonical', side: 'failing', reason: NOT_YET },
  // host-segment-registers
  { id: 'host-segment-registers.cs-selector-ti', side: 'failing', reason: NOT_YET },
  { id: 'host-segment-registers.ds-selector-ti', side: 'failing', reason: NOT_YET },
  { id: 'host-segment-registers.es-selector-ti', side: 'failing', reason: NOT_YET },
  // guest-control-registers
  { id: 'guest-control-registers.cr4-pcide-requires-ia32e', side: 'failing', reason: NOT_YET },
  { id: 'guest-control-registers.s-cet-suppress-and-tracker', side: 'failing', reason: NOT_YET },
  // guest-segment-registers
  { id: 'guest-segment-registers.ds-s-bit', side: 'failing', reason: NOT_YET },
  { id: 'guest-segment-registers.ss-dpl-zero', side: 'failing', reason: NOT_YET },
  { id: 'guest-segment-registers.ss-granularity-low-limit', side: 'failing', reason: NOT_YET },
  { id: 'guest-segment-registers.ds-granularity-high-limit', side: 'failing', reason: NOT_YET },
  { id: 'guest-segment-registers.cs-access-rights-reserved-31-17', side: 'failing', reason: NOT_YET },
  { id: 'guest-segment-registers.ss-access-rights-reserved-31-17', side: 'failing', reason: NOT_YET },
  { id: 'guest-segment-registers.tr-s-bit', side: 'failing', reason: NOT_YET },
  // guest-descriptor-tables
  { id: 'guest-descriptor-tables.gdtr-base-canonical', side: 'failing', reason: NOT_YET },
  // guest-rip-rflags
  { id: 'guest-rip-rflags.rflags-vm-ia32e', side: 'failing', reason: NOT_YET },
  { id: 'guest-rip-rflags.rflags-vm-real-mode', side: 'failing', reason: NOT_YET },
  { id: 'guest-rip-rflags.ssp-canonical', side: 'failing', reason: NOT_YET },
  // guest-non-register-state
  { id: 'guest-non-register-state.mov-ss-blocking-vs-external-interrupt', side: 'failing', reason: NOT_YET },
  { id: 'guest-non-register-state.sti-blocking-vs-nmi', side: 'failing', reason: NOT_YET },
  { id: 'guest-non-register-state.enclave-interruption-requires-sgx', side: 'failing', reason: NOT_YET },
  // guest-pdptes
  { id: 'guest-pdptes.pdpte1-in-memory', side: 'failing', reason: NOT_YET },
  { id: 'guest-pdptes.pdpte1-field', side: 'failing', reason: NOT_YET },
  { id: 'guest-pdptes.pdpte2-field', side: 'failing', reason: NOT_YET },
  // execution-controls
  { id: 'execution-controls.ve-information-aligned', side: 'passing', reason: NOT_YET },
  { id: 'execution-controls.ve-information-width', side: 'passing', reason: NOT_YET },
  // Drawn by chance before gen-env's guest environment shifted the gate runs' random streams (gate variants, CPL-3 event guests); still reachable, drawn too rarely.
  { id: 'guest-control-registers.s-cet-canonical', side: 'failing', reason: NOT_YET },
  { id: 'guest-segment-registers.es-s-bit', side: 'failing', reason: NOT_YET },
  { id: 'guest-segment-registers.gs-present', side: 'failing', reason: NOT_YET },
  { id: 'guest-segment-registers.tr-present', side: 'failing', reason: NOT_YET },
  { id: 'guest-non-register-state.pending-debug-bs-set', side: 'failing', reason: NOT_YET },
  { id: 'execution-controls.tertiary-allowed-1', side: 'passing', reason: NOT_YET },
];
