/**
 * Checks on the host-state fields for control registers, MSRs and SSP, in the order of SDM Vol. 3C
 * (December 2023) §27.2.2 "Checks on Host Control Registers, MSRs, and SSP" (2016: §26.2.2
 * "Checks on Host Control Registers and MSRs"; the catalogue read CR0, CR4 and CR3 in the
 * 2008-era Vol. 3B §22.2.2 of the same title, the MSR fields in the 2016 edition). The CET, PKRS
 * and FRED checks, added after 2016, follow. A failure is VMfailValid(8). Each rule is named by
 * its catalogue id; the condition in words, the citation and the sources are in
 * spec/entry-checks/host-control-registers.ts.
 *
 * Where the outcome depends on a processor fact the profile does not record, the check may fail
 * (check.ts `MayFail`): the linear-address width for canonical addresses (linear-addresses.ts),
 * the reserved bits of IA32_PERF_GLOBAL_CTRL (CPUID leaf 0AH), execute-disable support for
 * IA32_EFER.NXE, and CR0.NW/CR0.CD, which a footnote of the section (not visible in the copies
 * the catalogue read) says are never checked.
 */
import { EXIT_CONTROL, SECONDARY_EXIT_CONTROL } from '../../../spec/control-bits.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { CR0, CR4, IA32_EFER, IA32_FRED_CONFIG, IA32_S_CET, PAT_MEMORY_TYPES } from '../../../spec/registers.ts';
import { bitOf } from '../../non-root.ts';
import { check, mayFail } from '../check.ts';
import type { CheckEnvironment, EntryRule, Fields, MayFail } from '../check.ts';
import { canonical } from '../linear-addresses.ts';

type ExitControls = Fields<'PRIMARY_VM_EXIT_CONTROLS'>;

/** The check applies when VM-exit control `bit` is 1. */
function whenExitControl(bit: number): { fields: readonly ['PRIMARY_VM_EXIT_CONTROLS']; test(f: ExitControls): boolean } {
  return { fields: ['PRIMARY_VM_EXIT_CONTROLS'], test: (f) => bitOf(f.PRIMARY_VM_EXIT_CONTROLS, bit) };
}

/** The "host address-space size" VM-exit control is 1 (a 64-bit host). */
function hostIs64Bit(exitControls: bigint): boolean {
  return bitOf(exitControls, EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE);
}

/**
 * CR0 bits that break the fixed bits: none passes; only CR0.NW or CR0.CD may fail (the SDM's
 * footnote exempts them, the catalogue could not read it); any other fails.
 */
function cr0Breaks(bits: bigint): boolean | MayFail {
  if ((bits & ~(CR0.NW | CR0.CD)) !== 0n) return false;
  if (bits !== 0n) return mayFail('whether CR0.NW and CR0.CD are exempt from the fixed-bit checks (a footnote of the section, not read here)');
  return true;
}

/** A 64-bit host passes any canonical value; a 32-bit host needs bits 63:32 clear. */
function canonicalForHostSize(value: bigint, exitControls: bigint): boolean | MayFail {
  return hostIs64Bit(exitControls) ? canonical(value) : value >> 32n === 0n;
}

/** The 8 bytes of an IA32_PAT value, lowest first. */
function patBytes(value: bigint): bigint[] {
  const bytes: bigint[] = [];
  for (let shift = 0n; shift < 64n; shift += 8n) bytes.push((value >> shift) & 0xffn);
  return bytes;
}

/**
 * The FRED checks' gate: a processor that supports "load FRED" (the FRED host fields exist only
 * there; elsewhere a "load FRED" of 1 is a control failure, exit-controls.secondary-allowed-1, and
 * no FRED field is checked), and "activate secondary controls" = 1.
 */
const whenFred = {
  fields: ['PRIMARY_VM_EXIT_CONTROLS'] as const,
  test: (f: ExitControls, env: CheckEnvironment): boolean =>
    env.profile.supportsControl('secondary-exit', SECONDARY_EXIT_CONTROL.LOAD_FRED) &&
    bitOf(f.PRIMARY_VM_EXIT_CONTROLS, EXIT_CONTROL.ACTIVATE_SECONDARY_CONTROLS),
};

/** The secondary VM-exit control "load FRED" is 1. */
function loadsFred(secondaryExitControls: bigint): boolean {
  return bitOf(secondaryExitControls, SECONDARY_EXIT_CONTROL.LOAD_FRED);
}

