/**
 * Checks related to address-space size, in the order of SDM Vol. 3C (December 2023) §27.2.4
 * "Checks Related to Address-Space Size" (the catalogue read the complete list in the 2008-era
 * Vol. 3B §22.2.4 of the same title; host CR4.PCIDE is a later addition). The SDM makes them "on
 * VMX controls and fields in the host-state area" on processors that support Intel 64
 * architecture, and names no error number: a failure may report VMfailValid(7) or VMfailValid(8)
 * (controls-and-host.ts allows both). Each rule is named by its catalogue id; the condition in
 * words and the citation are in spec/entry-checks/address-space-size.ts.
 *
 * "At the time of VM entry" the processor is in IA-32e mode when IA32_EFER.LMA = 1; the model
 * reads that from the processor making the entry (check.ts `CheckEnvironment.ia32eMode`).
 */
import { ENTRY_CONTROL, EXIT_CONTROL } from '../../../spec/control-bits.ts';
import { CR4 } from '../../../spec/registers.ts';
import { bitOf } from '../../non-root.ts';
import { check, unknown } from '../check.ts';
import type { CheckEnvironment, EntryRule, Fields, Truth } from '../check.ts';
import { canonical } from '../linear-addresses.ts';

/** IA32_EFER.LMA of the processor making the entry, when the environment knows it. */
function inIa32eMode(env: CheckEnvironment): Truth {
  return env.ia32eMode ?? unknown('whether the processor is in IA-32e mode (IA32_EFER.LMA) at VM entry');
}

/** The negation of {@link inIa32eMode}. */
function outsideIa32eMode(env: CheckEnvironment): Truth {
  const mode = inIa32eMode(env);
  return typeof mode === 'boolean' ? !mode : mode;
}

/** The check applies outside IA-32e mode (reads no field). */
const whenOutsideIa32e = { fields: [] as const, test: (_f: Fields<never>, env: CheckEnvironment) => outsideIa32eMode(env) };

/** The check applies in IA-32e mode (reads no field). */
const whenInIa32e = { fields: [] as const, test: (_f: Fields<never>, env: CheckEnvironment) => inIa32eMode(env) };

/** The "host address-space size" VM-exit control is 1 (a 64-bit host). */
function hostIs64Bit(f: Fields<'PRIMARY_VM_EXIT_CONTROLS'>): boolean {
  return bitOf(f.PRIMARY_VM_EXIT_CONTROLS, EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE);
}

/** The check applies when "host address-space size" is 0. */
const whenHost32Bit = { fields: ['PRIMARY_VM_EXIT_CONTROLS'] as const, test: (f: Fields<'PRIMARY_VM_EXIT_CONTROLS'>) => !hostIs64Bit(f) };

/** The check applies when "host address-space size" is 1. */
const whenHost64Bit = { fields: ['PRIMARY_VM_EXIT_CONTROLS'] as const, test: hostIs64Bit };

/** The address-space-size checks, in SDM order. */
export const ADDRESS_SPACE_SIZE_RULES: readonly EntryRule[] = [
  // Outside IA-32e mode at VM entry:
  check('address-space-size.ia32e-guest-needs-ia32e-host-processor', {
    when: whenOutsideIa32e,
    fields: ['VM_ENTRY_CONTROLS'],
    holds: (f) => !bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.IA32E_MODE_GUEST),
  }),
  check('address-space-size.host-size-zero-outside-ia32e', {
    when: whenOutsideIa32e,
    fields: ['PRIMARY_VM_EXIT_CONTROLS'],
    holds: (f) => !hostIs64Bit(f),
  }),
  // In IA-32e mode at VM entry:
  check('address-space-size.host-size-one-in-ia32e', {
    when: whenInIa32e,
    fields: ['PRIMARY_VM_EXIT_CONTROLS'],
    holds: (f) => hostIs64Bit(f),
  }),
  // "Host address-space size" = 0:
  check('address-space-size.ia32e-guest-needs-64-bit-host', {
    when: whenHost32Bit,
    fields: ['VM_ENTRY_CONTROLS'],
    holds: (f) => !bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.IA32E_MODE_GUEST),
  }),
  check('address-space-size.pcide-needs-64-bit-host', {
    when: whenHost32Bit,
    fields: ['HOST_CR4'],
    holds: (f) => (f.HOST_CR4 & CR4.PCIDE) === 0n,
  }),
  check('address-space-size.host-rip-32-bit', {
    when: whenHost32Bit,
    fields: ['HOST_RIP'],
    holds: (f) => f.HOST_RIP >> 32n === 0n,
  }),
  // "Host address-space size" = 1:
  check('address-space-size.host-pae-for-64-bit-host', {
    when: whenHost64Bit,
    fields: ['HOST_CR4'],
    holds: (f) => (f.HOST_CR4 & CR4.PAE) !== 0n,
  }),
  check('address-space-size.host-rip-canonical', {
    when: whenHost64Bit,
    fields: ['HOST_RIP'],
    holds: (f) => canonical(f.HOST_RIP),
  }),
];
