/**
 * Checks on the event-injection fields (VM-entry interruption-information field, VM-entry
 * exception error code, VM-entry instruction length): VMfailValid(7). All apply only when the
 * valid bit (bit 31) of the interruption-information field is 1.
 *
 * Read: SDM 2016 Vol. 3C §26.2.1.3 "VM-Entry Control Fields" (page 26-6) and the 2008-era
 * Vol. 3B §22.2.1.3 (page 22-7) for the instruction-length bullet cut off in the 2016 copy.
 * FRED additions are `corroborated` by Bochs.
 */
import { BOCHS_CONTROLS, FAIL_CONTROLS, SDM_2008, SDM_2016, SDM_2023 } from './controls-host-sources.ts';
import type { EntryCheck } from './types.ts';

const BASE = { group: 'event-injection', consequence: FAIL_CONTROLS } as const;
const READ_2016 = { ...SDM_2016.entry, verification: 'read' } as const;
const FRED = { citation: SDM_2023.entry, verification: 'corroborated', basis: BOCHS_CONTROLS } as const;
const INFO = 'VM_ENTRY_INTERRUPTION_INFORMATION';
const VALID = 'interruption-information bit 31 (valid) = 1';
const ERROR_VECTORS = '8 (#DF), 10 (#TS), 11 (#NP), 12 (#SS), 13 (#GP), 14 (#PF) or 17 (#AC)';
const PROTECTED = '("unrestricted guest" = 0 or guest CR0.PE = 1)';
const ERROR_CODE_NOTE =
  'The 2016 text states one "if and only if" rule; it is split here into the four directions that fail separately. Processors reporting IA32_VMX_BASIC[56] = 1 do not check the vector against the error-code bit (later editions; KVM nested_check_vm_entry_controls and Bochs skip it on such processors).';

