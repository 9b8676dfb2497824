/**
 * Basic exit reasons: bits 15:0 of the exit-reason field (4402H), written by every VM exit and by
 * VM-entry failures that occur after the control and host-state checks (reasons 33, 34, 41, with
 * bit 31 of the field set).
 *
 * Numbers 0-64 were checked against the text of Appendix C (an older edition, same numbers);
 * 65-77 follow the December 2023 table as public VMX code and the project's SDM inventory give
 * them, not checked against the SDM text itself. Numbers 35, 38, 42 and 71 are not used. Later reasons (78 onward: MSR-list instructions and
 * others) belong to features no profile here models and are left out.
 *
 * Source: SDM Vol. 3D, December 2023, Appendix C "VMX Basic Exit Reasons" (Table C-1 "Basic
 * Exit Reasons"); the field layout in Vol. 3C §25.9.1 "Basic VM-Exit Information".
 */
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';

/** Where the basic exit reasons are listed. */
export const EXIT_REASONS_CITATION: Citation = sdm('Appendix C', 'VMX Basic Exit Reasons', '3D');

/** Every basic exit reason, by name. */
export const EXIT_REASON = {
  EXCEPTION_OR_NMI: 0,
  EXTERNAL_INTERRUPT: 1,
  TRIPLE_FAULT: 2,
  INIT_SIGNAL: 3,
  SIPI: 4,
  IO_SMI: 5,
  OTHER_SMI: 6,
  INTERRUPT_WINDOW: 7,
  NMI_WINDOW: 8,
  TASK_SWITCH: 9,
  CPUID: 10,
  GETSEC: 11,
  HLT: 12,
  INVD: 13,
  INVLPG: 14,
  RDPMC: 15,
  RDTSC: 16,
  RSM: 17,
  VMCALL: 18,
  VMCLEAR: 19,
  VMLAUNCH: 20,
  VMPTRLD: 21,
  VMPTRST: 22,
  VMREAD: 23,
  VMRESUME: 24,
  VMWRITE: 25,
  VMXOFF: 26,
  VMXON: 27,
  CONTROL_REGISTER_ACCESS: 28,
  MOV_DR: 29,
  IO_INSTRUCTION: 30,
  RDMSR: 31,
  WRMSR: 32,
  ENTRY_FAILURE_INVALID_GUEST_STATE: 33,
  ENTRY_FAILURE_MSR_LOADING: 34,
  MWAIT: 36,
  MONITOR_TRAP_FLAG: 37,
  MONITOR: 39,
  PAUSE: 40,
  ENTRY_FAILURE_MACHINE_CHECK: 41,
  TPR_BELOW_THRESHOLD: 43,
  APIC_ACCESS: 44,
  VIRTUALIZED_EOI: 45,
  GDTR_IDTR_ACCESS: 46,
  LDTR_TR_ACCESS: 47,
  EPT_VIOLATION: 48,
  EPT_MISCONFIGURATION: 49,
  INVEPT: 50,
  RDTSCP: 51,
  PREEMPTION_TIMER_EXPIRED: 52,
  INVVPID: 53,
  WBINVD_OR_WBNOINVD: 54,
  XSETBV: 55,
  APIC_WRITE: 56,
  RDRAND: 57,
  INVPCID: 58,
  VMFUNC: 59,
  ENCLS: 60,
  RDSEED: 61,
  PML_FULL: 62,
  XSAVES: 63,
  XRSTORS: 64,
  PCONFIG: 65,
  SPP_EVENT: 66,
  UMWAIT: 67,
  TPAUSE: 68,
  LOADIWKEY: 69,
  ENCLV: 70,
  ENQCMD_PASID_TRANSLATION_FAILURE: 72,
  ENQCMDS_PASID_TRANSLATION_FAILURE: 73,
  BUS_LOCK: 74,
  INSTRUCTION_TIMEOUT: 75,
  SEAMCALL: 76,
  TDCALL: 77,
} as const;

/** Name of one basic exit reason in {@link EXIT_REASON}. */
export type ExitReasonName = keyof typeof EXIT_REASON;

/** One basic exit reason. */
export interface ExitReasonInfo {
  number: number;
  name: ExitReasonName;
  /** The SDM's short title for the reason. */
  title: string;
  /** True for the reasons a VM-entry failure reports (with bit 31 of the exit reason set). */
  entryFailure: boolean;
}

