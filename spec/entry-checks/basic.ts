/**
 * Basic VM-entry checks: the state of the logical processor before any VMCS field is looked at,
 * evaluated in the order listed (the first failing check decides the outcome).
 *
 * Read: SDM 2016 Vol. 3C §26.1 "Basic VM-Entry Checks" (page 26-2), the December 2023
 * VMLAUNCH/VMRESUME instruction page (Operation section) and 2016 §30.4 Table 30-1.
 */
import { VM_ERROR } from '../errors.ts';
import { EXIT_REASON } from '../exit-reasons.ts';
import { SDM_2016, SDM_2023 } from './controls-host-sources.ts';
import type { EntryCheck } from './types.ts';

const GROUP = 'basic' as const;
const READ_2016 = { ...SDM_2016.basic, verification: 'read' } as const;
const READ_2023 = { citation: SDM_2023.vmlaunch, verification: 'read' } as const;

/** The basic VM-entry checks, in the order the processor evaluates them. */
export const BASIC_CHECKS: readonly EntryCheck[] = [
  {
    id: 'basic.in-vmx-operation',
    group: GROUP,
    condition: 'The logical processor is in VMX operation (VMXON has been executed and VMXOFF has not).',
    consequence: { kind: 'fault', vector: 'UD' },
    ...READ_2023,
    fields: [],
    alsoReads: ['VMX operation state'],
    inventoryId: 'B-01',
    note: 'Only the instruction page lists this #UD cause; §26.1 starts from the mode checks.',
  },
  {
    id: 'basic.protected-mode',
    group: GROUP,
    condition: 'CR0.PE is 1 (the instruction is not executed in real-address mode).',
    consequence: { kind: 'fault', vector: 'UD' },
    ...READ_2023,
    fields: [],
    alsoReads: ['CR0'],
    inventoryId: 'B-01',
  },
  {
    id: 'basic.not-virtual-8086',
    group: GROUP,
    condition: 'RFLAGS.VM is 0 (the logical processor is not in virtual-8086 mode).',
    consequence: { kind: 'fault', vector: 'UD' },
    ...READ_2016,
    fields: [],
    alsoReads: ['RFLAGS'],
    inventoryId: 'B-01',
  },
  {
    id: 'basic.not-compatibility-mode',
    group: GROUP,
    condition: 'The logical processor is not in compatibility mode: IA32_EFER.LMA = 1 requires CS.L = 1.',
    consequence: { kind: 'fault', vector: 'UD' },
    ...READ_2016,
    fields: [],
    alsoReads: ['IA32_EFER', 'CS descriptor cache'],
    inventoryId: 'B-01',
  },
  {
    id: 'basic.not-in-vmx-non-root',
    group: GROUP,
    condition: 'The logical processor is in VMX root operation; in VMX non-root operation the instruction causes a VM exit instead.',
    consequence: { kind: 'vm-exit', reasons: [EXIT_REASON.VMLAUNCH, EXIT_REASON.VMRESUME] },
    ...READ_2023,
    fields: [],
    alsoReads: ['VMX operation state'],
    inventoryId: 'B-02',
    note: 'The basic exit reason is the one of the executed instruction: 20 for VMLAUNCH, 24 for VMRESUME. The #UD checks above are made first.',
  },
  {
    id: 'basic.cpl-zero',
    group: GROUP,
    condition: 'The current privilege level is 0.',
    consequence: { kind: 'fault', vector: 'GP' },
    ...READ_2016,
    fields: [],
    alsoReads: ['CPL'],
    inventoryId: 'B-03',
    note: 'The fault is #GP(0).',
  },
  {
    id: 'basic.current-vmcs-valid',
    group: GROUP,
    condition: 'There is a current VMCS (the current-VMCS pointer is not FFFFFFFF_FFFFFFFFH).',
    consequence: { kind: 'vmfail-invalid' },
    ...READ_2016,
    fields: [],
    alsoReads: ['current-VMCS pointer'],
    inventoryId: 'B-04',
  },
  {
    id: 'basic.current-vmcs-not-shadow',
    group: GROUP,
    condition: 'The current VMCS is not a shadow VMCS (the shadow-VMCS indicator in its region is 0).',
    consequence: { kind: 'vmfail-invalid' },
    ...READ_2016,
    fields: [],
    alsoReads: ['shadow-VMCS indicator of the current VMCS region'],
    inventoryId: 'B-05',
  },
  {
    id: 'basic.no-mov-ss-blocking',
    group: GROUP,
    condition: 'Events are not blocked by MOV SS or POP SS on the logical processor executing the instruction.',
    consequence: { kind: 'vmfail-valid', error: VM_ERROR.ENTRY_MOV_SS_BLOCKING },
    ...READ_2016,
    fields: [],
    alsoReads: ['blocking by MOV SS of the executing logical processor'],
    inventoryId: 'B-06',
    note: 'This is the processor state, not the guest interruptibility-state field; it is the first of the three VMfailValid conditions.',
  },
  {
    id: 'basic.vmlaunch-launch-state-clear',
    group: GROUP,
    condition: 'For VMLAUNCH: the launch state of the current VMCS is "clear".',
    appliesWhen: 'the instruction is VMLAUNCH',
    consequence: { kind: 'vmfail-valid', error: VM_ERROR.VMLAUNCH_NON_CLEAR },
    ...READ_2016,
    fields: [],
    alsoReads: ['launch state of the current VMCS'],
    inventoryId: 'B-07',
  },
  {
    id: 'basic.vmresume-launch-state-launched',
    group: GROUP,
    condition: 'For VMRESUME: the launch state of the current VMCS is "launched".',
    appliesWhen: 'the instruction is VMRESUME',
    consequence: { kind: 'vmfail-valid', error: VM_ERROR.VMRESUME_NON_LAUNCHED },
    ...READ_2016,
    fields: [],
    alsoReads: ['launch state of the current VMCS'],
    inventoryId: 'B-08',
  },
  {
    id: 'basic.vmresume-not-after-vmxoff',
    group: GROUP,
    condition: 'For VMRESUME: VMXOFF and VMXON have not been executed since the VMLAUNCH that made the current VMCS launched.',
    appliesWhen: 'the instruction is VMRESUME',
    consequence: { kind: 'vmfail-valid', error: VM_ERROR.VMRESUME_AFTER_VMXOFF },
    ...SDM_2016.errors,
    verification: 'read',
    fields: [],
    alsoReads: ['VMXOFF/VMXON history of the current VMCS'],
    inventoryId: 'B-09',
    note: 'Known only from Table 30-1 (error 6, once described as "VMRESUME with a corrupted VMCS"); neither §26.1 nor the instruction pseudocode says when or whether a processor detects this, so it is implementation-specific.',
  },
];
