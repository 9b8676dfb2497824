/**
 * Loading host state, as a VM exit does it and as a VM-entry failure after the guest-state checks
 * does it (SDM Vol. 3C, December 2023, §28.5 "Loading Host State"; §27.8 "VM-Entry Failures
 * During or After Loading Guest State", step 2: "processor state is loaded as would be done on a
 * VM exit", and step 4, the VM-exit MSR-load area), then loading the VM-exit MSR-load area
 * (§28.6 "Loading MSRs", msr-areas.ts). The SDM lets the processor load host state in any
 * order; the model follows the order of the subsections:
 * - §28.5.1 "Loading Host Control Registers, Debug Registers, MSRs": CR0 and CR4 from the host
 *   fields, except that CR0's ET, NW and CD, its bits 63:32, 28:19, 17 and 15:6, and in both
 *   registers every bit fixed in VMX operation keep their values; CR4.PAE is set when the "host
 *   address-space size" VM-exit control is 1, CR4.PCIDE cleared when it is 0; CR3 from its field;
 *   DR7 is 400H and IA32_DEBUGCTL 0; the SYSENTER MSRs from their fields (IA32_SYSENTER_CS bits
 *   31:0, bits 63:32 cleared); the FS.base and GS.base MSRs from the host FS and GS base fields
 *   (undefined when the selector is 0 and the exit is not to 64-bit mode); IA32_PERF_GLOBAL_CTRL,
 *   IA32_PAT, IA32_EFER, the CET MSRs and IA32_PKRS from their fields with their "load" controls;
 *   IA32_BNDCFGS, IA32_RTIT_CTL and IA32_LBR_CTL cleared with their "clear" controls;
 *   IA32_EFER.LMA and LME take the setting of "host address-space size" in every case.
 * - §28.5.2 "Loading Host Segment and Descriptor-Table Registers": CS.L takes the setting of
 *   "host address-space size" (so a VM exit never lands in compatibility mode); CS, SS and TR get
 *   DPL 0, so the CPL is 0. Selectors and bases other than FS and GS are not tracked.
 * - §28.5.3 "Loading Host RIP, RSP, RFLAGS, and SSP": RIP from its field (RSP is not tracked
 *   outside the guest); RFLAGS is cleared except bit 1, so the arithmetic flags are 0 and
 *   RFLAGS.VM is 0.
 * - §28.5.4 "Checking and Loading Host Page-Directory-Pointer-Table Entries": a VM exit to a host
 *   that uses PAE paging (host CR4.PAE = 1, "host address-space size" = 0; CR0.PG is always 1 in
 *   VMX operation) may check the PDPTEs at the new CR3, and must when PAE paging was not in use
 *   before or CR3 changes; a bad one is a VMX abort with indicator 2 when the check is required.
 *   When it is only allowed, the abort and the host running are both possible and the exit's
 *   observation cannot tell them apart: the processor is not followed (`host-load.pae-pdptes`).
 * - §28.5.5 "Updating Non-Register State": the processor is in the active state; §28.1
 *   "Architectural State before a VM Exit": there is no blocking by STI or by MOV SS.
 * The processor is in VMX root operation afterwards, with no guest register file.
 */
import { sdm } from '../../spec/citation.ts';
import { EXIT_CONTROL } from '../../spec/control-bits.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import { pdptesHaveReservedBits } from '../control-registers.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, withCpu } from '../state.ts';
import type { VmcsView } from '../vm-entry/check.ts';
import { ABORT_INDICATOR, VMX_ABORT_RULES, vmxAbort } from './abort.ts';
import { loadExitMsrs } from './msr-areas.ts';
import { MSR } from './msr-indices.ts';

/** CR0 bits a VM exit never modifies: ET (4), bits 15:6, 17, 28:19, NW (29), CD (30), 63:32. */
export const CR0_KEPT_ON_EXIT =
  (1n << 4n) | (0x3ffn << 6n) | (1n << 17n) | (0x3ffn << 19n) | (1n << 29n) | (1n << 30n) | (0xffff_ffffn << 32n);
