/**
 * Guest-state VM-entry checks (spec/entry-checks/, groups guest-*) that the CI-sized runs on the
 * built-in profiles cannot hit, on one side or both, each with the reason. Kept as data, sorted by
 * group then check, for the coverage gate's exception list (properties/entry-check-exceptions.ts,
 * written with the control and host groups), which folds these in.
 */

/** Which side of a check cannot be hit. */
export type UnreachableSide = 'failing' | 'passing' | 'both';

/** One check the runs cannot hit, and why. */
export interface EntryCheckException {
  id: string;
  side: UnreachableSide;
  reason: string;
}

const NO_FRED = 'needs FRED (VM-entry control "load IA32_FRED", CR4.FRED allowed): no built-in profile has it';
const FRED_IDS = [
  'guest-control-registers.fred-config-reserved',
  'guest-control-registers.fred-config-canonical',
  ...(['rsp', 'ssp'] as const).flatMap((kind) => [1, 2, 3].flatMap((n) => [`guest-control-registers.fred-${kind}${n}-canonical`, `guest-control-registers.fred-${kind}${n}-aligned`])),
];

/** The guest-state checks no CI-sized run on skylake or maximal can hit, with the side and the reason. */
export const GUEST_ENTRY_CHECK_EXCEPTIONS: readonly EntryCheckException[] = [
  { id: 'guest-control-registers.cr4-fred-requires-ia32e', side: 'failing', reason: `${NO_FRED}; without it CR4.FRED fails the CR4 fixed-1 check too` },
  ...FRED_IDS.map((id): EntryCheckException => ({ id, side: 'both', reason: NO_FRED })),
  {
    id: 'guest-control-registers.spec-ctrl-writable',
    side: 'both',
    reason: 'needs the VM-entry control "load IA32_SPEC_CTRL" (bit 24): no built-in profile allows it',
  },
  { id: 'guest-segment-registers.ss-dpl-fred', side: 'both', reason: NO_FRED },
  { id: 'guest-segment-registers.cs-l-fred', side: 'both', reason: NO_FRED },
  { id: 'guest-rip-rflags.rflags-iopl-fred', side: 'both', reason: NO_FRED },
  {
    id: 'guest-non-register-state.wait-for-sipi-not-entering-smm',
    side: 'both',
    reason: 'applies only with "entry to SMM" = 1, which fails the VM-entry control checks outside SMM; the model never enters SMM',
  },
  {
    id: 'guest-non-register-state.smi-blocking-entering-smm',
    side: 'both',
    reason: 'applies only with "entry to SMM" = 1, which fails the VM-entry control checks outside SMM; the model never enters SMM',
  },
  {
    id: 'guest-non-register-state.enclave-interruption-requires-sgx',
    side: 'failing',
    reason:
      'whenever it fails (bit 4 set on a processor without SGX), interruptibility-reserved fails on the same bit with the same exit qualification (0; SDM Vol. 3C, December 2023, §27.3.1.5 "Checks on Guest Non-Register State") and comes first in the catalogue, and the model reports the first check of those that report the consequence (model/vm-entry/enter.ts ruleReporting)',
  },
  { id: 'guest-non-register-state.sti-blocking-fred', side: 'both', reason: NO_FRED },
  {
    id: 'guest-non-register-state.link-pointer-not-executive-vmcs',
    side: 'both',
    reason: 'applies only in SMM (the executive-VMCS pointer of the dual-monitor treatment); the model never enters SMM',
  },
];
