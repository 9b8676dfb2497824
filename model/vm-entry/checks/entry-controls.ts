/**
 * Checks on the VM-entry control fields other than event injection, in the order of SDM Vol. 3C
 * (December 2023) §27.2.1.3 "VM-Entry Control Fields" (2016: §26.2.1.3; the catalogue read the
 * 2016 edition and the 2008-era §22.2.1.3 where the 2016 page was cut off). The event-injection
 * bullet, which the SDM lists between the reserved-bit check and the MSR-load checks, is the
 * group in event-injection.ts. A failure is VMfailValid(7). Each rule is named by its catalogue
 * id; the condition in words and the citation are in spec/entry-checks/entry-controls.ts.
 *
 * The two SMM checks read whether the logical processor is in SMM: the model's processors never
 * are (model/state.ts), so there "entry to SMM" and "deactivate dual-monitor treatment" must be
 * 0; where that is not known (`explain`), the checks are undecided.
 */
import { ENTRY_CONTROL } from '../../../spec/control-bits.ts';
import { bitOf } from '../../non-root.ts';
import { aligned, areaWithinPhysicalWidth, withinPhysicalWidth } from '../addresses.ts';
import { mustBeOnesSet, onlyAllowedOnes } from '../allowed.ts';
import { check, unknown } from '../check.ts';
import type { CheckEnvironment, EntryRule, Truth } from '../check.ts';

/** Bytes of one entry of the VM-entry MSR-load area. */
const MSR_ENTRY_BYTES = 16n;

/** Bits 3:0 of an MSR-area address must be 0 (16-byte aligned). */
const MSR_AREA_ALIGNMENT_BITS = 4;

/** True when the logical processor is in SMM; unknown when the environment does not say. */
function inSmm(env: CheckEnvironment): Truth {
  return env.inSmm ?? unknown('whether the logical processor is in SMM');
}

/** The VM-entry control checks (without event injection), in SDM order. */
export const ENTRY_CONTROL_RULES: readonly EntryRule[] = [
  check('entry-controls.must-be-1', {
    fields: ['VM_ENTRY_CONTROLS'],
    holds: (f, env) => mustBeOnesSet(f.VM_ENTRY_CONTROLS, env.profile.controls.entry),
  }),
  check('entry-controls.allowed-1', {
    fields: ['VM_ENTRY_CONTROLS'],
    holds: (f, env) => onlyAllowedOnes(f.VM_ENTRY_CONTROLS, env.profile.controls.entry),
  }),
  check('entry-controls.msr-load-aligned', {
    when: { fields: ['VM_ENTRY_MSR_LOAD_COUNT'], test: (f) => f.VM_ENTRY_MSR_LOAD_COUNT !== 0n },
    fields: ['VM_ENTRY_MSR_LOAD_ADDRESS'],
    holds: (f) => aligned(f.VM_ENTRY_MSR_LOAD_ADDRESS, MSR_AREA_ALIGNMENT_BITS),
  }),
  check('entry-controls.msr-load-width', {
    when: { fields: ['VM_ENTRY_MSR_LOAD_COUNT'], test: (f) => f.VM_ENTRY_MSR_LOAD_COUNT !== 0n },
    fields: ['VM_ENTRY_MSR_LOAD_ADDRESS'],
    holds: (f, env) => withinPhysicalWidth(f.VM_ENTRY_MSR_LOAD_ADDRESS, env),
  }),
  check('entry-controls.msr-load-last-byte-width', {
    when: { fields: ['VM_ENTRY_MSR_LOAD_COUNT'], test: (f) => f.VM_ENTRY_MSR_LOAD_COUNT !== 0n },
    fields: ['VM_ENTRY_MSR_LOAD_ADDRESS', 'VM_ENTRY_MSR_LOAD_COUNT'],
    holds: (f, env) => areaWithinPhysicalWidth(f.VM_ENTRY_MSR_LOAD_ADDRESS, f.VM_ENTRY_MSR_LOAD_COUNT, MSR_ENTRY_BYTES, env),
  }),
  check('entry-controls.entry-to-smm-only-in-smm', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.ENTRY_TO_SMM) },
    fields: [],
    holds: (_f, env) => inSmm(env),
  }),
  check('entry-controls.deactivate-dual-monitor-only-in-smm', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.DEACTIVATE_DUAL_MONITOR_TREATMENT) },
    fields: [],
    holds: (_f, env) => inSmm(env),
  }),
  check('entry-controls.smm-controls-exclusive', {
    fields: ['VM_ENTRY_CONTROLS'],
    holds: (f) => !(bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.ENTRY_TO_SMM) && bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.DEACTIVATE_DUAL_MONITOR_TREATMENT)),
  }),
];
