/**
 * Bit positions of the VMX controls, one constant object per control set, so that the rest of
 * the project names a control instead of writing its bit number. Names, descriptions, default1
 * classes and citations are in {@link ./controls.ts}.
 *
 * Sources (SDM, December 2023): Vol. 3C §25.6.1 "Pin-Based VM-Execution Controls", §25.6.2
 * "Processor-Based VM-Execution Controls", §25.6.14 "VM-Function Controls", §25.7.1 "VM-Exit
 * Controls", §25.8.1 "VM-Entry Controls".
 */

/** Pin-based VM-execution controls (VMCS field 4000H). */
export const PIN_CONTROL = {
  EXTERNAL_INTERRUPT_EXITING: 0,
  NMI_EXITING: 3,
  VIRTUAL_NMIS: 5,
  ACTIVATE_VMX_PREEMPTION_TIMER: 6,
  PROCESS_POSTED_INTERRUPTS: 7,
} as const;

/** Primary processor-based VM-execution controls (VMCS field 4002H). */
export const PRIMARY_CONTROL = {
  INTERRUPT_WINDOW_EXITING: 2,
  USE_TSC_OFFSETTING: 3,
  HLT_EXITING: 7,
  INVLPG_EXITING: 9,
  MWAIT_EXITING: 10,
  RDPMC_EXITING: 11,
  RDTSC_EXITING: 12,
  CR3_LOAD_EXITING: 15,
  CR3_STORE_EXITING: 16,
  ACTIVATE_TERTIARY_CONTROLS: 17,
  CR8_LOAD_EXITING: 19,
  CR8_STORE_EXITING: 20,
  USE_TPR_SHADOW: 21,
  NMI_WINDOW_EXITING: 22,
  MOV_DR_EXITING: 23,
  UNCONDITIONAL_IO_EXITING: 24,
  USE_IO_BITMAPS: 25,
  MONITOR_TRAP_FLAG: 27,
  USE_MSR_BITMAPS: 28,
  MONITOR_EXITING: 29,
  PAUSE_EXITING: 30,
  ACTIVATE_SECONDARY_CONTROLS: 31,
} as const;

/** Secondary processor-based VM-execution controls (VMCS field 401EH). */
export const SECONDARY_CONTROL = {
  VIRTUALIZE_APIC_ACCESSES: 0,
  ENABLE_EPT: 1,
  DESCRIPTOR_TABLE_EXITING: 2,
  ENABLE_RDTSCP: 3,
  VIRTUALIZE_X2APIC_MODE: 4,
  ENABLE_VPID: 5,
  WBINVD_EXITING: 6,
  UNRESTRICTED_GUEST: 7,
  APIC_REGISTER_VIRTUALIZATION: 8,
  VIRTUAL_INTERRUPT_DELIVERY: 9,
  PAUSE_LOOP_EXITING: 10,
  RDRAND_EXITING: 11,
  ENABLE_INVPCID: 12,
  ENABLE_VM_FUNCTIONS: 13,
  VMCS_SHADOWING: 14,
  ENABLE_ENCLS_EXITING: 15,
  RDSEED_EXITING: 16,
  ENABLE_PML: 17,
  EPT_VIOLATION_VE: 18,
  CONCEAL_VMX_FROM_PT: 19,
  ENABLE_XSAVES_XRSTORS: 20,
  PASID_TRANSLATION: 21,
  MODE_BASED_EXECUTE_CONTROL_FOR_EPT: 22,
  SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT: 23,
  PT_USES_GUEST_PHYSICAL_ADDRESSES: 24,
  USE_TSC_SCALING: 25,
  ENABLE_USER_WAIT_AND_PAUSE: 26,
  ENABLE_PCONFIG: 27,
  ENABLE_ENCLV_EXITING: 28,
  VMM_BUS_LOCK_DETECTION: 30,
  INSTRUCTION_TIMEOUT: 31,
} as const;

/** Tertiary processor-based VM-execution controls (64-bit VMCS field 2034H). */
export const TERTIARY_CONTROL = {
  LOADIWKEY_EXITING: 0,
  ENABLE_HLAT: 1,
  EPT_PAGING_WRITE_CONTROL: 2,
  GUEST_PAGING_VERIFICATION: 3,
  IPI_VIRTUALIZATION: 4,
  VIRTUALIZE_IA32_SPEC_CTRL: 7,
} as const;

/** Primary VM-exit controls (VMCS field 400CH). */
export const EXIT_CONTROL = {
  SAVE_DEBUG_CONTROLS: 2,
  HOST_ADDRESS_SPACE_SIZE: 9,
  LOAD_IA32_PERF_GLOBAL_CTRL: 12,
  ACKNOWLEDGE_INTERRUPT_ON_EXIT: 15,
  SAVE_IA32_PAT: 18,
  LOAD_IA32_PAT: 19,
  SAVE_IA32_EFER: 20,
  LOAD_IA32_EFER: 21,
  SAVE_VMX_PREEMPTION_TIMER_VALUE: 22,
  CLEAR_IA32_BNDCFGS: 23,
  CONCEAL_VMX_FROM_PT: 24,
  CLEAR_IA32_RTIT_CTL: 25,
  CLEAR_IA32_LBR_CTL: 26,
  CLEAR_UINV: 27,
  LOAD_CET_STATE: 28,
  LOAD_PKRS: 29,
  SAVE_IA32_PERF_GLOBAL_CTRL: 30,
  ACTIVATE_SECONDARY_CONTROLS: 31,
} as const;

/**
 * Secondary VM-exit controls (64-bit VMCS field 2044H). The bits that later documents define
 * (saving and loading FRED state, bits 0 and 1) belong to FRED, which no profile here models, so
 * a profile must report them as not allowed (see `validateProfile`). "Load FRED" is named because
 * the catalogue's host FRED checks apply when it is 1 (spec/entry-checks/host-control-registers.ts);
 * the bit position is the one KVM's FRED series uses (arch/x86/include/asm/vmx.h,
 * SECONDARY_VM_EXIT_LOAD_IA32_FRED), from Intel's FRED specification, not the December 2023 SDM.
 */
export const SECONDARY_EXIT_CONTROL = {
  LOAD_FRED: 1,
} as const;

/** VM-entry controls (VMCS field 4012H). */
export const ENTRY_CONTROL = {
  LOAD_DEBUG_CONTROLS: 2,
  IA32E_MODE_GUEST: 9,
  ENTRY_TO_SMM: 10,
  DEACTIVATE_DUAL_MONITOR_TREATMENT: 11,
  LOAD_IA32_PERF_GLOBAL_CTRL: 13,
  LOAD_IA32_PAT: 14,
  LOAD_IA32_EFER: 15,
  LOAD_IA32_BNDCFGS: 16,
  CONCEAL_VMX_FROM_PT: 17,
  LOAD_IA32_RTIT_CTL: 18,
  LOAD_UINV: 19,
  LOAD_CET_STATE: 20,
  LOAD_GUEST_IA32_LBR_CTL: 21,
  LOAD_PKRS: 22,
} as const;

/** VM-function controls (64-bit VMCS field 2018H). */
export const VMFUNC_CONTROL = {
  EPTP_SWITCHING: 0,
} as const;
