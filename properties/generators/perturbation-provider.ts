/**
 * The extension point of the VMCS perturbations (vmcs-perturb.ts): what a *perturbation provider*
 * is, so that files other than vmcs-perturb.ts can contribute perturbations for the checks they
 * know how to reach.
 *
 * The generic search in vmcs-perturb.ts changes one field near its boundary (or a gate and a
 * field, or two low bits). Some checks need more: coordinated control changes (a control and
 * the control it needs, set together), memory contents (an MSR-load area, a posted-interrupt
 * descriptor, the VTPR byte of the virtual-APIC page), or processor state at the VMLAUNCH (outside
 * IA-32e mode). A provider writes those down for one check, or for a whole group, as
 * {@link Perturbation}s: VMWRITEs over the built VMCS plus {@link PreEntryStep}s just before the
 * VMLAUNCH.
 *
 * How to contribute: export a {@link ProviderTable} from your file (keys are catalogue check ids,
 * `execution-controls.vpid-nonzero`, or group names, `guest-non-register-state`, for a provider
 * that serves every check of the group) and add it to `PROVIDER_TABLES` in vmcs-perturb.ts (one
 * import, one array entry). A provider must not import vmcs-perturb.ts (this file and
 * vmcs-builder.ts hold what it needs). What a provider returns is judged by the model's rule for
 * the check before it is used: a "failing" perturbation that does not fail the rule (or, for a
 * check the SDM lets fail or pass on what the profile records, may fail it: the engine decides),
 * or a "passing" one that does not pass it (not-applicable is not passing), is dropped, so a
 * provider may be generous. Provider perturbations come before the generic search's, and among them those
 * that fail no other modelled rule come first.
 */
import type { CheckResult } from '../../model/vm-entry/check.ts';
import { FIELD, fieldByEncoding, type FieldName } from '../../spec/fields.ts';
import type { SettableState } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import type { BuildOptions, VmcsValues } from './vmcs-builder.ts';

/** One VMWRITE of a perturbation. */
export interface FieldChange {
  field: FieldName;
  value: bigint;
}

/** A step just before the VMLAUNCH that is not a VMWRITE (the group adds the processor number). */
export type PreEntryStep =
  /** A 32-bit store to physical memory (4-byte-aligned address): memory a check reads. */
  | { kind: 'write-memory'; address: bigint; value: bigint }
  /** Processor state set directly (spec/operations.ts `set`). */
  | { kind: 'set'; what: SettableState; value: number };

/** One perturbation of the built VMCS: VMWRITEs, and steps before the VMLAUNCH. */
export interface Perturbation {
  changes: readonly FieldChange[];
  /** Memory stores and processor-state changes made after the VMWRITEs, before the VMLAUNCH. */
  before?: readonly PreEntryStep[];
}

/** What a provider is given: the built VMCS and a judge for the check it is asked about. */
export interface ProviderContext {
  /** The catalogue id of the check. */
  readonly id: string;
  readonly profile: Profile;
  readonly options: BuildOptions;
  /** The valid VMCS (vmcs-builder.ts) the perturbation applies to. */
  readonly values: VmcsValues;
  /**
   * The model's judgement of the check over `values` with `perturbation` applied (memory stores
   * and `efer.lma` seen by the check); `undecided` when the model does not implement the check.
   */
  judge(perturbation: Perturbation): CheckResult['kind'];
}

/** Perturbations for one check (or each check of a group); either side may be left out. */
export interface PerturbationProvider {
  /** Perturbations that make the check fail. */
  failing?(context: ProviderContext): readonly Perturbation[];
  /** Perturbations that make the check apply and pass (reach it on its passing side). */
  passing?(context: ProviderContext): readonly Perturbation[];
}

/** Providers by catalogue check id or by group name. */
export type ProviderTable = Readonly<Record<string, PerturbationProvider>>;

/** A perturbation of VMWRITEs only. */
export function writes(...changes: FieldChange[]): Perturbation {
  return { changes };
}

/** `1n << n`. */
export function bit(n: number): bigint {
  return 1n << BigInt(n);
}

/** The VMCS region the VM-entry step group makes current (the link-pointer checks compare with it). */
export const BUILT_VMCS_POINTER = 0x2000n;

/** The width of `field` in bits (natural-width fields count as 64). */
export function widthBits(field: FieldName): number {
  const width = fieldByEncoding(FIELD[field])?.width;
  return width === 16 ? 16 : width === 32 ? 32 : 64;
}

/**
 * Values one step from `value` in `field`: single bits flipped, 0, all ones, ±1, the first bit
 * beyond the physical-address width, and (64-bit fields) the current VMCS pointer.
 */
export function candidateValues(field: FieldName, value: bigint, profile: Profile): bigint[] {
  const bits = widthBits(field);
  const all = (1n << BigInt(bits)) - 1n;
  const found = new Set<bigint>();
  for (let b = 0; b < bits; b += 1) found.add(value ^ (1n << BigInt(b)));
  found.add(0n);
  found.add(all);
  found.add(value + 1n);
  found.add(value - 1n);
  if (profile.data.physicalAddressWidth < bits) found.add(value | (1n << BigInt(profile.data.physicalAddressWidth)));
  if (bits === 64) found.add(BUILT_VMCS_POINTER);
  found.delete(value);
  return [...found].filter((v) => v >= 0n && v <= all);
}