/**
 * The checks on a FRED stack-pointer field: canonical, and aligned (`alignmentBits` low bits 0).
 * They apply on processors that support the "load FRED" secondary VM-exit control, when it and
 * "activate secondary controls" are 1. (The secondary controls are read in the check body, so
 * that a VMCS without secondary VM-exit controls need not write them; on a processor with FRED,
 * a VMCS with secondary controls but without "load FRED" must then have the field written.)
 */
function fredStackChecks(name: string, field: FieldName & `HOST_IA32_FRED_${'RSP' | 'SSP'}${1 | 2 | 3}`, alignmentBits: bigint): EntryRule[] {
  const fields = ['SECONDARY_VM_EXIT_CONTROLS', field] as const;
  return [
    check(`host-control-registers.${name}-canonical`, {
      when: whenFred,
      fields,
      holds: (f) => !loadsFred(f.SECONDARY_VM_EXIT_CONTROLS) || canonical(f[field]),
    }),
    check(`host-control-registers.${name}-aligned`, {
      when: whenFred,
      fields,
      holds: (f) => !loadsFred(f.SECONDARY_VM_EXIT_CONTROLS) || (f[field] & ((1n << alignmentBits) - 1n)) === 0n,
    }),
  ];
}

/** The host control-register, MSR and SSP checks, in SDM order, then the later additions. */
export const HOST_CONTROL_REGISTER_RULES: readonly EntryRule[] = [
  check('host-control-registers.cr0-fixed-0', {
    fields: ['HOST_CR0'],
    holds: (f, env) => cr0Breaks(env.profile.cr0Fixed0 & ~f.HOST_CR0),
  }),
  check('host-control-registers.cr0-fixed-1', {
    fields: ['HOST_CR0'],
    holds: (f, env) => cr0Breaks(f.HOST_CR0 & ~env.profile.cr0Fixed1),
  }),
  check('host-control-registers.cr4-fixed-0', {
    fields: ['HOST_CR4'],
    holds: (f, env) => (env.profile.cr4Fixed0 & ~f.HOST_CR4) === 0n,
  }),
  check('host-control-registers.cr4-fixed-1', {
    fields: ['HOST_CR4'],
    holds: (f, env) => (f.HOST_CR4 & ~env.profile.cr4Fixed1) === 0n,
  }),
  check('host-control-registers.cr4-cet-needs-cr0-wp', {
    fields: ['HOST_CR0', 'HOST_CR4'],
    holds: (f) => (f.HOST_CR4 & CR4.CET) === 0n || (f.HOST_CR0 & CR0.WP) !== 0n,
  }),
  check('host-control-registers.cr3-width', {
    fields: ['HOST_CR3'],
    holds: (f, env) => f.HOST_CR3 >> BigInt(env.profile.data.physicalAddressWidth) === 0n,
  }),
  check('host-control-registers.sysenter-esp-canonical', {
    fields: ['HOST_IA32_SYSENTER_ESP'],
    holds: (f) => canonical(f.HOST_IA32_SYSENTER_ESP),
  }),
  check('host-control-registers.sysenter-eip-canonical', {
    fields: ['HOST_IA32_SYSENTER_EIP'],
    holds: (f) => canonical(f.HOST_IA32_SYSENTER_EIP),
  }),
  check('host-control-registers.perf-global-ctrl-reserved', {
    when: whenExitControl(EXIT_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL),
    fields: ['HOST_IA32_PERF_GLOBAL_CTRL'],
    holds: (f) =>
      f.HOST_IA32_PERF_GLOBAL_CTRL === 0n ||
      mayFail('which IA32_PERF_GLOBAL_CTRL bits are reserved (the counters CPUID leaf 0AH reports), which the profile does not record'),
  }),
  check('host-control-registers.pat-memory-types', {
    when: whenExitControl(EXIT_CONTROL.LOAD_IA32_PAT),
    fields: ['HOST_IA32_PAT'],
    holds: (f) => patBytes(f.HOST_IA32_PAT).every((type) => PAT_MEMORY_TYPES.includes(type)),
  }),
  check('host-control-registers.efer-reserved', {
    when: whenExitControl(EXIT_CONTROL.LOAD_IA32_EFER),
    fields: ['HOST_IA32_EFER'],
    holds: (f) => {
      if ((f.HOST_IA32_EFER & ~(IA32_EFER.SCE | IA32_EFER.LME | IA32_EFER.LMA | IA32_EFER.NXE)) !== 0n) return false;
      if ((f.HOST_IA32_EFER & IA32_EFER.NXE) !== 0n) return mayFail('whether execute-disable is supported and enabled (CPUID.80000001H:EDX[20]), which the profile does not record');
      return true;
    },
  }),
  check('host-control-registers.efer-lma-matches-address-space-size', {
    when: whenExitControl(EXIT_CONTROL.LOAD_IA32_EFER),
    fields: ['PRIMARY_VM_EXIT_CONTROLS', 'HOST_IA32_EFER'],
    holds: (f) => ((f.HOST_IA32_EFER & IA32_EFER.LMA) !== 0n) === hostIs64Bit(f.PRIMARY_VM_EXIT_CONTROLS),
  }),
  check('host-control-registers.efer-lme-matches-address-space-size', {
    when: whenExitControl(EXIT_CONTROL.LOAD_IA32_EFER),
    fields: ['PRIMARY_VM_EXIT_CONTROLS', 'HOST_IA32_EFER'],
    holds: (f) => ((f.HOST_IA32_EFER & IA32_EFER.LME) !== 0n) === hostIs64Bit(f.PRIMARY_VM_EXIT_CONTROLS),
  }),
  check('host-control-registers.s-cet-canonical', {
    when: whenExitControl(EXIT_CONTROL.LOAD_CET_STATE),
    fields: ['PRIMARY_VM_EXIT_CONTROLS', 'HOST_IA32_S_CET'],
    holds: (f) => canonicalForHostSize(f.HOST_IA32_S_CET, f.PRIMARY_VM_EXIT_CONTROLS),
  }),
  check('host-control-registers.s-cet-reserved', {
    when: whenExitControl(EXIT_CONTROL.LOAD_CET_STATE),
    fields: ['HOST_IA32_S_CET'],
    holds: (f) => (f.HOST_IA32_S_CET & IA32_S_CET.RESERVED) === 0n,
  }),
  check('host-control-registers.s-cet-suppress-and-tracker', {
    when: whenExitControl(EXIT_CONTROL.LOAD_CET_STATE),
    fields: ['HOST_IA32_S_CET'],
    holds: (f) => (f.HOST_IA32_S_CET & (IA32_S_CET.SUPPRESS | IA32_S_CET.TRACKER)) !== (IA32_S_CET.SUPPRESS | IA32_S_CET.TRACKER),
  }),
  check('host-control-registers.ssp-canonical', {
    when: whenExitControl(EXIT_CONTROL.LOAD_CET_STATE),
    fields: ['PRIMARY_VM_EXIT_CONTROLS', 'HOST_SSP'],
    holds: (f) => canonicalForHostSize(f.HOST_SSP, f.PRIMARY_VM_EXIT_CONTROLS),
  }),
  check('host-control-registers.ssp-aligned', {
    when: whenExitControl(EXIT_CONTROL.LOAD_CET_STATE),
    fields: ['HOST_SSP'],
    holds: (f) => (f.HOST_SSP & 0b11n) === 0n,
  }),
  check('host-control-registers.interrupt-ssp-table-canonical', {
    when: whenExitControl(EXIT_CONTROL.LOAD_CET_STATE),
    fields: ['HOST_IA32_INTERRUPT_SSP_TABLE_ADDR'],
    holds: (f) => canonical(f.HOST_IA32_INTERRUPT_SSP_TABLE_ADDR),
  }),
  check('host-control-registers.pkrs-reserved', {
    when: whenExitControl(EXIT_CONTROL.LOAD_PKRS),
    fields: ['HOST_IA32_PKRS'],
    holds: (f) => f.HOST_IA32_PKRS >> 32n === 0n,
  }),
  check('host-control-registers.fred-config-reserved', {
    when: whenFred,
    fields: ['SECONDARY_VM_EXIT_CONTROLS', 'HOST_IA32_FRED_CONFIG'],
    holds: (f) => !loadsFred(f.SECONDARY_VM_EXIT_CONTROLS) || (f.HOST_IA32_FRED_CONFIG & IA32_FRED_CONFIG.RESERVED) === 0n,
  }),
  ...fredStackChecks('fred-rsp1', 'HOST_IA32_FRED_RSP1', 6n),
  ...fredStackChecks('fred-rsp2', 'HOST_IA32_FRED_RSP2', 6n),
  ...fredStackChecks('fred-rsp3', 'HOST_IA32_FRED_RSP3', 6n),
  ...fredStackChecks('fred-ssp1', 'HOST_IA32_FRED_SSP1', 3n),
  ...fredStackChecks('fred-ssp2', 'HOST_IA32_FRED_SSP2', 3n),
  ...fredStackChecks('fred-ssp3', 'HOST_IA32_FRED_SSP3', 3n),
];
