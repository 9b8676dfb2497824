/**
 * Checks on the guest RIP, RFLAGS and SSP, in the order of SDM Vol. 3C (December 2023) §27.3.1.4
 * "Checks on Guest RIP, RFLAGS, and SSP" (2016: §26.3.1.4 "Checks on Guest RIP and RFLAGS", the
 * edition the catalogue read; the SSP and FRED checks are corroborated in Bochs and KVM). A
 * failure is a VM-entry failure, exit reason 33, qualification 0. Each rule is named by its
 * catalogue id; the condition in words and the citation are in spec/entry-checks/guest-rip-rflags.ts.
 *
 * "Bits 63:N identical" depends on the linear-address width N, which the profile does not
 * record: where 48 and 57 disagree the check may fail or not (linear-addresses.ts).
 */
import { ENTRY_CONTROL } from '../../../spec/control-bits.ts';
import { CR0, CR4, INTERRUPTION_TYPE, RFLAGS, RFLAGS_RESERVED_ZERO } from '../../../spec/guest-state-bits.ts';
import { bitOf } from '../../non-root.ts';
import { check } from '../check.ts';
import type { EntryRule } from '../check.ts';
import { csLongMode, dplOf, ia32eModeGuest, injects, virtual8086Guest } from '../guest-facts.ts';
import { identicalAboveWidth as highBitsIdenticalAboveWidth } from '../linear-addresses.ts';

/** True when the guest will run 64-bit code: "IA-32e mode guest" = 1 and CS.L = 1. */
const sixtyFourBit = (f: { VM_ENTRY_CONTROLS: bigint; GUEST_CS_ACCESS_RIGHTS: bigint }): boolean =>
  ia32eModeGuest(f.VM_ENTRY_CONTROLS) && csLongMode(f.GUEST_CS_ACCESS_RIGHTS);

/** True when "load CET state" is 1. */
const loadsCet = (f: { VM_ENTRY_CONTROLS: bigint }): boolean => bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.LOAD_CET_STATE);

/** The guest RIP, RFLAGS and SSP checks, in SDM order. */
export const GUEST_RIP_RFLAGS_RULES: readonly EntryRule[] = [
  check('guest-rip-rflags.rip-high-zero', {
    when: { fields: ['VM_ENTRY_CONTROLS', 'GUEST_CS_ACCESS_RIGHTS'], test: (f) => !sixtyFourBit(f) },
    fields: ['GUEST_RIP'],
    holds: (f) => f.GUEST_RIP >> 32n === 0n,
  }),
  check('guest-rip-rflags.rip-canonical', {
    when: { fields: ['VM_ENTRY_CONTROLS', 'GUEST_CS_ACCESS_RIGHTS'], test: (f) => sixtyFourBit(f) },
    fields: ['GUEST_RIP'],
    holds: (f) => highBitsIdenticalAboveWidth(f.GUEST_RIP),
  }),
  check('guest-rip-rflags.rflags-reserved-zero', {
    fields: ['GUEST_RFLAGS'],
    holds: (f) => (f.GUEST_RFLAGS & RFLAGS_RESERVED_ZERO) === 0n,
  }),
  check('guest-rip-rflags.rflags-bit1-set', {
    fields: ['GUEST_RFLAGS'],
    holds: (f) => bitOf(f.GUEST_RFLAGS, RFLAGS.FIXED_1),
  }),
  check('guest-rip-rflags.rflags-vm-ia32e', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => ia32eModeGuest(f.VM_ENTRY_CONTROLS) },
    fields: ['GUEST_RFLAGS'],
    holds: (f) => !virtual8086Guest(f.GUEST_RFLAGS),
  }),
  check('guest-rip-rflags.rflags-vm-real-mode', {
    when: { fields: ['GUEST_CR0'], test: (f) => !bitOf(f.GUEST_CR0, CR0.PE) },
    fields: ['GUEST_RFLAGS'],
    holds: (f) => !virtual8086Guest(f.GUEST_RFLAGS),
  }),
  check('guest-rip-rflags.rflags-if-for-external-interrupt', {
    when: {
      fields: ['VM_ENTRY_INTERRUPTION_INFORMATION'],
      test: (f) => injects(f.VM_ENTRY_INTERRUPTION_INFORMATION, INTERRUPTION_TYPE.EXTERNAL_INTERRUPT),
    },
    fields: ['GUEST_RFLAGS'],
    holds: (f) => bitOf(f.GUEST_RFLAGS, RFLAGS.IF),
  }),
  check('guest-rip-rflags.ssp-high-zero', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => loadsCet(f) && !ia32eModeGuest(f.VM_ENTRY_CONTROLS) },
    fields: ['GUEST_SSP'],
    holds: (f) => f.GUEST_SSP >> 32n === 0n,
  }),
  check('guest-rip-rflags.ssp-canonical', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: loadsCet },
    fields: ['GUEST_SSP'],
    holds: (f) => highBitsIdenticalAboveWidth(f.GUEST_SSP),
  }),
  check('guest-rip-rflags.ssp-aligned', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: loadsCet },
    fields: ['GUEST_SSP'],
    holds: (f) => (f.GUEST_SSP & 3n) === 0n,
  }),
  check('guest-rip-rflags.rflags-iopl-fred', {
    when: {
      fields: ['VM_ENTRY_CONTROLS', 'GUEST_CR4'],
      test: (f) => ia32eModeGuest(f.VM_ENTRY_CONTROLS) && bitOf(f.GUEST_CR4, CR4.FRED),
    },
    fields: ['GUEST_SS_ACCESS_RIGHTS', 'GUEST_RFLAGS'],
    holds: (f) => dplOf(f.GUEST_SS_ACCESS_RIGHTS) !== 3n || ((f.GUEST_RFLAGS >> BigInt(RFLAGS.IOPL)) & 3n) === 0n,
  }),
];
