/**
 * Loading host state, as a VM exit does it and as a VM-entry failure after the guest-state checks
 * does it (SDM Vol. 3C, December 2023, §28.5 "Loading Host State"; §27.8 "VM-Entry Failures
 * During or After Loading Guest State", step 2: "processor state is loaded as would be done on a
 * VM exit").
 *
 * Only the state the model tracks per processor (model/state.ts) is loaded here, in the order of
 * the SDM's subsections (the SDM lets the processor do the loading in any order):
 * - §28.5.1 "Loading Host Control Registers, Debug Registers, MSRs": CR0 and CR4 from the host
 *   fields, except that CR0's ET, NW and CD, its bits 63:32, 28:19, 17 and 15:6, and in both
 *   registers every bit fixed in VMX operation keep their values; CR4.PAE is set when the "host
 *   address-space size" VM-exit control is 1, CR4.PCIDE cleared when it is 0; IA32_EFER.LMA (and
 *   LME) take the setting of that control.
 * - §28.5.2 "Loading Host Segment and Descriptor-Table Registers": CS.L takes the setting of
 *   "host address-space size" (so a VM exit never lands in compatibility mode); CS, SS and TR get
 *   DPL 0, so the CPL is 0.
 * - §28.5.3 "Loading Host RIP, RSP, RFLAGS, and SSP": RFLAGS is cleared except bit 1, so the
 *   arithmetic flags are 0 and RFLAGS.VM is 0.
 * - §28.5.5 "Updating Non-Register State": the processor is in the active state; §28.1
 *   "Architectural State before a VM Exit": there is no blocking by STI or by MOV SS.
 * The processor is in VMX root operation afterwards.
 *
 * CR3, RIP, RSP, the segment bases and the MSRs other than IA32_EFER are not tracked by the model.
 * Host PDPTE loading (§28.5.4: a host that uses PAE paging may have its PDPTEs checked, a VMX
 * abort if they are bad) and the VM-exit MSR-load area (§28.6) are the callers' business: see
 * {@link hostLoadBeyondModel}.
 */
import { sdm } from '../../spec/citation.ts';
import { EXIT_CONTROL } from '../../spec/control-bits.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, withCpu } from '../state.ts';
import type { VmcsView } from '../vm-entry/check.ts';

/** CR0 bits a VM exit never modifies: ET (4), bits 15:6, 17, 28:19, NW (29), CD (30), 63:32. */
export const CR0_KEPT_ON_EXIT =
  (1n << 4n) | (0x3ffn << 6n) | (1n << 17n) | (0x3ffn << 19n) | (1n << 29n) | (1n << 30n) | (0xffff_ffffn << 32n);
const CR4_PAE = 1n << 5n;
const CR4_PCIDE = 1n << 17n;
const CR0_PG = 1n << 31n;
const ALL64 = 0xffff_ffff_ffff_ffffn;

/** The fields host-state loading reads. */
export const HOST_LOAD_FIELDS: readonly FieldName[] = ['PRIMARY_VM_EXIT_CONTROLS', 'HOST_CR0', 'HOST_CR4', 'VM_EXIT_MSR_LOAD_COUNT'];

/** What loading host state beyond the model's reach is, for a `not-modelled` verdict. */
export const HOST_LOAD_RULES = {
  exitMsrLoad: rule(
    'host-load.exit-msr-load-area',
    'VM exit',
    sdm('28.6', 'Loading MSRs'),
    'the VM-exit MSR-load count is not 0: MSRs are loaded from the VM-exit MSR-load area after host state (a failure is a VMX abort); not modelled',
  ),
  hostPdptes: rule(
    'host-load.pae-pdptes',
    'VM exit',
    sdm('28.5.4', 'Checking and Loading Host Page-Directory-Pointer-Table Entries'),
    'the host uses PAE paging (host CR4.PAE = 1, CR0.PG = 1, "host address-space size" = 0): the PDPTEs may be checked, a VMX abort if they are bad; not modelled',
  ),
} as const;

/** Bits of CR0 (`fixed0`/`fixed1`) that VMX operation fixes, to 1 or to 0 (§24.8). */
function fixedBits(fixed0: bigint, fixed1: bigint): bigint {
  return (fixed0 | ~fixed1) & ALL64;
}

/** `old` with the bits outside `kept` taken from `loaded`. */
function merge(old: bigint, loaded: bigint, kept: bigint): bigint {
  return (old & kept) | (loaded & ~kept & ALL64);
}

/** The CR0 a VM exit leaves, from the old CR0 and the host CR0 field. */
export function hostCr0(profile: Profile, old: bigint, field: bigint): bigint {
  return merge(old, field, CR0_KEPT_ON_EXIT | fixedBits(profile.cr0Fixed0, profile.cr0Fixed1));
}

/** The CR4 a VM exit leaves, from the old CR4, the host CR4 field and "host address-space size". */
export function hostCr4(profile: Profile, old: bigint, field: bigint, hostAddressSpaceSize: boolean): bigint {
  const loaded = merge(old, field, fixedBits(profile.cr4Fixed0, profile.cr4Fixed1));
  return hostAddressSpaceSize ? loaded | CR4_PAE : loaded & ~CR4_PCIDE;
}

/** The result of host-state loading: the state after it, or what kept the model from loading it. */
export type HostLoad =
  | { kind: 'loaded'; state: ModelState }
  | { kind: 'unknown'; missing: readonly FieldName[] }
  | { kind: 'beyond-model'; rule: (typeof HOST_LOAD_RULES)[keyof typeof HOST_LOAD_RULES] };

/**
 * Host state loaded on processor `cpu` from the VMCS seen through `view` (see the file comment).
 * The VMCS itself is not changed here.
 */
export function loadHostState(state: ModelState, cpu: number, view: VmcsView): HostLoad {
  const missing = HOST_LOAD_FIELDS.filter((field) => view.get(field) === undefined);
  if (missing.length > 0) return { kind: 'unknown', missing };
  const controls = view.get('PRIMARY_VM_EXIT_CONTROLS') as bigint;
  const hostAddressSpaceSize = ((controls >> BigInt(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE)) & 1n) === 1n;
  const processor = cpuOf(state, cpu);
  const cr0 = hostCr0(state.profile, processor.cr0, view.get('HOST_CR0') as bigint);
  const cr4 = hostCr4(state.profile, processor.cr4, view.get('HOST_CR4') as bigint, hostAddressSpaceSize);
  if (!hostAddressSpaceSize && (cr4 & CR4_PAE) !== 0n && (cr0 & CR0_PG) !== 0n) return { kind: 'beyond-model', rule: HOST_LOAD_RULES.hostPdptes };
  if (view.get('VM_EXIT_MSR_LOAD_COUNT') !== 0n) return { kind: 'beyond-model', rule: HOST_LOAD_RULES.exitMsrLoad };
  const mode = hostAddressSpaceSize ? 1 : 0;
  const loaded = withCpu(state, cpu, {
    vmx: 'root',
    cr0,
    cr4,
    eferLma: mode,
    csL: mode,
    cpl: 0,
    rflagsVm: 0,
    flags: 0,
    movSsBlocking: 0,
  });
  return { kind: 'loaded', state: loaded };
}
