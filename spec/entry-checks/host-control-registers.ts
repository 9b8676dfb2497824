/**
 * Checks on the host-state fields for control registers and MSRs (VMfailValid(8)), in the order
 * the SDM lists them; CET, PKRS and FRED checks (added after 2016) follow.
 *
 * Read: the 2008-era SDM Vol. 3B §22.2.2 "Checks on Host Control Registers and MSRs" (page 22-8)
 * for CR0, CR4 and CR3 (at the unreadable foot of page 26-6 in the 2016 copy) and SDM 2016
 * Vol. 3C §26.2.2 (page 26-7) for the MSR fields. The later checks are `corroborated` by Bochs.
 */
import {
  BOCHS_HOST,
  FAIL_HOST_STATE,
  LINEAR_WIDTH_INPUTS as LINEAR,
  SDM_2008,
  SDM_2016,
  SDM_2023,
} from './controls-host-sources.ts';
import type { EntryCheck } from './types.ts';

const BASE = { group: 'host-control-registers', consequence: FAIL_HOST_STATE } as const;
const READ_2016 = { ...SDM_2016.hostControl, verification: 'read' } as const;
const READ_2008 = { ...SDM_2008.hostControl, verification: 'read' } as const;
const LATER = { citation: SDM_2023.hostControl, verification: 'corroborated', basis: BOCHS_HOST } as const;
/** CET checks: Bochs and the KVM nested-CET patches agree. */
const LATER_CET = {
  ...LATER,
  basis: `${BOCHS_HOST}; KVM arch/x86/kvm/vmx/nested.c nested_vmx_check_host_state with is_valid_cet_state (nested CET patch series)`,
} as const;
const EXIT = 'PRIMARY_VM_EXIT_CONTROLS';
const CET = 'the "load CET state" VM-exit control = 1';
const FRED = 'the secondary VM-exit control "load FRED" = 1 (VM-exit control bit 31 = 1)';
const FRED_FIELDS = [EXIT, 'SECONDARY_VM_EXIT_CONTROLS'] as const;

/** One FRED stack-pointer field of the host-state area, checked for canonicity and alignment. */
function fredStackChecks(kind: 'RSP' | 'SSP', level: 1 | 2 | 3, inventoryId: string): EntryCheck[] {
  const field = `HOST_IA32_FRED_${kind}${level}`;
  const alignment = kind === 'RSP' ? 'bits 5:0 are 0 (64-byte aligned)' : 'bits 2:0 are 0 (8-byte aligned)';
  const name = `fred-${kind.toLowerCase()}${level}`;
  return [
    {
      ...BASE, ...LATER, id: `host-control-registers.${name}-canonical`,
      condition: `The host IA32_FRED_${kind}${level} field contains a canonical address.`,
      appliesWhen: FRED, fields: [...FRED_FIELDS, field], alsoReads: LINEAR, inventoryId,
    },
    {
      ...BASE, ...LATER, id: `host-control-registers.${name}-aligned`,
      condition: `In the host IA32_FRED_${kind}${level} field, ${alignment}.`,
      appliesWhen: FRED, fields: [...FRED_FIELDS, field], inventoryId,
    },
  ];
}

