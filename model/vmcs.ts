/**
 * The life cycle of a VMCS, per SDM Vol. 3C (December 2023) §25.1 "Overview" and its figure
 * "States of VMCS X", §25.11.1 "Software Use of Virtual-Machine Control Structures" and §25.11.3
 * "Initializing a VMCS".
 *
 * A VMCS is, on each logical processor, active or inactive, and on the processor where it is
 * active, current or not; separately it has a launch state, clear or launched. VMPTRLD X makes X
 * active and current; VMPTRLD of another VMCS leaves X active but not current; VMCLEAR X makes X
 * inactive, not current and clear, even when X was never initialized; VMLAUNCH makes the current
 * VMCS launched. Nothing else changes these states.
 *
 * Where the data lives. A processor may keep the data of an active VMCS in memory, on the
 * processor, or both, and the format in memory is implementation-specific (§25.1, §25.2). The
 * model therefore keeps an active VMCS's data with the processor (`CpuState.active`) and the data
 * of inactive VMCSs in `ModelState.regions`, by region address; VMCLEAR moves data from the first
 * to the second ("ensure that data for the VMCS is in memory"), VMPTRLD from the second to the
 * first. An address is in at most one of those places.
 *
 * What the model knows of the data is abstract (state.ts): field values known or unknown, launch
 * state clear, launched or unknown. It is unknown
 * - for a region never VMCLEARed: software "has no way to know" how the processor will interpret
 *   a freshly allocated region (§25.11.3), so VMPTRLD of it yields unknown fields and launch state;
 * - after VMXOFF for every VMCS still active on that processor: such VMCSs "may be corrupted" and
 *   their data may become undefined (§25.11.1);
 * - after an ordinary memory write into the data area of an inactive region (processor-state-ops.ts).
 * Fields never written since VMCLEAR are unknown too: VMCLEAR initializes implementation-specific
 * data and the launch state, not field values. Field values survive VMCLEAR and a later VMPTRLD on
 * any processor: that is how the SDM has software migrate a VMCS between processors (§25.11.1).
 */
import type { ActiveVmcs, ModelState, VmcsContent } from './state.ts';
import { cpuOf, NO_CURRENT_VMCS, withCpu } from './state.ts';

/** Content of a VMCS nothing is known about. */
export const UNKNOWN_CONTENT: VmcsContent = { fields: new Map(), launch: 'unknown', leftActiveByVmxoff: false };

/** The data of the inactive VMCS whose region is at `address`, as held in memory. */
export function contentInMemory(state: ModelState, address: bigint): VmcsContent {
  return state.regions.get(address) ?? UNKNOWN_CONTENT;
}

/** The current VMCS of processor `cpu`, or `undefined` when the current-VMCS pointer is invalid. */
export function currentVmcs(state: ModelState, cpu: number): ActiveVmcs | undefined {
  const processor = cpuOf(state, cpu);
  if (processor.currentVmcs === NO_CURRENT_VMCS) return undefined;
  return activeVmcs(state, cpu, processor.currentVmcs);
}

/** The VMCS at `address` active on processor `cpu`; a model bug if it is not active there. */
export function activeVmcs(state: ModelState, cpu: number, address: bigint): ActiveVmcs {
  const found = cpuOf(state, cpu).active.get(address);
  if (found === undefined) {
    throw new Error(`model invariant broken: VMCS ${address.toString(16)} is not active on processor ${cpu}`);
  }
  return found;
}

/** `state` with the content of the VMCS at `address`, active on `cpu`, replaced. */
export function withActiveContent(state: ModelState, cpu: number, address: bigint, content: VmcsContent): ModelState {
  const active = new Map(cpuOf(state, cpu).active);
  active.set(address, { ...activeVmcs(state, cpu, address), content });
  return withCpu(state, cpu, { active });
}

/** The processor other than `cpu` on which the VMCS at `address` is active, if any. */
export function activeElsewhere(state: ModelState, cpu: number, address: bigint): number | undefined {
  const index = state.cpus.findIndex((each, i) => i !== cpu && each.active.has(address));
  return index === -1 ? undefined : index;
}

/** The processor other than `cpu` in VMX operation whose VMXON region is at `address`, if any. */
export function vmxonRegionElsewhere(state: ModelState, cpu: number, address: bigint): number | undefined {
  const index = state.cpus.findIndex((each, i) => i !== cpu && each.vmx !== 'outside' && each.vmxonPointer === address);
  return index === -1 ? undefined : index;
}