const TITLES: Record<ExitReasonName, string> = {
  EXCEPTION_OR_NMI: 'Exception or non-maskable interrupt (NMI)',
  EXTERNAL_INTERRUPT: 'External interrupt',
  TRIPLE_FAULT: 'Triple fault',
  INIT_SIGNAL: 'INIT signal',
  SIPI: 'Start-up IPI (SIPI)',
  IO_SMI: 'I/O system-management interrupt (SMI)',
  OTHER_SMI: 'Other SMI',
  INTERRUPT_WINDOW: 'Interrupt window',
  NMI_WINDOW: 'NMI window',
  TASK_SWITCH: 'Task switch',
  CPUID: 'CPUID',
  GETSEC: 'GETSEC',
  HLT: 'HLT',
  INVD: 'INVD',
  INVLPG: 'INVLPG',
  RDPMC: 'RDPMC',
  RDTSC: 'RDTSC',
  RSM: 'RSM',
  VMCALL: 'VMCALL',
  VMCLEAR: 'VMCLEAR',
  VMLAUNCH: 'VMLAUNCH',
  VMPTRLD: 'VMPTRLD',
  VMPTRST: 'VMPTRST',
  VMREAD: 'VMREAD',
  VMRESUME: 'VMRESUME',
  VMWRITE: 'VMWRITE',
  VMXOFF: 'VMXOFF',
  VMXON: 'VMXON',
  CONTROL_REGISTER_ACCESS: 'Control-register accesses',
  MOV_DR: 'MOV DR',
  IO_INSTRUCTION: 'I/O instruction',
  RDMSR: 'RDMSR',
  WRMSR: 'WRMSR',
  ENTRY_FAILURE_INVALID_GUEST_STATE: 'VM-entry failure due to invalid guest state',
  ENTRY_FAILURE_MSR_LOADING: 'VM-entry failure due to MSR loading',
  MWAIT: 'MWAIT',
  MONITOR_TRAP_FLAG: 'Monitor trap flag',
  MONITOR: 'MONITOR',
  PAUSE: 'PAUSE',
  ENTRY_FAILURE_MACHINE_CHECK: 'VM-entry failure due to machine-check event',
  TPR_BELOW_THRESHOLD: 'TPR below threshold',
  APIC_ACCESS: 'APIC access',
  VIRTUALIZED_EOI: 'Virtualized EOI',
  GDTR_IDTR_ACCESS: 'Access to GDTR or IDTR',
  LDTR_TR_ACCESS: 'Access to LDTR or TR',
  EPT_VIOLATION: 'EPT violation',
  EPT_MISCONFIGURATION: 'EPT misconfiguration',
  INVEPT: 'INVEPT',
  RDTSCP: 'RDTSCP',
  PREEMPTION_TIMER_EXPIRED: 'VMX-preemption timer expired',
  INVVPID: 'INVVPID',
  WBINVD_OR_WBNOINVD: 'WBINVD or WBNOINVD',
  XSETBV: 'XSETBV',
  APIC_WRITE: 'APIC write',
  RDRAND: 'RDRAND',
  INVPCID: 'INVPCID',
  VMFUNC: 'VMFUNC',
  ENCLS: 'ENCLS',
  RDSEED: 'RDSEED',
  PML_FULL: 'Page-modification log full',
  XSAVES: 'XSAVES',
  XRSTORS: 'XRSTORS',
  PCONFIG: 'PCONFIG',
  SPP_EVENT: 'SPP-related event',
  UMWAIT: 'UMWAIT',
  TPAUSE: 'TPAUSE',
  LOADIWKEY: 'LOADIWKEY',
  ENCLV: 'ENCLV',
  ENQCMD_PASID_TRANSLATION_FAILURE: 'ENQCMD PASID translation failure',
  ENQCMDS_PASID_TRANSLATION_FAILURE: 'ENQCMDS PASID translation failure',
  BUS_LOCK: 'Bus lock',
  INSTRUCTION_TIMEOUT: 'Instruction timeout',
  SEAMCALL: 'SEAMCALL',
  TDCALL: 'TDCALL',
};

const ENTRY_FAILURES: readonly number[] = [
  EXIT_REASON.ENTRY_FAILURE_INVALID_GUEST_STATE,
  EXIT_REASON.ENTRY_FAILURE_MSR_LOADING,
  EXIT_REASON.ENTRY_FAILURE_MACHINE_CHECK,
];

/** Every basic exit reason in use, in numeric order. */
export const EXIT_REASONS: readonly ExitReasonInfo[] = (Object.keys(EXIT_REASON) as ExitReasonName[]).map(
  (name) => ({
    number: EXIT_REASON[name],
    name,
    title: TITLES[name],
    entryFailure: ENTRY_FAILURES.includes(EXIT_REASON[name]),
  }),
);

/** The basic exit reason `number`, or `undefined` for a number not in use. */
export function exitReasonInfo(number: number): ExitReasonInfo | undefined {
  return EXIT_REASONS.find((reason) => reason.number === number);
}

/** Bits of the 32-bit exit-reason field besides the basic exit reason (bits 15:0). */
export const EXIT_REASON_BITS = {
  /** Bit 27: the VM exit came from enclave mode. */
  ENCLAVE_MODE: 27,
  /** Bit 28: an MTF VM exit was pending (SMM VM exits only). */
  PENDING_MTF: 28,
  /** Bit 29: the VM exit came from VMX root operation (SMM VM exits only). */
  FROM_VMX_ROOT: 29,
  /** Bit 31: 1 for a VM-entry failure, 0 for a true VM exit. */
  ENTRY_FAILURE: 31,
} as const;