/** The event-injection checks, in SDM order. */
export const EVENT_INJECTION_CHECKS: readonly EntryCheck[] = [
  {
    ...BASE, ...READ_2016, id: 'event-injection.type-not-reserved',
    condition: 'The interruption type (bits 10:8) is not 1, which is reserved on all processors.',
    appliesWhen: VALID, fields: [INFO], inventoryId: 'C-EVT-01',
  },
  {
    ...BASE, ...READ_2016, id: 'event-injection.other-event-needs-mtf-support',
    condition: 'The interruption type is not 7 (other event) unless the processor supports the 1-setting of the "monitor trap flag" control.',
    appliesWhen: VALID, fields: [INFO], alsoReads: ['IA32_VMX_PROCBASED_CTLS[59] (allowed-1 of "monitor trap flag")'], inventoryId: 'C-EVT-02',
  },
  {
    ...BASE, ...READ_2016, id: 'event-injection.nmi-vector',
    condition: 'For interruption type 2 (NMI) the vector (bits 7:0) is 2.',
    appliesWhen: VALID, fields: [INFO], inventoryId: 'C-EVT-03',
  },
  {
    ...BASE, ...READ_2016, id: 'event-injection.hardware-exception-vector',
    condition: 'For interruption type 3 (hardware exception) the vector is at most 31.',
    appliesWhen: VALID, fields: [INFO], inventoryId: 'C-EVT-04',
  },
  {
    ...BASE, ...READ_2016, id: 'event-injection.other-event-vector',
    condition: 'For interruption type 7 (other event) the vector is 0 (pending MTF VM exit).',
    appliesWhen: `${VALID} and the guest is not a FRED guest (guest CR4.FRED = 0 or no FRED support)`,
    fields: [INFO, 'GUEST_CR4'], inventoryId: 'C-EVT-05',
  },
  {
    ...BASE, ...FRED, id: 'event-injection.fred-other-event-vector',
    condition: 'For interruption type 7 (other event) the vector is 0 (MTF), 1 (SYSCALL) or 2 (SYSENTER).',
    appliesWhen: `${VALID}, the processor supports FRED and guest CR4.FRED = 1`,
    fields: [INFO, 'GUEST_CR4'], alsoReads: ['FRED support (CPUID.(EAX=07H,ECX=1):EAX[17])'], inventoryId: 'C-EVT-05',
    note: 'From the FRED extension to VMX, not in the SDM editions read; Bochs also requires MTF support for vector 0 here.',
  },
  {
    ...BASE, ...READ_2016, id: 'event-injection.error-code-only-for-hardware-exceptions',
    condition: 'The deliver-error-code bit (bit 11) is 0 unless the interruption type is 3 (hardware exception).',
    appliesWhen: VALID, fields: [INFO], inventoryId: 'C-EVT-06', note: ERROR_CODE_NOTE,
  },
  {
    ...BASE, ...READ_2016, id: 'event-injection.error-code-only-in-protected-mode',
    condition: `The deliver-error-code bit is 0 unless ${PROTECTED}.`,
    appliesWhen: VALID, fields: [INFO, 'SECONDARY_PROCESSOR_BASED_CONTROLS', 'GUEST_CR0'], inventoryId: 'C-EVT-07', note: ERROR_CODE_NOTE,
  },
  {
    ...BASE, ...READ_2016, id: 'event-injection.error-code-required',
    condition: `The deliver-error-code bit is 1 for a hardware exception (type 3) with vector ${ERROR_VECTORS} when ${PROTECTED}.`,
    appliesWhen: `${VALID} and IA32_VMX_BASIC[56] = 0`,
    fields: [INFO, 'SECONDARY_PROCESSOR_BASED_CONTROLS', 'GUEST_CR0'], alsoReads: ['IA32_VMX_BASIC[56]'], inventoryId: 'C-EVT-08', note: ERROR_CODE_NOTE,
  },
  {
    ...BASE, ...READ_2016, id: 'event-injection.error-code-forbidden',
    condition: `The deliver-error-code bit is 0 for a hardware exception (type 3) whose vector is not ${ERROR_VECTORS}.`,
    appliesWhen: `${VALID} and IA32_VMX_BASIC[56] = 0`,
    fields: [INFO], alsoReads: ['IA32_VMX_BASIC[56]'], inventoryId: 'C-EVT-09', note: ERROR_CODE_NOTE,
  },
  {
    ...BASE, ...READ_2016, id: 'event-injection.reserved-bits',
    condition: 'Bits 30:12 of the interruption-information field are 0 (bit 13 excepted on FRED processors, see the next check).',
    appliesWhen: VALID, fields: [INFO], inventoryId: 'C-EVT-10',
  },
  {
    ...BASE, ...FRED, id: 'event-injection.fred-nested-exception-bit',
    condition: 'Bit 13 (nested exception) of the interruption-information field is 1 only for interruption type 3 (hardware exception).',
    appliesWhen: `${VALID} and the processor supports FRED`,
    fields: [INFO], alsoReads: ['FRED support', 'IA32_VMX_BASIC[58]'], inventoryId: 'C-EVT-10',
    note: 'The shared inventory ties this to IA32_VMX_BASIC[58]; Bochs ties it to FRED support. Neither wording was read in the SDM.',
  },
  {
    ...BASE, ...READ_2016, id: 'event-injection.error-code-reserved-bits',
    condition: 'Bits 31:15 of the VM-entry exception error code are 0, as both editions read print it (see the note on bit 15).',
    appliesWhen: `${VALID} and the deliver-error-code bit = 1`,
    fields: [INFO, 'VM_ENTRY_EXCEPTION_ERROR_CODE'], inventoryId: 'C-EVT-11',
    note: 'Open question: the 2016 and 2008-era texts say bits 31:15, but Bochs (VMenterLoadCheckVmControls) and KVM check only bits 31:16, and later editions reportedly say 31:16. An error code with only bit 15 set should be treated as allowed to pass or to fail.',
  },
  {
    ...BASE, ...SDM_2008.entry, verification: 'read', id: 'event-injection.instruction-length',
    condition: 'For interruption types 4 (software interrupt), 5 (privileged software exception) and 6 (software exception), the VM-entry instruction length is in 1-15 (0-15 when IA32_VMX_MISC[30] = 1).',
    appliesWhen: VALID, fields: [INFO, 'VM_ENTRY_INSTRUCTION_LENGTH'], alsoReads: ['IA32_VMX_MISC[30]'], inventoryId: 'C-EVT-12',
    note: 'The 1-15 range was read in the 2008-era copy (the 2016 page is cut in this bullet). The IA32_VMX_MISC[30] relaxation is later: Bochs accepts length 0 only with that capability.',
  },
  {
    ...BASE, ...FRED, id: 'event-injection.fred-instruction-length',
    condition: 'For interruption type 7 with vector 1 or 2 (SYSCALL or SYSENTER), the VM-entry instruction length is at most 15.',
    appliesWhen: `${VALID}, the processor supports FRED and guest CR4.FRED = 1`,
    fields: [INFO, 'VM_ENTRY_INSTRUCTION_LENGTH', 'GUEST_CR4'], inventoryId: 'C-EVT-13',
  },
];
