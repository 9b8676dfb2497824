/**
 * Checks on the guest control registers, debug registers and MSRs, in the order of SDM Vol. 3C
 * (December 2023) §27.3.1.1 "Checks on Guest Control Registers, Debug Registers, and MSRs"
 * (2016: §26.3.1.1, the edition the catalogue read, with checks added since corroborated in
 * Bochs, KVM and VirtualBox). A failure is a VM-entry failure, exit reason 33, qualification 0.
 * Each rule is named by its catalogue id; the condition in words and the citation are in
 * spec/entry-checks/guest-control-registers.ts.
 *
 * Processor-specific reserved bits the profile does not record (IA32_DEBUGCTL features, counters
 * of IA32_PERF_GLOBAL_CTRL, execute-disable in IA32_EFER, IA32_SPEC_CTRL) and canonical
 * addresses (the linear-address width) make a check `may-fail` where its outcome depends on them.
 */
import { ENTRY_CONTROL } from '../../../spec/control-bits.ts';
import {
  BNDCFGS_RESERVED,
  CR0,
  CR4,
  DEBUGCTL,
  DEBUGCTL_ALWAYS_RESERVED,
  EFER,
  FRED_CONFIG_RESERVED,
  LATER_ENTRY_CONTROL,
  PAT_MEMORY_TYPES,
  S_CET,
} from '../../../spec/guest-state-bits.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { bitOf } from '../../non-root.ts';
import { check, mayFail } from '../check.ts';
import type { EntryRule, Holds } from '../check.ts';
import { ia32eModeGuest, unrestrictedGuest } from '../guest-facts.ts';
import { canonical as canonicalAddress } from '../linear-addresses.ts';

const bit = (n: number): bigint => 1n << BigInt(n);

/** CR0.NW and CR0.CD: never checked, as VM entry does not change them. */
const CR0_NEVER_CHECKED = bit(CR0.NW) | bit(CR0.CD);

/** The low 12 bits that some MSRs holding a linear address in 63:12 use for other purposes. */
const LOW_12 = 0xfffn;

/** IA32_EFER bits reserved on every Intel 64 processor: all but SCE, LME, LMA and NXE. */
const EFER_DEFINED = bit(EFER.SCE) | bit(EFER.LME) | bit(EFER.LMA) | bit(EFER.NXE);

/** True when the VM-entry control `n` is 1. */
const entryControl = (n: number) => ({
  fields: ['VM_ENTRY_CONTROLS'] as const,
  test: (f: { VM_ENTRY_CONTROLS: bigint }) => bitOf(f.VM_ENTRY_CONTROLS, n),
});

/** Bits of `value` that the CR0 checks look at. */
const checkedCr0 = (value: bigint): bigint => value & ~CR0_NEVER_CHECKED;

/** IA32_DEBUGCTL: bits 63:16 and 5:3 fail; LBR and BTF pass; the rest depend on the processor. */
function debugctlValid(value: bigint): Holds {
  if ((value & DEBUGCTL_ALWAYS_RESERVED) !== 0n) return false;
  if ((value & ~(bit(DEBUGCTL.LBR) | bit(DEBUGCTL.BTF))) === 0n) return true;
  return mayFail('IA32_DEBUGCTL bits 2 and 15:6 exist only with processor features the profile does not record');
}

/** IA32_EFER: undefined bits fail; NXE depends on execute-disable support, which the profile does not record. */
function eferValid(value: bigint): Holds {
  if ((value & ~EFER_DEFINED) !== 0n) return false;
  return bitOf(value, EFER.NXE) ? mayFail('IA32_EFER.NXE is reserved when execute-disable is not supported or is disabled') : true;
}

/** Every byte of IA32_PAT a valid memory type. */
function patValid(value: bigint): boolean {
  for (let n = 0n; n < 8n; n += 1n) if (!PAT_MEMORY_TYPES.includes((value >> (8n * n)) & 0xffn)) return false;
  return true;
}

/** One FRED stack-pointer check per level: canonical and aligned. */
function fredStackChecks(kind: 'rsp' | 'ssp', alignmentMask: bigint): EntryRule[] {
  const field = (level: 1 | 2 | 3): FieldName => `GUEST_IA32_FRED_${kind === 'rsp' ? 'RSP' : 'SSP'}${level}`;
  return ([1, 2, 3] as const).flatMap((level) => [
    check(`guest-control-registers.fred-${kind}${level}-canonical`, {
      when: entryControl(LATER_ENTRY_CONTROL.LOAD_IA32_FRED),
      fields: [field(level)],
      holds: (f: Record<FieldName, bigint>) => canonicalAddress(f[field(level)]),
    }),
    check(`guest-control-registers.fred-${kind}${level}-aligned`, {
      when: entryControl(LATER_ENTRY_CONTROL.LOAD_IA32_FRED),
      fields: [field(level)],
      holds: (f: Record<FieldName, bigint>) => (f[field(level)] & alignmentMask) === 0n,
    }),
  ]);
}

