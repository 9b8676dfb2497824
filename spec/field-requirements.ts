/**
 * The conditions under which VMCS fields exist, named once so that the field tables read as
 * tables: `REQUIRES.SECONDARY_ENABLE_VPID` is "the processor supports the 1-setting of the
 * 'enable VPID' secondary processor-based VM-execution control". Keys name the control set and
 * the control; the few keys without a set name features no profile here models.
 *
 * Source: the notes to the tables of SDM Vol. 3D, December 2023, Appendix B "Field Encoding in
 * VMCS" ("This field exists only on processors that support the 1-setting of ...").
 */
import {
  ENTRY_CONTROL,
  EXIT_CONTROL,
  PIN_CONTROL,
  PRIMARY_CONTROL,
  SECONDARY_CONTROL,
  TERTIARY_CONTROL,
  VMFUNC_CONTROL,
} from './control-bits.ts';
import type { FieldRequirement } from './fields.ts';

/** Every condition a field table uses. */
export const REQUIRES = {
  PIN_PROCESS_POSTED_INTERRUPTS: { controls: 'pin', bit: PIN_CONTROL.PROCESS_POSTED_INTERRUPTS },
  PIN_ACTIVATE_VMX_PREEMPTION_TIMER: { controls: 'pin', bit: PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER },
  PRIMARY_USE_MSR_BITMAPS: { controls: 'primary', bit: PRIMARY_CONTROL.USE_MSR_BITMAPS },
  PRIMARY_USE_TPR_SHADOW: { controls: 'primary', bit: PRIMARY_CONTROL.USE_TPR_SHADOW },
  PRIMARY_ACTIVATE_SECONDARY_CONTROLS: { controls: 'primary', bit: PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS },
  PRIMARY_ACTIVATE_TERTIARY_CONTROLS: { controls: 'primary', bit: PRIMARY_CONTROL.ACTIVATE_TERTIARY_CONTROLS },
  SECONDARY_VIRTUALIZE_APIC_ACCESSES: { controls: 'secondary', bit: SECONDARY_CONTROL.VIRTUALIZE_APIC_ACCESSES },
  SECONDARY_ENABLE_EPT: { controls: 'secondary', bit: SECONDARY_CONTROL.ENABLE_EPT },
  SECONDARY_ENABLE_VPID: { controls: 'secondary', bit: SECONDARY_CONTROL.ENABLE_VPID },
  SECONDARY_VIRTUAL_INTERRUPT_DELIVERY: { controls: 'secondary', bit: SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY },
  SECONDARY_PAUSE_LOOP_EXITING: { controls: 'secondary', bit: SECONDARY_CONTROL.PAUSE_LOOP_EXITING },
  SECONDARY_ENABLE_VM_FUNCTIONS: { controls: 'secondary', bit: SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS },
  SECONDARY_VMCS_SHADOWING: { controls: 'secondary', bit: SECONDARY_CONTROL.VMCS_SHADOWING },
  SECONDARY_ENABLE_ENCLS_EXITING: { controls: 'secondary', bit: SECONDARY_CONTROL.ENABLE_ENCLS_EXITING },
  SECONDARY_ENABLE_PML: { controls: 'secondary', bit: SECONDARY_CONTROL.ENABLE_PML },
  SECONDARY_EPT_VIOLATION_VE: { controls: 'secondary', bit: SECONDARY_CONTROL.EPT_VIOLATION_VE },
  SECONDARY_ENABLE_XSAVES_XRSTORS: { controls: 'secondary', bit: SECONDARY_CONTROL.ENABLE_XSAVES_XRSTORS },
  SECONDARY_PASID_TRANSLATION: { controls: 'secondary', bit: SECONDARY_CONTROL.PASID_TRANSLATION },
  SECONDARY_SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT: { controls: 'secondary', bit: SECONDARY_CONTROL.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT },
  SECONDARY_USE_TSC_SCALING: { controls: 'secondary', bit: SECONDARY_CONTROL.USE_TSC_SCALING },
  SECONDARY_ENABLE_PCONFIG: { controls: 'secondary', bit: SECONDARY_CONTROL.ENABLE_PCONFIG },
  SECONDARY_ENABLE_ENCLV_EXITING: { controls: 'secondary', bit: SECONDARY_CONTROL.ENABLE_ENCLV_EXITING },
  SECONDARY_INSTRUCTION_TIMEOUT: { controls: 'secondary', bit: SECONDARY_CONTROL.INSTRUCTION_TIMEOUT },
  TERTIARY_ENABLE_HLAT: { controls: 'tertiary', bit: TERTIARY_CONTROL.ENABLE_HLAT },
  TERTIARY_IPI_VIRTUALIZATION: { controls: 'tertiary', bit: TERTIARY_CONTROL.IPI_VIRTUALIZATION },
  TERTIARY_VIRTUALIZE_IA32_SPEC_CTRL: { controls: 'tertiary', bit: TERTIARY_CONTROL.VIRTUALIZE_IA32_SPEC_CTRL },
  EXIT_LOAD_IA32_PERF_GLOBAL_CTRL: { controls: 'exit', bit: EXIT_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL },
  EXIT_SAVE_IA32_PAT: { controls: 'exit', bit: EXIT_CONTROL.SAVE_IA32_PAT },
  EXIT_LOAD_IA32_PAT: { controls: 'exit', bit: EXIT_CONTROL.LOAD_IA32_PAT },
  EXIT_SAVE_IA32_EFER: { controls: 'exit', bit: EXIT_CONTROL.SAVE_IA32_EFER },
  EXIT_LOAD_IA32_EFER: { controls: 'exit', bit: EXIT_CONTROL.LOAD_IA32_EFER },
  EXIT_CLEAR_IA32_BNDCFGS: { controls: 'exit', bit: EXIT_CONTROL.CLEAR_IA32_BNDCFGS },
  EXIT_CLEAR_IA32_RTIT_CTL: { controls: 'exit', bit: EXIT_CONTROL.CLEAR_IA32_RTIT_CTL },
  EXIT_CLEAR_IA32_LBR_CTL: { controls: 'exit', bit: EXIT_CONTROL.CLEAR_IA32_LBR_CTL },
  EXIT_CLEAR_UINV: { controls: 'exit', bit: EXIT_CONTROL.CLEAR_UINV },
  EXIT_LOAD_CET_STATE: { controls: 'exit', bit: EXIT_CONTROL.LOAD_CET_STATE },
  EXIT_LOAD_PKRS: { controls: 'exit', bit: EXIT_CONTROL.LOAD_PKRS },
  EXIT_SAVE_IA32_PERF_GLOBAL_CTRL: { controls: 'exit', bit: EXIT_CONTROL.SAVE_IA32_PERF_GLOBAL_CTRL },
  EXIT_ACTIVATE_SECONDARY_CONTROLS: { controls: 'exit', bit: EXIT_CONTROL.ACTIVATE_SECONDARY_CONTROLS },
  ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL: { controls: 'entry', bit: ENTRY_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL },
  ENTRY_LOAD_IA32_PAT: { controls: 'entry', bit: ENTRY_CONTROL.LOAD_IA32_PAT },
  ENTRY_LOAD_IA32_EFER: { controls: 'entry', bit: ENTRY_CONTROL.LOAD_IA32_EFER },
  ENTRY_LOAD_IA32_BNDCFGS: { controls: 'entry', bit: ENTRY_CONTROL.LOAD_IA32_BNDCFGS },
  ENTRY_LOAD_IA32_RTIT_CTL: { controls: 'entry', bit: ENTRY_CONTROL.LOAD_IA32_RTIT_CTL },
  ENTRY_LOAD_UINV: { controls: 'entry', bit: ENTRY_CONTROL.LOAD_UINV },
  ENTRY_LOAD_CET_STATE: { controls: 'entry', bit: ENTRY_CONTROL.LOAD_CET_STATE },
  ENTRY_LOAD_GUEST_IA32_LBR_CTL: { controls: 'entry', bit: ENTRY_CONTROL.LOAD_GUEST_IA32_LBR_CTL },
  ENTRY_LOAD_PKRS: { controls: 'entry', bit: ENTRY_CONTROL.LOAD_PKRS },
  VMFUNC_EPTP_SWITCHING: { controls: 'vmfunc', bit: VMFUNC_CONTROL.EPTP_SWITCHING },
  FRED: { unsupported: 'FRED (flexible return and event delivery) is specified outside the December 2023 SDM; no profile here models it' },
  SEAM: { unsupported: 'used only in SEAM VMX root operation (the Intel TDX module); no profile here models SEAM' },
  APIC_TIMER_VIRTUALIZATION: { unsupported: 'APIC-timer virtualization appears in no SDM edition read for this project; no profile here models it' },
  MSR_LIST_INSTRUCTIONS: { unsupported: 'the MSR-list instructions (RDMSRLIST, WRMSRLIST) are specified outside the December 2023 SDM; no profile here models them' },
  SPEC_CTRL_LOAD_CONTROLS: { unsupported: 'the entry and exit controls that load IA32_SPEC_CTRL appear in no SDM edition read for this project; no profile here models them' },
} as const satisfies Record<string, FieldRequirement>;