/**
 * VMCLEAR's effect on the VMCS at `address` (§31.3 VMCLEAR): its data is written to its region,
 * it becomes inactive and not current, its launch state becomes clear; if it was current, the
 * current-VMCS pointer becomes invalid.
 */
export function clearVmcs(state: ModelState, cpu: number, address: bigint): ModelState {
  const processor = cpuOf(state, cpu);
  const own = processor.active.get(address);
  const content = own === undefined ? contentInMemory(state, address) : own.content;
  const active = new Map(processor.active);
  active.delete(address);
  const currentVmcs = processor.currentVmcs === address ? NO_CURRENT_VMCS : processor.currentVmcs;
  const regions = new Map(state.regions);
  regions.set(address, { fields: content.fields, launch: 'clear', leftActiveByVmxoff: false });
  return withCpu({ ...state, regions }, cpu, { active, currentVmcs });
}

/**
 * VMPTRLD's effect (§31.3 VMPTRLD, §25.1): the VMCS at `address` becomes active (if it was not)
 * and current; any other active VMCS stays active. `shadow` is the shadow-VMCS indicator read.
 */
export function loadVmcs(state: ModelState, cpu: number, address: bigint, shadow: boolean): ModelState {
  const processor = cpuOf(state, cpu);
  const active = new Map(processor.active);
  let regions = state.regions;
  if (!active.has(address)) {
    active.set(address, { content: contentInMemory(state, address), shadow });
    const remaining = new Map(state.regions);
    remaining.delete(address);
    regions = remaining;
  }
  return withCpu({ ...state, regions }, cpu, { active, currentVmcs: address });
}

/**
 * What leaving VMX operation does to the VMCSs active on `cpu` (§25.11.1): they may be corrupted,
 * so each goes back to memory with unknown fields and launch state, marked as left active by
 * VMXOFF. The processor has no active and no current VMCS afterwards.
 */
export function abandonActiveVmcss(state: ModelState, cpu: number): ModelState {
  const processor = cpuOf(state, cpu);
  const regions = new Map(state.regions);
  for (const address of processor.active.keys()) {
    regions.set(address, { fields: new Map(), launch: 'unknown', leftActiveByVmxoff: true });
  }
  return withCpu({ ...state, regions }, cpu, { active: new Map(), currentVmcs: NO_CURRENT_VMCS });
}

/**
 * What an ordinary memory write into the VMCS data (bytes 8 and up) of the inactive region at
 * `address` does: the model no longer knows the VMCS's fields or launch state.
 */
export function corruptRegion(state: ModelState, address: bigint): ModelState {
  if (!state.regions.has(address)) return state;
  const regions = new Map(state.regions);
  regions.set(address, UNKNOWN_CONTENT);
  return { ...state, regions };
}

/**
 * The data of the VMCS the VMCS link pointer of processor `cpu` references (`address`), which
 * VMREAD and VMWRITE access in VMX non-root operation with "VMCS shadowing" = 1 (§25.10 "VMCS
 * Types: Ordinary and Shadow"). VM entry checks that region's header but does not say whether it
 * makes the shadow VMCS active (§25.1 notes that its figure does not show every way a shadow VMCS
 * becomes active), and software commonly VMCLEARs the shadow VMCS before entering: the data is
 * where the model keeps it, with the processor when active there, in memory otherwise (unknown for
 * a region never VMCLEARed). `undefined` when the VMCS is active on another processor, whose cached
 * data this processor cannot see (§25.11.1: no VMCS may be active on two processors).
 */
export function linkedVmcsContent(state: ModelState, cpu: number, address: bigint): VmcsContent | undefined {
  const own = cpuOf(state, cpu).active.get(address);
  if (own !== undefined) return own.content;
  if (activeElsewhere(state, cpu, address) !== undefined) return undefined;
  return contentInMemory(state, address);
}

/** `state` with the data of the VMCS at `address` the link pointer references replaced (see {@link linkedVmcsContent}). */
export function withLinkedVmcsContent(state: ModelState, cpu: number, address: bigint, content: VmcsContent): ModelState {
  if (cpuOf(state, cpu).active.has(address)) return withActiveContent(state, cpu, address, content);
  const regions = new Map(state.regions);
  regions.set(address, content);
  return { ...state, regions };
}
