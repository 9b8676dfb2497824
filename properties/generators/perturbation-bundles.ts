/**
 * Helpers for perturbation providers (perturbation-provider.ts) built from *bundles*: a feature set
 * up whole and valid over the built VMCS (the control, the controls it needs, the addresses it
 * reads, page-aligned and inside the physical-address width), which is a check's passing side;
 * the failing side is the bundle with one thing broken (a needed control cleared, one field one
 * step off), so that the check is the only one that fails.
 */
import { EXIT_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { entryCheckById } from '../../spec/entry-checks/index.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { ControlSet } from '../../spec/profile.ts';
import { bit, candidateValues, type FieldChange, type Perturbation, type PerturbationProvider, type ProviderContext } from './perturbation-provider.ts';

/** Pages the bundles point at: page-aligned, far below any physical-address width, used by nothing else. */
export const BUNDLE_PAGES = {
  virtualApic: 0x51000n,
  apicAccess: 0x52000n,
  postedInterruptDescriptor: 0x53000n,
  pml: 0x54000n,
  subPagePermissionTable: 0x55000n,
  eptpList: 0x56000n,
  vmreadBitmap: 0x57000n,
  vmwriteBitmap: 0x58000n,
  exitMsrStore: 0x59000n,
  exitMsrLoad: 0x5a000n,
  entryMsrLoad: 0x5b000n,
} as const;

/** Control fields by the capability group that allows their bits. */
const CONTROL_FIELD: Readonly<Partial<Record<ControlSet, FieldName>>> = {
  pin: 'PIN_BASED_CONTROLS',
  primary: 'PRIMARY_PROCESSOR_BASED_CONTROLS',
  secondary: 'SECONDARY_PROCESSOR_BASED_CONTROLS',
  tertiary: 'TERTIARY_PROCESSOR_BASED_CONTROLS',
  exit: 'PRIMARY_VM_EXIT_CONTROLS',
  'secondary-exit': 'SECONDARY_VM_EXIT_CONTROLS',
  entry: 'VM_ENTRY_CONTROLS',
  vmfunc: 'VM_FUNCTION_CONTROLS',
};

/** Control bits to set, by group; a secondary, tertiary or secondary-exit bit sets the activating control too. */
export type Controls = Partial<Record<ControlSet, readonly number[]>>;

/**
 * A bundle over the built VMCS: `controls` set (each only if the profile allows it), `fields` as
 * given; none when the profile cannot have a control or a field of it.
 */
export function bundle(ctx: ProviderContext, controls: Controls, fields: Readonly<Partial<Record<FieldName, bigint>>> = {}): FieldChange[] | undefined {
  const set: Controls = { ...controls };
  if ((set.secondary?.length ?? 0) > 0 || (set.vmfunc?.length ?? 0) > 0) set.primary = [...(set.primary ?? []), PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS];
  if ((set.vmfunc?.length ?? 0) > 0) set.secondary = [...(set.secondary ?? []), SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS];
  if ((set.tertiary?.length ?? 0) > 0) set.primary = [...(set.primary ?? []), PRIMARY_CONTROL.ACTIVATE_TERTIARY_CONTROLS];
  if ((set['secondary-exit']?.length ?? 0) > 0) set.exit = [...(set.exit ?? []), EXIT_CONTROL.ACTIVATE_SECONDARY_CONTROLS];
  const changes: FieldChange[] = [];
  for (const [group, bits] of Object.entries(set) as [ControlSet, readonly number[]][]) {
    const field = CONTROL_FIELD[group] as FieldName;
    const built = ctx.values.get(field);
    if (built === undefined) return undefined;
    let value = built;
    for (const n of bits) {
      if ((ctx.profile.controls[group].mayBeOne & bit(n)) === 0n) return undefined;
      value |= bit(n);
    }
    changes.push({ field, value });
  }
  for (const [field, value] of Object.entries(fields) as [FieldName, bigint][]) {
    if (!ctx.values.has(field)) return undefined;
    changes.push({ field, value });
  }
  return changes;
}

/** `changes` with `field` set to `value` (replacing an earlier change of it). */
export function withChange(changes: readonly FieldChange[], field: FieldName, value: bigint): FieldChange[] {
  return [...changes.filter((c) => c.field !== field), { field, value }];
}

/** The value `changes` give `field`, or its built value. */
export function valueIn(ctx: ProviderContext, changes: readonly FieldChange[], field: FieldName): bigint {
  return changes.find((c) => c.field === field)?.value ?? (ctx.values.get(field) as bigint);
}

/** `changes` with bit `n` of `field` cleared. */
export function without(ctx: ProviderContext, changes: readonly FieldChange[], field: FieldName, n: number): FieldChange[] {
  return withChange(changes, field, valueIn(ctx, changes, field) & ~bit(n));
}

/**
 * A provider from a bundle: the bundle is the passing side; the failing side is the bundle with
 * one field of `breakable` (default: the check's catalogue fields that are not control fields)
 * one step off (candidateValues), or the bundle changed by `breaks`.
 */
export function fromBundle(
  make: (ctx: ProviderContext) => FieldChange[] | undefined,
  breaks?: (ctx: ProviderContext, base: FieldChange[]) => (FieldChange[] | undefined)[],
  breakable?: readonly FieldName[],
): PerturbationProvider {
  return {
    passing: (ctx) => {
      const base = make(ctx);
      return base === undefined ? [] : [{ changes: base }];
    },
    failing: (ctx) => {
      const base = make(ctx);
      if (base === undefined) return [];
      if (breaks !== undefined) return breaks(ctx, base).flatMap((changes): Perturbation[] => (changes === undefined ? [] : [{ changes }]));
      const fields = breakable ?? ((entryCheckById(ctx.id)?.fields ?? []) as readonly FieldName[]).filter((f) => !Object.values(CONTROL_FIELD).includes(f));
      return fields
        .filter((field) => ctx.values.has(field))
        .flatMap((field) => candidateValues(field, valueIn(ctx, base, field), ctx.profile).map((value) => ({ changes: withChange(base, field, value) })));
    },
  };
}

