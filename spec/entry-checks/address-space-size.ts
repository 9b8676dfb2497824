/**
 * Checks related to address-space size (made on processors that support Intel 64 architecture),
 * in the order the SDM lists them. They mix VMX controls and host-state fields.
 *
 * Read: the 2008-era SDM Vol. 3B §22.2.4 "Checks Related to Address-Space Size" (page 22-9),
 * complete there; the 2016 page 26-7 shows only the section's opening. CR4.PCIDE (added after the
 * 2008-era copy) is `corroborated` by Bochs.
 *
 * Error number: the SDM says only that these checks are made "on VMX controls and fields in the
 * host-state area" and does not assign an error number to each. Every check here records 8
 * (invalid host-state field), which Bochs reports for all of them; for the checks that read only
 * control bits and IA32_EFER.LMA, error 7 is equally defensible, and each note says so.
 */
import { BOCHS_HOST, FAIL_HOST_STATE, LINEAR_WIDTH_INPUTS as LINEAR, SDM_2008, SDM_2023 } from './controls-host-sources.ts';
import type { EntryCheck } from './types.ts';

const BASE = { group: 'address-space-size', consequence: FAIL_HOST_STATE } as const;
const READ = { ...SDM_2008.addressSpace, verification: 'read' } as const;
const ENTRY = 'VM_ENTRY_CONTROLS';
const EXIT = 'PRIMARY_VM_EXIT_CONTROLS';
const CONTROLS_ONLY =
  'Reads only control bits and the processor mode: error 7 (invalid control field) is as defensible as the error 8 recorded here (Bochs reports 8).';
const HOST_FIELD = 'Reads a host-state field, so error 8 fits; the SDM does not name the number, and error 7 is not excluded by its text.';

/** The address-space-size checks, in SDM order. */
export const ADDRESS_SPACE_SIZE_CHECKS: readonly EntryCheck[] = [
  {
    ...BASE, ...READ, id: 'address-space-size.ia32e-guest-needs-ia32e-host-processor',
    condition: 'The "IA-32e mode guest" VM-entry control is 0 when the logical processor is outside IA-32e mode (IA32_EFER.LMA = 0) at VM entry.',
    fields: [ENTRY], alsoReads: ['IA32_EFER.LMA'], inventoryId: 'H-AS-01', note: CONTROLS_ONLY,
  },
  {
    ...BASE, ...READ, id: 'address-space-size.host-size-zero-outside-ia32e',
    condition: 'The "host address-space size" VM-exit control is 0 when IA32_EFER.LMA = 0 at VM entry.',
    fields: [EXIT], alsoReads: ['IA32_EFER.LMA'], inventoryId: 'H-AS-02', note: CONTROLS_ONLY,
  },
  {
    ...BASE, ...READ, id: 'address-space-size.host-size-one-in-ia32e',
    condition: 'The "host address-space size" VM-exit control is 1 when IA32_EFER.LMA = 1 at VM entry.',
    fields: [EXIT], alsoReads: ['IA32_EFER.LMA'], inventoryId: 'H-AS-03', note: CONTROLS_ONLY,
  },
  {
    ...BASE, ...READ, id: 'address-space-size.ia32e-guest-needs-64-bit-host',
    condition: 'The "IA-32e mode guest" VM-entry control is 0 when the "host address-space size" VM-exit control is 0.',
    fields: [ENTRY, EXIT], inventoryId: 'H-AS-04', note: CONTROLS_ONLY,
  },
  {
    ...BASE, citation: SDM_2023.addressSpace, verification: 'corroborated', basis: BOCHS_HOST,
    id: 'address-space-size.pcide-needs-64-bit-host',
    condition: 'Host CR4.PCIDE (bit 17) is 0 when the "host address-space size" VM-exit control is 0.',
    fields: [EXIT, 'HOST_CR4'], inventoryId: 'H-AS-05', note: HOST_FIELD,
  },
  {
    ...BASE, ...READ, id: 'address-space-size.host-rip-32-bit',
    condition: 'Bits 63:32 of the host RIP field are 0 when the "host address-space size" VM-exit control is 0.',
    fields: [EXIT, 'HOST_RIP'], inventoryId: 'H-AS-06', note: HOST_FIELD,
  },
  {
    ...BASE, ...READ, id: 'address-space-size.host-pae-for-64-bit-host',
    condition: 'Host CR4.PAE (bit 5) is 1 when the "host address-space size" VM-exit control is 1.',
    fields: [EXIT, 'HOST_CR4'], inventoryId: 'H-AS-08', note: HOST_FIELD,
  },
  {
    ...BASE, ...READ, id: 'address-space-size.host-rip-canonical',
    condition: 'The host RIP field contains a canonical address when the "host address-space size" VM-exit control is 1.',
    fields: [EXIT, 'HOST_RIP'], alsoReads: LINEAR, inventoryId: 'H-AS-09',
    note: `${HOST_FIELD} Later editions may judge canonicity against host CR4.LA57 (5-level paging); not read here.`,
  },
];