/** The guest control-register, debug-register and MSR checks, in SDM order. */
export const GUEST_CONTROL_REGISTER_RULES: readonly EntryRule[] = [
  check('guest-control-registers.cr0-fixed0', {
    fields: ['GUEST_CR0', 'PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f, env) => {
      const exempt = unrestrictedGuest(f.PRIMARY_PROCESSOR_BASED_CONTROLS, f.SECONDARY_PROCESSOR_BASED_CONTROLS) ? bit(CR0.PE) | bit(CR0.PG) : 0n;
      const required = checkedCr0(env.profile.cr0Fixed0) & ~exempt;
      return (f.GUEST_CR0 & required) === required;
    },
  }),
  check('guest-control-registers.cr0-fixed1', {
    fields: ['GUEST_CR0'],
    holds: (f, env) => (checkedCr0(f.GUEST_CR0) & ~env.profile.cr0Fixed1) === 0n,
  }),
  check('guest-control-registers.cr0-pg-requires-pe', {
    fields: ['GUEST_CR0'],
    holds: (f) => !bitOf(f.GUEST_CR0, CR0.PG) || bitOf(f.GUEST_CR0, CR0.PE),
  }),
  check('guest-control-registers.cr4-fixed0', {
    fields: ['GUEST_CR4'],
    holds: (f, env) => (f.GUEST_CR4 & env.profile.cr4Fixed0) === env.profile.cr4Fixed0,
  }),
  check('guest-control-registers.cr4-fixed1', {
    fields: ['GUEST_CR4'],
    holds: (f, env) => (f.GUEST_CR4 & ~env.profile.cr4Fixed1) === 0n,
  }),
  check('guest-control-registers.cr4-cet-requires-cr0-wp', {
    fields: ['GUEST_CR0', 'GUEST_CR4'],
    holds: (f) => !bitOf(f.GUEST_CR4, CR4.CET) || bitOf(f.GUEST_CR0, CR0.WP),
  }),
  check('guest-control-registers.debugctl-reserved', {
    when: entryControl(ENTRY_CONTROL.LOAD_DEBUG_CONTROLS),
    fields: ['GUEST_IA32_DEBUGCTL'],
    holds: (f) => debugctlValid(f.GUEST_IA32_DEBUGCTL),
  }),
  check('guest-control-registers.ia32e-requires-cr0-pg', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => ia32eModeGuest(f.VM_ENTRY_CONTROLS) },
    fields: ['GUEST_CR0'],
    holds: (f) => bitOf(f.GUEST_CR0, CR0.PG),
  }),
  check('guest-control-registers.ia32e-requires-cr4-pae', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => ia32eModeGuest(f.VM_ENTRY_CONTROLS) },
    fields: ['GUEST_CR4'],
    holds: (f) => bitOf(f.GUEST_CR4, CR4.PAE),
  }),
  check('guest-control-registers.cr4-pcide-requires-ia32e', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => !ia32eModeGuest(f.VM_ENTRY_CONTROLS) },
    fields: ['GUEST_CR4'],
    holds: (f) => !bitOf(f.GUEST_CR4, CR4.PCIDE),
  }),
  check('guest-control-registers.cr4-fred-requires-ia32e', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => !ia32eModeGuest(f.VM_ENTRY_CONTROLS) },
    fields: ['GUEST_CR4'],
    holds: (f) => !bitOf(f.GUEST_CR4, CR4.FRED),
  }),
  check('guest-control-registers.cr3-physical-width', {
    fields: ['GUEST_CR3'],
    holds: (f, env) => f.GUEST_CR3 >> BigInt(env.profile.data.physicalAddressWidth) === 0n,
  }),
  check('guest-control-registers.dr7-high-zero', {
    when: entryControl(ENTRY_CONTROL.LOAD_DEBUG_CONTROLS),
    fields: ['GUEST_DR7'],
    holds: (f) => f.GUEST_DR7 >> 32n === 0n,
  }),
  check('guest-control-registers.sysenter-esp-canonical', {
    fields: ['GUEST_IA32_SYSENTER_ESP'],
    holds: (f) => canonicalAddress(f.GUEST_IA32_SYSENTER_ESP),
  }),
  check('guest-control-registers.sysenter-eip-canonical', {
    fields: ['GUEST_IA32_SYSENTER_EIP'],
    holds: (f) => canonicalAddress(f.GUEST_IA32_SYSENTER_EIP),
  }),
  check('guest-control-registers.s-cet-canonical', {
    when: entryControl(ENTRY_CONTROL.LOAD_CET_STATE),
    fields: ['GUEST_IA32_S_CET'],
    holds: (f) => canonicalAddress(f.GUEST_IA32_S_CET & ~LOW_12),
  }),
  check('guest-control-registers.s-cet-high-zero', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.LOAD_CET_STATE) && !ia32eModeGuest(f.VM_ENTRY_CONTROLS) },
    fields: ['GUEST_IA32_S_CET'],
    holds: (f) => f.GUEST_IA32_S_CET >> 32n === 0n,
  }),
  check('guest-control-registers.s-cet-reserved', {
    when: entryControl(ENTRY_CONTROL.LOAD_CET_STATE),
    fields: ['GUEST_IA32_S_CET'],
    holds: (f) => (f.GUEST_IA32_S_CET & S_CET.RESERVED) === 0n,
  }),
  check('guest-control-registers.s-cet-suppress-and-tracker', {
    when: entryControl(ENTRY_CONTROL.LOAD_CET_STATE),
    fields: ['GUEST_IA32_S_CET'],
    holds: (f) => !(bitOf(f.GUEST_IA32_S_CET, S_CET.SUPPRESS) && bitOf(f.GUEST_IA32_S_CET, S_CET.TRACKER)),
  }),
  check('guest-control-registers.interrupt-ssp-table-canonical', {
    when: entryControl(ENTRY_CONTROL.LOAD_CET_STATE),
    fields: ['GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR'],
    holds: (f) => canonicalAddress(f.GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR),
  }),
  check('guest-control-registers.perf-global-ctrl-reserved', {
    when: entryControl(ENTRY_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL),
    fields: ['GUEST_IA32_PERF_GLOBAL_CTRL'],
    holds: (f) =>
      f.GUEST_IA32_PERF_GLOBAL_CTRL === 0n || mayFail('which IA32_PERF_GLOBAL_CTRL bits are reserved depends on the counters (CPUID.0AH), which the profile does not record'),
  }),
  check('guest-control-registers.pat-memory-types', {
    when: entryControl(ENTRY_CONTROL.LOAD_IA32_PAT),
    fields: ['GUEST_IA32_PAT'],
    holds: (f) => patValid(f.GUEST_IA32_PAT),
  }),
  check('guest-control-registers.efer-reserved', {
    when: entryControl(ENTRY_CONTROL.LOAD_IA32_EFER),
    fields: ['GUEST_IA32_EFER'],
    holds: (f) => eferValid(f.GUEST_IA32_EFER),
  }),
  check('guest-control-registers.efer-lma-matches-ia32e', {
    when: entryControl(ENTRY_CONTROL.LOAD_IA32_EFER),
    fields: ['GUEST_IA32_EFER', 'VM_ENTRY_CONTROLS'],
    holds: (f) => bitOf(f.GUEST_IA32_EFER, EFER.LMA) === ia32eModeGuest(f.VM_ENTRY_CONTROLS),
  }),
  check('guest-control-registers.efer-lme-matches-lma', {
    when: {
      fields: ['VM_ENTRY_CONTROLS', 'GUEST_CR0'],
      test: (f) => bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.LOAD_IA32_EFER) && bitOf(f.GUEST_CR0, CR0.PG),
    },
    fields: ['GUEST_IA32_EFER'],
    holds: (f) => bitOf(f.GUEST_IA32_EFER, EFER.LME) === bitOf(f.GUEST_IA32_EFER, EFER.LMA),
  }),
  check('guest-control-registers.bndcfgs-reserved', {
    when: entryControl(ENTRY_CONTROL.LOAD_IA32_BNDCFGS),
    fields: ['GUEST_IA32_BNDCFGS'],
    holds: (f) => (f.GUEST_IA32_BNDCFGS & BNDCFGS_RESERVED) === 0n,
  }),
  check('guest-control-registers.bndcfgs-canonical', {
    when: entryControl(ENTRY_CONTROL.LOAD_IA32_BNDCFGS),
    fields: ['GUEST_IA32_BNDCFGS'],
    holds: (f) => canonicalAddress(f.GUEST_IA32_BNDCFGS & ~LOW_12),
  }),
  check('guest-control-registers.pkrs-high-zero', {
    when: entryControl(ENTRY_CONTROL.LOAD_PKRS),
    fields: ['GUEST_IA32_PKRS'],
    holds: (f) => f.GUEST_IA32_PKRS >> 32n === 0n,
  }),
  check('guest-control-registers.fred-config-reserved', {
    when: entryControl(LATER_ENTRY_CONTROL.LOAD_IA32_FRED),
    fields: ['GUEST_IA32_FRED_CONFIG'],
    holds: (f) => (f.GUEST_IA32_FRED_CONFIG & FRED_CONFIG_RESERVED) === 0n,
  }),
  check('guest-control-registers.fred-config-canonical', {
    when: entryControl(LATER_ENTRY_CONTROL.LOAD_IA32_FRED),
    fields: ['GUEST_IA32_FRED_CONFIG'],
    holds: (f) => canonicalAddress(f.GUEST_IA32_FRED_CONFIG & ~LOW_12),
  }),
  ...fredStackChecks('rsp', 0x3fn),
  ...fredStackChecks('ssp', 0x7n),
  check('guest-control-registers.spec-ctrl-writable', {
    when: entryControl(LATER_ENTRY_CONTROL.LOAD_IA32_SPEC_CTRL),
    fields: ['GUEST_IA32_SPEC_CTRL'],
    holds: (f) =>
      f.GUEST_IA32_SPEC_CTRL === 0n || mayFail('which IA32_SPEC_CTRL bits WRMSR accepts depends on the processor, which the profile does not record'),
  }),
];
