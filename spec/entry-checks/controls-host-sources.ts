/**
 * Citations, consequences and corroboration sources shared by the catalogue files for the basic,
 * control and host-state VM-entry checks (groups basic .. address-space-size).
 *
 * Editions read (see README-controls-host.md for the page addresses):
 * - 2016: SDM Vol. 3C chapter 26 "VM Entries" and Vol. 3D appendix A, as mirrored page by page
 *   on xem.github.io/minix86 (order number not visible); only the top of each page was readable.
 * - 2008-2009 era: SDM Vol. 3B (Part 2) chapter 22 "VM Entries", manualshelf.com copy (order
 *   number not visible); used where the 2016 page was cut off.
 * - December 2023: the VMLAUNCH/VMRESUME instruction page (felixcloutier.com, citing
 *   "Chapter 27, VM Entries").
 * The December 2023 numbers of the 2016 sections are derived (chapter + 1), those of the
 * 2008-era sections by mapping chapter 22 to 27; neither was read in a December 2023 copy.
 */
import { sdm } from '../citation.ts';
import type { Citation } from '../citation.ts';
import { VM_ERROR } from '../errors.ts';
import type { EntryCheckConsequence } from './types.ts';

/** The 2016 edition as read on the minix86 page mirror. */
export const EDITION_2016 = '2016';

/** The older Vol. 3B copy (VMX in chapters 20-26), read where the 2016 pages were cut off. */
export const EDITION_2008 = '2008-2009 era (Vol. 3B Part 2, VMX in chapters 20-26; order number not visible)';

function cite(section: string, title: string, edition: string, volume = '3C'): Citation {
  return { volume, section, title, edition };
}

/** Sections of the 2016 edition, with their derived December 2023 numbers. */
export const SDM_2016 = {
  basic: { citation: cite('26.1', 'Basic VM-Entry Checks', EDITION_2016), december2023Section: '27.1' },
  execution: {
    citation: cite('26.2.1.1', 'VM-Execution Control Fields', EDITION_2016),
    december2023Section: '27.2.1.1',
  },
  exit: { citation: cite('26.2.1.2', 'VM-Exit Control Fields', EDITION_2016), december2023Section: '27.2.1.2' },
  entry: { citation: cite('26.2.1.3', 'VM-Entry Control Fields', EDITION_2016), december2023Section: '27.2.1.3' },
  hostControl: {
    citation: cite('26.2.2', 'Checks on Host Control Registers and MSRs', EDITION_2016),
    december2023Section: '27.2.2',
  },
  hostSegment: {
    citation: cite('26.2.3', 'Checks on Host Segment and Descriptor-Table Registers', EDITION_2016),
    december2023Section: '27.2.3',
  },
  errors: { citation: cite('30.4', 'VM Instruction Error Numbers', EDITION_2016), december2023Section: '31.4' },
  vmFunctions: {
    citation: cite('A.11', 'VM Functions', EDITION_2016, '3D'),
    december2023Section: 'A.11',
  },
} as const;

/** Sections of the 2008-era Vol. 3B copy, with the December 2023 numbers they map to. */
export const SDM_2008 = {
  execution: {
    citation: cite('22.2.1.1', 'VM-Execution Control Fields', EDITION_2008, '3B'),
    december2023Section: '27.2.1.1',
  },
  exit: { citation: cite('22.2.1.2', 'VM-Exit Control Fields', EDITION_2008, '3B'), december2023Section: '27.2.1.2' },
  entry: { citation: cite('22.2.1.3', 'VM-Entry Control Fields', EDITION_2008, '3B'), december2023Section: '27.2.1.3' },
  hostControl: {
    citation: cite('22.2.2', 'Checks on Host Control Registers and MSRs', EDITION_2008, '3B'),
    december2023Section: '27.2.2',
  },
  addressSpace: {
    citation: cite('22.2.4', 'Checks Related to Address-Space Size', EDITION_2008, '3B'),
    december2023Section: '27.2.4',
  },
} as const;

/**
 * December 2023 sections. `vmlaunch` was read (instruction page); the others are the derived
 * numbers and titles under which checks added after 2016 belong, used only for `corroborated`
 * checks.
 */
export const SDM_2023 = {
  vmlaunch: sdm('31.3', 'VMLAUNCH/VMRESUME—Launch/Resume Virtual Machine'),
  execution: sdm('27.2.1.1', 'VM-Execution Control Fields'),
  exit: sdm('27.2.1.2', 'VM-Exit Control Fields'),
  entry: sdm('27.2.1.3', 'VM-Entry Control Fields'),
  hostControl: sdm('27.2.2', 'Checks on Host Control Registers, MSRs, and SSP'),
  addressSpace: sdm('27.2.4', 'Checks Related to Address-Space Size'),
} as const;

/** VMfailValid(7): VM entry with invalid control field(s). */
export const FAIL_CONTROLS: EntryCheckConsequence = { kind: 'vmfail-valid', error: VM_ERROR.ENTRY_INVALID_CONTROLS };

/** VMfailValid(8): VM entry with invalid host-state field(s). */
export const FAIL_HOST_STATE: EntryCheckConsequence = {
  kind: 'vmfail-valid',
  error: VM_ERROR.ENTRY_INVALID_HOST_STATE,
};

/** Bochs (bochs-emu/Bochs, commit 783b58f), the function checking the VMX control fields. */
export const BOCHS_CONTROLS = 'Bochs bochs/cpu/vmx.cc VMenterLoadCheckVmControls (commit 783b58f)';

/** Bochs, the function checking the host-state area (including address-space size). */
export const BOCHS_HOST = 'Bochs bochs/cpu/vmx.cc VMenterLoadCheckHostState (commit 783b58f)';

/** Bochs, the EPTP validity helper called from VMenterLoadCheckVmControls. */
export const BOCHS_EPTP = 'Bochs bochs/cpu/vmx.cc is_eptptr_valid (commit 783b58f)';

/** What "within the physical-address width" reads besides the field. */
export const ADDRESS_WIDTH_INPUTS = ['MAXPHYADDR (CPUID.80000008H:EAX[7:0])', 'IA32_VMX_BASIC[48]'] as const;

/** What "canonical" reads besides the field. */
export const LINEAR_WIDTH_INPUTS = ['linear-address width (CPUID.80000008H:EAX[15:8])'] as const;
