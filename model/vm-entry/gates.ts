/**
 * The conditions most VM-entry control checks apply under: one control is 1. Written once so a
 * check reads "applies when 'enable EPT' is 1" as `when: secondaryOn(SECONDARY_CONTROL.ENABLE_EPT)`.
 * The secondary controls are those in effect (derived.ts `controlsInEffect`), so "'activate
 * secondary controls' = 1 and X = 1" is just `secondaryOn(X)`. Citation: SDM Vol. 3C, December
 * 2023, §27.2.1.1 "VM-Execution Control Fields", whose checks are phrased this way.
 */
import type { FieldName } from '../../spec/fields.ts';
import { bitOf } from '../non-root.ts';
import type { Fields } from './check.ts';

/** A `when` that reads one field and tests one bit of it. */
export interface BitGate<F extends FieldName> {
  readonly fields: readonly [F];
  test(f: Fields<F>): boolean;
}

/** Applies when bit `bit` of `field` is 1. */
export function bitOn<F extends FieldName>(field: F, bit: number): BitGate<F> {
  return { fields: [field], test: (f) => bitOf(f[field], bit) };
}

/** Applies when pin-based control `bit` is 1. */
export const pinOn = (bit: number): BitGate<'PIN_BASED_CONTROLS'> => bitOn('PIN_BASED_CONTROLS', bit);

/** Applies when primary processor-based control `bit` is 1. */
export const primaryOn = (bit: number): BitGate<'PRIMARY_PROCESSOR_BASED_CONTROLS'> => bitOn('PRIMARY_PROCESSOR_BASED_CONTROLS', bit);

/** Applies when secondary processor-based control `bit` is 1 (in effect). */
export const secondaryOn = (bit: number): BitGate<'SECONDARY_PROCESSOR_BASED_CONTROLS'> => bitOn('SECONDARY_PROCESSOR_BASED_CONTROLS', bit);