const CR4_PAE = 1n << 5n;
const CR4_PCIDE = 1n << 17n;
const CR0_PG = 1n << 31n;
const CR0_PE = 1n;
const ALL64 = 0xffff_ffff_ffff_ffffn;
const LOW32 = 0xffff_ffffn;
/** DR7 after a VM exit. */
export const DR7_AFTER_EXIT = 0x400n;

/** The fields host-state loading reads. */
export const HOST_LOAD_FIELDS: readonly FieldName[] = ['PRIMARY_VM_EXIT_CONTROLS', 'HOST_CR0', 'HOST_CR4'];

/** Where host-state loading goes beyond what the model can follow. */
export const HOST_LOAD_RULES = {
  hostPdptes: rule(
    'host-load.pae-pdptes',
    'VM exit',
    sdm('28.5.4', 'Checking and Loading Host Page-Directory-Pointer-Table Entries'),
    'the host uses PAE paging with the same CR3 as before and a PDPTE with a reserved bit: the VM exit may check them (a VMX abort) or not; the processor is not followed afterwards',
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

/**
 * The CR0 a VM exit leaves, from the old CR0 and the host CR0 field. PE (bit 0) and PG (bit 31)
 * are loaded from the field even though IA32_VMX_CR0_FIXED0 fixes them: with "unrestricted guest"
 * they are not fixed in VMX non-root operation (§26.6 "Unrestricted Guests"), so a guest can leave
 * them 0, while the host-state checks made the host field set them (§27.2.2 "Checks on Host
 * Control Registers, MSRs, and SSP"); the exit must return to the host's protected, paged mode.
 */
export function hostCr0(profile: Profile, old: bigint, field: bigint): bigint {
  const keptFixed = fixedBits(profile.cr0Fixed0, profile.cr0Fixed1) & ~(CR0_PE | CR0_PG);
  return merge(old, field, CR0_KEPT_ON_EXIT | keptFixed);
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
  /** A VMX abort: the indicator written, the processor shut down (untracked with `rule`). */
  | { kind: 'aborted'; state: ModelState; rule: Rule }
  /** The SDM allows outcomes the step cannot tell apart: the processor is not followed afterwards. */
  | { kind: 'beyond-model'; rule: Rule };

function bit(value: bigint, position: number): boolean {
  return ((value >> BigInt(position)) & 1n) === 1n;
}

/**
 * Host state loaded on processor `cpu` from the VMCS seen through `view`, then the VM-exit
 * MSR-load area (see the file comment). The VMCS itself is not changed here.
 */
export function loadHostState(state: ModelState, cpu: number, view: VmcsView): HostLoad {
  const missing = HOST_LOAD_FIELDS.filter((field) => view.get(field) === undefined);
  if (missing.length > 0) return { kind: 'unknown', missing };
  const controls = view.get('PRIMARY_VM_EXIT_CONTROLS') as bigint;
  const hostAddressSpaceSize = bit(controls, EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE);
  const processor = cpuOf(state, cpu);
  const cr0 = hostCr0(state.profile, processor.cr0, view.get('HOST_CR0') as bigint);
  const cr4 = hostCr4(state.profile, processor.cr4, view.get('HOST_CR4') as bigint, hostAddressSpaceSize);
  const cr3 = view.get('HOST_CR3') ?? processor.cr3;
  const mode = hostAddressSpaceSize ? 1 : 0;
  const loaded = withCpu(state, cpu, {
    vmx: 'root',
    cr0,
    cr3,
    cr4,
    dr7: DR7_AFTER_EXIT,
    msrs: hostMsrs(processor.msrs, view, controls, hostAddressSpaceSize),
    eferLme: mode,
    eferLma: mode,
    csL: mode,
    cpl: 0,
    rflagsVm: 0,
    flags: 0,
    rip: view.get('HOST_RIP'),
    movSsBlocking: 0,
    guest: undefined,
    activity: 'active',
  });
  const pdptes = checkHostPdptes(loaded, cpu, processor, hostAddressSpaceSize);
  if (pdptes !== undefined) return pdptes;
  const msrs = loadExitMsrs(loaded, cpu, view);
  if (msrs.kind === 'not-followed') return { kind: 'beyond-model', rule: msrs.rule };
  if (msrs.kind === 'aborted') return { kind: 'aborted', state: msrs.state, rule: VMX_ABORT_RULES.loadingMsrs };
  return { kind: 'loaded', state: msrs.state };
}

/** §28.5.1: the MSRs after host-state loading. */
function hostMsrs(old: ReadonlyMap<number, bigint>, view: VmcsView, controls: bigint, to64Bit: boolean): Map<number, bigint> {
  const msrs = new Map(old);
  const set = (msr: number, value: bigint | undefined): void => {
    if (value === undefined) msrs.delete(msr);
    else msrs.set(msr, value);
  };
  set(MSR.DEBUGCTL, 0n);
  const sysenterCs = view.get('HOST_IA32_SYSENTER_CS');
  set(MSR.SYSENTER_CS, sysenterCs === undefined ? undefined : sysenterCs & LOW32);
  set(MSR.SYSENTER_ESP, view.get('HOST_IA32_SYSENTER_ESP'));
  set(MSR.SYSENTER_EIP, view.get('HOST_IA32_SYSENTER_EIP'));
  for (const [msr, selector, base] of [
    [MSR.FS_BASE, 'HOST_FS_SELECTOR', 'HOST_FS_BASE'],
    [MSR.GS_BASE, 'HOST_GS_SELECTOR', 'HOST_GS_BASE'],
  ] as const) {
    set(msr, !to64Bit && view.get(selector) === 0n ? undefined : view.get(base));
  }
  const loads: ReadonlyArray<readonly [number, number, FieldName]> = [
    [EXIT_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL, MSR.PERF_GLOBAL_CTRL, 'HOST_IA32_PERF_GLOBAL_CTRL'],
    [EXIT_CONTROL.LOAD_IA32_PAT, MSR.PAT, 'HOST_IA32_PAT'],
    [EXIT_CONTROL.LOAD_IA32_EFER, MSR.EFER, 'HOST_IA32_EFER'],
    [EXIT_CONTROL.LOAD_CET_STATE, MSR.S_CET, 'HOST_IA32_S_CET'],
    [EXIT_CONTROL.LOAD_CET_STATE, MSR.INTERRUPT_SSP_TABLE_ADDR, 'HOST_IA32_INTERRUPT_SSP_TABLE_ADDR'],
    [EXIT_CONTROL.LOAD_PKRS, MSR.PKRS, 'HOST_IA32_PKRS'],
  ];
  for (const [control, msr, field] of loads) if (bit(controls, control)) set(msr, view.get(field));
  const clears: ReadonlyArray<readonly [number, number]> = [
    [EXIT_CONTROL.CLEAR_IA32_BNDCFGS, MSR.BNDCFGS],
    [EXIT_CONTROL.CLEAR_IA32_RTIT_CTL, MSR.RTIT_CTL],
    [EXIT_CONTROL.CLEAR_IA32_LBR_CTL, MSR.LBR_CTL],
  ];
  for (const [control, msr] of clears) if (bit(controls, control)) set(msr, 0n);
  return msrs;
}

/**
 * §28.5.4: for a host that uses PAE paging, the abort the PDPTE check requires, the open outcome
 * of a check it only allows, or `undefined` when the PDPTEs pass (or are not checked).
 */
function checkHostPdptes(loaded: ModelState, cpu: number, before: ReturnType<typeof cpuOf>, hostAddressSpaceSize: boolean): HostLoad | undefined {
  const after = cpuOf(loaded, cpu);
  if (hostAddressSpaceSize || (after.cr4 & CR4_PAE) === 0n || (after.cr0 & CR0_PG) === 0n) return undefined;
  if (!pdptesHaveReservedBits(loaded, after)) return undefined;
  const paeBefore = (before.cr0 & CR0_PG) !== 0n && (before.cr4 & CR4_PAE) !== 0n && before.eferLma === 0;
  if (!paeBefore || before.cr3 !== after.cr3) {
    return { kind: 'aborted', state: vmxAbort(loaded, cpu, ABORT_INDICATOR.HOST_PDPTES, VMX_ABORT_RULES.hostPdptes), rule: VMX_ABORT_RULES.hostPdptes };
  }
  return { kind: 'beyond-model', rule: HOST_LOAD_RULES.hostPdptes };
}
