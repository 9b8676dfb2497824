/**
 * Checks on the VM-exit control fields, in the order of SDM Vol. 3C (December 2023) §27.2.1.2
 * "VM-Exit Control Fields" (2016: §26.2.1.2). A failure is VMfailValid(7). Each rule is named by
 * its catalogue id; the condition in words and the citation are in
 * spec/entry-checks/exit-controls.ts.
 */
import { EXIT_CONTROL, PIN_CONTROL } from '../../../spec/control-bits.ts';
import { bitOf } from '../../non-root.ts';
import { aligned, areaWithinPhysicalWidth, withinPhysicalWidth } from '../addresses.ts';
import { mustBeOnesSet, onlyAllowedOnes } from '../allowed.ts';
import { check } from '../check.ts';
import type { EntryRule } from '../check.ts';

/** Bytes of one entry of a VM-exit MSR-store, VM-exit MSR-load or VM-entry MSR-load area. */
const MSR_ENTRY_BYTES = 16n;

/** The VM-exit control checks, in SDM order. */
export const EXIT_CONTROL_RULES: readonly EntryRule[] = [
  check('exit-controls.primary-must-be-1', {
    fields: ['PRIMARY_VM_EXIT_CONTROLS'],
    holds: (f, env) => mustBeOnesSet(f.PRIMARY_VM_EXIT_CONTROLS, env.profile.controls.exit),
  }),
  check('exit-controls.primary-allowed-1', {
    fields: ['PRIMARY_VM_EXIT_CONTROLS'],
    holds: (f, env) => onlyAllowedOnes(f.PRIMARY_VM_EXIT_CONTROLS, env.profile.controls.exit),
  }),
  check('exit-controls.secondary-allowed-1', {
    when: { fields: ['PRIMARY_VM_EXIT_CONTROLS'], test: (f) => bitOf(f.PRIMARY_VM_EXIT_CONTROLS, EXIT_CONTROL.ACTIVATE_SECONDARY_CONTROLS) },
    fields: ['SECONDARY_VM_EXIT_CONTROLS'],
    holds: (f, env) => onlyAllowedOnes(f.SECONDARY_VM_EXIT_CONTROLS, env.profile.controls['secondary-exit']),
  }),
  check('exit-controls.save-preemption-timer-needs-timer', {
    when: { fields: ['PRIMARY_VM_EXIT_CONTROLS'], test: (f) => bitOf(f.PRIMARY_VM_EXIT_CONTROLS, EXIT_CONTROL.SAVE_VMX_PREEMPTION_TIMER_VALUE) },
    fields: ['PIN_BASED_CONTROLS'],
    holds: (f) => bitOf(f.PIN_BASED_CONTROLS, PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER),
  }),
  check('exit-controls.msr-store-aligned', {
    when: { fields: ['VM_EXIT_MSR_STORE_COUNT'], test: (f) => f.VM_EXIT_MSR_STORE_COUNT !== 0n },
    fields: ['VM_EXIT_MSR_STORE_ADDRESS'],
    holds: (f) => aligned(f.VM_EXIT_MSR_STORE_ADDRESS, 4),
  }),
  check('exit-controls.msr-store-width', {
    when: { fields: ['VM_EXIT_MSR_STORE_COUNT'], test: (f) => f.VM_EXIT_MSR_STORE_COUNT !== 0n },
    fields: ['VM_EXIT_MSR_STORE_ADDRESS'],
    holds: (f, env) => withinPhysicalWidth(f.VM_EXIT_MSR_STORE_ADDRESS, env),
  }),
  check('exit-controls.msr-store-last-byte-width', {
    when: { fields: ['VM_EXIT_MSR_STORE_COUNT'], test: (f) => f.VM_EXIT_MSR_STORE_COUNT !== 0n },
    fields: ['VM_EXIT_MSR_STORE_ADDRESS', 'VM_EXIT_MSR_STORE_COUNT'],
    holds: (f, env) => areaWithinPhysicalWidth(f.VM_EXIT_MSR_STORE_ADDRESS, f.VM_EXIT_MSR_STORE_COUNT, MSR_ENTRY_BYTES, env),
  }),
  check('exit-controls.msr-load-aligned', {
    when: { fields: ['VM_EXIT_MSR_LOAD_COUNT'], test: (f) => f.VM_EXIT_MSR_LOAD_COUNT !== 0n },
    fields: ['VM_EXIT_MSR_LOAD_ADDRESS'],
    holds: (f) => aligned(f.VM_EXIT_MSR_LOAD_ADDRESS, 4),
  }),
  check('exit-controls.msr-load-width', {
    when: { fields: ['VM_EXIT_MSR_LOAD_COUNT'], test: (f) => f.VM_EXIT_MSR_LOAD_COUNT !== 0n },
    fields: ['VM_EXIT_MSR_LOAD_ADDRESS'],
    holds: (f, env) => withinPhysicalWidth(f.VM_EXIT_MSR_LOAD_ADDRESS, env),
  }),
  check('exit-controls.msr-load-last-byte-width', {
    when: { fields: ['VM_EXIT_MSR_LOAD_COUNT'], test: (f) => f.VM_EXIT_MSR_LOAD_COUNT !== 0n },
    fields: ['VM_EXIT_MSR_LOAD_ADDRESS', 'VM_EXIT_MSR_LOAD_COUNT'],
    holds: (f, env) => areaWithinPhysicalWidth(f.VM_EXIT_MSR_LOAD_ADDRESS, f.VM_EXIT_MSR_LOAD_COUNT, MSR_ENTRY_BYTES, env),
  }),
];