/** The host control-register and MSR checks, in SDM order, then the later additions. */
export const HOST_CONTROL_REGISTERS_CHECKS: readonly EntryCheck[] = [
  {
    ...BASE, ...READ_2008, id: 'host-control-registers.cr0-fixed-0',
    condition: 'Every bit that IA32_VMX_CR0_FIXED0 reports as 1 is 1 in the host CR0 field.',
    fields: ['HOST_CR0'], alsoReads: ['IA32_VMX_CR0_FIXED0'], inventoryId: 'H-CR-01',
    note: 'The SDM says "not set any bit to a value not supported in VMX operation". That CR0.NW (bit 29) and CR0.CD (bit 30) are never checked here is a footnote not visible in the copies read.',
  },
  {
    ...BASE, ...READ_2008, id: 'host-control-registers.cr0-fixed-1',
    condition: 'Every bit that IA32_VMX_CR0_FIXED1 reports as 0 is 0 in the host CR0 field.',
    fields: ['HOST_CR0'], alsoReads: ['IA32_VMX_CR0_FIXED1'], inventoryId: 'H-CR-02',
  },
  {
    ...BASE, ...READ_2008, id: 'host-control-registers.cr4-fixed-0',
    condition: 'Every bit that IA32_VMX_CR4_FIXED0 reports as 1 (CR4.VMXE among them) is 1 in the host CR4 field.',
    fields: ['HOST_CR4'], alsoReads: ['IA32_VMX_CR4_FIXED0'], inventoryId: 'H-CR-03',
  },
  {
    ...BASE, ...READ_2008, id: 'host-control-registers.cr4-fixed-1',
    condition: 'Every bit that IA32_VMX_CR4_FIXED1 reports as 0 is 0 in the host CR4 field.',
    fields: ['HOST_CR4'], alsoReads: ['IA32_VMX_CR4_FIXED1'], inventoryId: 'H-CR-04',
  },
  {
    ...BASE, ...LATER, id: 'host-control-registers.cr4-cet-needs-cr0-wp',
    condition: 'Host CR0.WP (bit 16) is 1 when host CR4.CET (bit 23) is 1.',
    fields: ['HOST_CR0', 'HOST_CR4'], inventoryId: 'H-CR-05',
    note: 'Bochs makes this check only when the "load CET state" VM-exit control is 1.',
  },
  {
    ...BASE, ...READ_2008, id: 'host-control-registers.cr3-width',
    condition: 'The host CR3 field sets no bit in 63:52 and no bit in 51:32 at or above the physical-address width.',
    fields: ['HOST_CR3'], alsoReads: ['MAXPHYADDR (CPUID.80000008H:EAX[7:0])'], inventoryId: 'H-CR-06',
    note: 'Later editions may exempt CR3 bits defined by later features (LAM uses bits 62:61); not read here.',
  },
  {
    ...BASE, ...READ_2016, id: 'host-control-registers.sysenter-esp-canonical',
    condition: 'The host IA32_SYSENTER_ESP field contains a canonical address.',
    fields: ['HOST_IA32_SYSENTER_ESP'], alsoReads: LINEAR, inventoryId: 'H-CR-07',
  },
  {
    ...BASE, ...READ_2016, id: 'host-control-registers.sysenter-eip-canonical',
    condition: 'The host IA32_SYSENTER_EIP field contains a canonical address.',
    fields: ['HOST_IA32_SYSENTER_EIP'], alsoReads: LINEAR, inventoryId: 'H-CR-08',
  },
  {
    ...BASE, ...READ_2016, id: 'host-control-registers.perf-global-ctrl-reserved',
    condition: 'The host IA32_PERF_GLOBAL_CTRL field sets no bit reserved in that MSR.',
    appliesWhen: 'the "load IA32_PERF_GLOBAL_CTRL" VM-exit control = 1',
    fields: [EXIT, 'HOST_IA32_PERF_GLOBAL_CTRL'], alsoReads: ['reserved bits of IA32_PERF_GLOBAL_CTRL (CPUID leaf 0AH)'], inventoryId: 'H-CR-09',
  },
  {
    ...BASE, ...READ_2016, id: 'host-control-registers.pat-memory-types',
    condition: 'Each of the 8 bytes of the host IA32_PAT field is 0 (UC), 1 (WC), 4 (WT), 5 (WP), 6 (WB) or 7 (UC-).',
    appliesWhen: 'the "load IA32_PAT" VM-exit control = 1', fields: [EXIT, 'HOST_IA32_PAT'], inventoryId: 'H-CR-10',
  },
  {
    ...BASE, ...READ_2016, id: 'host-control-registers.efer-reserved',
    condition: 'The host IA32_EFER field sets no bit reserved in IA32_EFER.',
    appliesWhen: 'the "load IA32_EFER" VM-exit control = 1',
    fields: [EXIT, 'HOST_IA32_EFER'], alsoReads: ['IA32_EFER bits the processor supports'], inventoryId: 'H-CR-11',
  },
  {
    ...BASE, ...READ_2016, id: 'host-control-registers.efer-lma-matches-address-space-size',
    condition: 'Bit 10 (LMA) of the host IA32_EFER field equals the "host address-space size" VM-exit control.',
    appliesWhen: 'the "load IA32_EFER" VM-exit control = 1', fields: [EXIT, 'HOST_IA32_EFER'], inventoryId: 'H-CR-12',
  },
  {
    ...BASE, ...READ_2016, id: 'host-control-registers.efer-lme-matches-address-space-size',
    condition: 'Bit 8 (LME) of the host IA32_EFER field equals the "host address-space size" VM-exit control.',
    appliesWhen: 'the "load IA32_EFER" VM-exit control = 1', fields: [EXIT, 'HOST_IA32_EFER'], inventoryId: 'H-CR-13',
  },
  {
    ...BASE, ...LATER_CET, id: 'host-control-registers.s-cet-canonical',
    condition: 'The host IA32_S_CET field is canonical, and its bits 63:32 are 0 when "host address-space size" is 0.',
    appliesWhen: CET, fields: [EXIT, 'HOST_IA32_S_CET'], alsoReads: LINEAR, inventoryId: 'H-CR-14',
  },
  {
    ...BASE, ...LATER_CET, id: 'host-control-registers.s-cet-reserved',
    condition: 'Bits 9:6 (reserved) of the host IA32_S_CET field are 0.',
    appliesWhen: CET, fields: [EXIT, 'HOST_IA32_S_CET'], inventoryId: 'H-CR-15',
    note: 'Bochs is_invalid_cet_control (bochs/cpu/cet.cc), the same test WRMSR applies.',
  },
  {
    ...BASE, ...LATER_CET, id: 'host-control-registers.s-cet-suppress-and-tracker',
    condition: 'Bits 10 (SUPPRESS) and 11 (TRACKER, wait for ENDBRANCH) of the host IA32_S_CET field are not both 1.',
    appliesWhen: CET, fields: [EXIT, 'HOST_IA32_S_CET'], inventoryId: 'H-CR-16',
  },
  {
    ...BASE, ...LATER_CET, id: 'host-control-registers.ssp-canonical',
    condition: 'The host SSP field is canonical, and its bits 63:32 are 0 when "host address-space size" is 0.',
    appliesWhen: CET, fields: [EXIT, 'HOST_SSP'], alsoReads: LINEAR, inventoryId: 'H-CR-18',
  },
  {
    ...BASE, ...LATER_CET, id: 'host-control-registers.ssp-aligned',
    condition: 'Bits 1:0 of the host SSP field are 0.',
    appliesWhen: CET, fields: [EXIT, 'HOST_SSP'], inventoryId: 'H-CR-19',
  },
  {
    ...BASE, ...LATER_CET, id: 'host-control-registers.interrupt-ssp-table-canonical',
    condition: 'The host IA32_INTERRUPT_SSP_TABLE_ADDR field contains a canonical address.',
    appliesWhen: CET, fields: [EXIT, 'HOST_IA32_INTERRUPT_SSP_TABLE_ADDR'], alsoReads: LINEAR, inventoryId: 'H-CR-17',
  },
  {
    ...BASE, ...LATER, id: 'host-control-registers.pkrs-reserved',
    condition: 'Bits 63:32 of the host IA32_PKRS field are 0.',
    appliesWhen: 'the "load PKRS" VM-exit control = 1', fields: [EXIT, 'HOST_IA32_PKRS'], inventoryId: 'H-CR-20',
  },
  {
    ...BASE, ...LATER, id: 'host-control-registers.fred-config-reserved',
    condition: 'Bits 2, 5:4 and 11 (reserved) of the host IA32_FRED_CONFIG field are 0.',
    appliesWhen: FRED, fields: [...FRED_FIELDS, 'HOST_IA32_FRED_CONFIG'], inventoryId: 'H-CR-21',
    note: 'The shared inventory also asks bits 63:12 to be canonical; Bochs does not check that, so it is left out.',
  },
  ...fredStackChecks('RSP', 1, 'H-CR-22'),
  ...fredStackChecks('RSP', 2, 'H-CR-22'),
  ...fredStackChecks('RSP', 3, 'H-CR-22'),
  ...fredStackChecks('SSP', 1, 'H-CR-23'),
  ...fredStackChecks('SSP', 2, 'H-CR-23'),
  ...fredStackChecks('SSP', 3, 'H-CR-23'),
];
