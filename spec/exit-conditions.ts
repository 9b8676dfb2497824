/**
 * Which instructions cause VM exits in VMX non-root operation, and what decides it: the
 * instructions that exit unconditionally, those that exit depending on a VM-execution control (by
 * its name in spec/control-bits.ts), a mask, a bitmap or a CR3-target value, and the basic exit
 * reason each exit reports (spec/exit-reasons.ts). Also the exceptions (exception bitmap) and the
 * priority of these exits against faults, in words.
 *
 * Sources (SDM Vol. 3C, December 2023): §26.1.1 "Relative Priority of Faults and VM Exits",
 * §26.1.2 "Instructions That Cause VM Exits Unconditionally", §26.1.3 "Instructions That Cause VM
 * Exits Conditionally", §26.2 "Other Causes of VM Exits"; Vol. 3D Appendix C "VMX Basic Exit
 * Reasons" for the reasons. Read in the 2016 text (§25.1.1-§25.1.3 there) and the 2008 text
 * (§21.1 there); in the 2016 and later text VMREAD and VMWRITE moved from the unconditional list to
 * the conditional one (VMCS shadowing).
 */
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';
import { PIN_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from './control-bits.ts';
import { EXIT_REASON } from './exit-reasons.ts';
import type { Operation } from './operations.ts';

/** A VM-execution control by control set and name (the name is a key of spec/control-bits.ts). */
export type ExecutionControl =
  | { set: 'pin'; name: keyof typeof PIN_CONTROL }
  | { set: 'primary'; name: keyof typeof PRIMARY_CONTROL }
  | { set: 'secondary'; name: keyof typeof SECONDARY_CONTROL };

/** The bit position of `control` in its control field. */
export function controlBit(control: ExecutionControl): number {
  switch (control.set) {
    case 'pin':
      return PIN_CONTROL[control.name];
    case 'primary':
      return PRIMARY_CONTROL[control.name];
    case 'secondary':
      return SECONDARY_CONTROL[control.name];
  }
}

const primary = (name: keyof typeof PRIMARY_CONTROL): ExecutionControl => ({ set: 'primary', name });
const secondary = (name: keyof typeof SECONDARY_CONTROL): ExecutionControl => ({ set: 'secondary', name });

/** What makes an instruction exit. */
export type ExitGovernor =
  /** Always exits in VMX non-root operation (§26.1.2). */
  | { kind: 'unconditional' }
  /** Exits when every control in `controls` is 1 (§26.1.3). */
  | { kind: 'controls'; controls: readonly ExecutionControl[] }
  /** Exits as `rule` says, from the controls named (which may be empty), masks, bitmaps or values (§26.1.3, §26.2). */
  | { kind: 'rule'; controls: readonly ExecutionControl[]; rule: string };

/** One row of the exit-condition table. */
export interface ExitCondition {
  /** The instruction (or event) as the SDM names it. */
  instruction: string;
  /** The operation kinds of the engine contract that perform it (empty when no operation does). */
  operations: readonly Operation['kind'][];
  /** The basic exit reason of the VM exit. */
  reason: number;
  governor: ExitGovernor;
  citation: Citation;
}

const UNCONDITIONAL = sdm('26.1.2', 'Instructions That Cause VM Exits Unconditionally');
const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const OTHER_CAUSES = sdm('26.2', 'Other Causes of VM Exits');

function always(instruction: string, operations: readonly Operation['kind'][], reason: number): ExitCondition {
  return { instruction, operations, reason, governor: { kind: 'unconditional' }, citation: UNCONDITIONAL };
}
function onControls(instruction: string, operations: readonly Operation['kind'][], reason: number, ...controls: ExecutionControl[]): ExitCondition {
  return { instruction, operations, reason, governor: { kind: 'controls', controls }, citation: CONDITIONAL };
}
function byRule(instruction: string, operations: readonly Operation['kind'][], reason: number, controls: readonly ExecutionControl[], rule: string): ExitCondition {
  return { instruction, operations, reason, governor: { kind: 'rule', controls, rule }, citation: CONDITIONAL };
}

/** §26.1.2: the instructions that always cause VM exits in VMX non-root operation. */
export const UNCONDITIONAL_EXITS: readonly ExitCondition[] = [
  always('CPUID', ['cpuid'], EXIT_REASON.CPUID),
  always('GETSEC', [], EXIT_REASON.GETSEC),
  always('INVD', ['invd'], EXIT_REASON.INVD),
  always('XSETBV', ['xsetbv'], EXIT_REASON.XSETBV),
  always('INVEPT', ['invept'], EXIT_REASON.INVEPT),
  always('INVVPID', ['invvpid'], EXIT_REASON.INVVPID),
  always('VMCALL', ['vmcall'], EXIT_REASON.VMCALL),
  always('VMCLEAR', ['vmclear'], EXIT_REASON.VMCLEAR),
  always('VMLAUNCH', ['vmlaunch'], EXIT_REASON.VMLAUNCH),
  always('VMPTRLD', ['vmptrld'], EXIT_REASON.VMPTRLD),
  always('VMPTRST', ['vmptrst'], EXIT_REASON.VMPTRST),
  always('VMRESUME', ['vmresume'], EXIT_REASON.VMRESUME),
  always('VMXOFF', ['vmxoff'], EXIT_REASON.VMXOFF),
  always('VMXON', ['vmxon'], EXIT_REASON.VMXON),
];

/** §26.1.3: the instructions whose VM exits depend on the VM-execution controls, in the SDM's order. */
export const CONDITIONAL_EXITS: readonly ExitCondition[] = [
  byRule('CLTS', ['clts'], EXIT_REASON.CONTROL_REGISTER_ACCESS, [], 'exits if bit 3 (CR0.TS) is set in both the CR0 guest/host mask and the CR0 read shadow'),
  onControls('HLT', ['hlt'], EXIT_REASON.HLT, primary('HLT_EXITING')),
  byRule('IN, INS, OUT, OUTS', ['io'], EXIT_REASON.IO_INSTRUCTION, [primary('UNCONDITIONAL_IO_EXITING'), primary('USE_IO_BITMAPS')],
    'with "use I/O bitmaps" 0: exits if "unconditional I/O exiting" is 1; with "use I/O bitmaps" 1 ("unconditional I/O exiting" ignored): exits if the bit of any port accessed is 1 in I/O bitmap A or B, or if the access wraps around from FFFFH to 0000H'),
  onControls('INVLPG', ['invlpg'], EXIT_REASON.INVLPG, primary('INVLPG_EXITING')),
  onControls('INVPCID', [], EXIT_REASON.INVPCID, secondary('ENABLE_INVPCID'), primary('INVLPG_EXITING')),
  onControls('LGDT, LIDT, SGDT, SIDT', [], EXIT_REASON.GDTR_IDTR_ACCESS, secondary('DESCRIPTOR_TABLE_EXITING')),
  onControls('LLDT, LTR, SLDT, STR', [], EXIT_REASON.LDTR_TR_ACCESS, secondary('DESCRIPTOR_TABLE_EXITING')),
  byRule('LMSW', ['lmsw'], EXIT_REASON.CONTROL_REGISTER_ACCESS, [],
    'exits if bit 0 is set in the CR0 guest/host mask and the source operand and clear in the CR0 read shadow (LMSW never clears PE), or if for any bit 3:1 set in the mask the source operand and the read shadow differ'),
  onControls('MONITOR', ['monitor'], EXIT_REASON.MONITOR, primary('MONITOR_EXITING')),
  onControls('MOV from CR3', ['mov-from-cr'], EXIT_REASON.CONTROL_REGISTER_ACCESS, primary('CR3_STORE_EXITING')),
  onControls('MOV from CR8', ['mov-from-cr'], EXIT_REASON.CONTROL_REGISTER_ACCESS, primary('CR8_STORE_EXITING')),
  byRule('MOV to CR0', ['mov-cr0'], EXIT_REASON.CONTROL_REGISTER_ACCESS, [],
    'exits unless, for every bit set in the CR0 guest/host mask, the source operand equals the CR0 read shadow'),
  byRule('MOV to CR3', ['mov-cr3'], EXIT_REASON.CONTROL_REGISTER_ACCESS, [primary('CR3_LOAD_EXITING')],
    'exits if "CR3-load exiting" is 1 and the source operand equals none of the first n CR3-target values (n = the CR3-target count; with n = 0 it always exits)'),
  byRule('MOV to CR4', ['mov-cr4'], EXIT_REASON.CONTROL_REGISTER_ACCESS, [],
    'exits unless, for every bit set in the CR4 guest/host mask, the source operand equals the CR4 read shadow'),
  onControls('MOV to CR8', ['mov-cr8'], EXIT_REASON.CONTROL_REGISTER_ACCESS, primary('CR8_LOAD_EXITING')),
  onControls('MOV DR', ['mov-dr'], EXIT_REASON.MOV_DR, primary('MOV_DR_EXITING')),
  onControls('MWAIT', ['mwait'], EXIT_REASON.MWAIT, primary('MWAIT_EXITING')),
  byRule('PAUSE', ['pause'], EXIT_REASON.PAUSE, [primary('PAUSE_EXITING'), secondary('PAUSE_LOOP_EXITING')],
    'exits if "PAUSE exiting" is 1; otherwise, at CPL 0 with "PAUSE-loop exiting" 1, if the PAUSE loop outlasts the PLE window (the loop timing is not modelled)'),
  byRule('RDMSR', ['rdmsr'], EXIT_REASON.RDMSR, [primary('USE_MSR_BITMAPS')],
    'exits if "use MSR bitmaps" is 0, if ECX is outside 00000000H-00001FFFH and C0000000H-C0001FFFH, or if the bit for ECX is 1 in the read bitmap for its range'),
  onControls('RDPMC', ['rdpmc'], EXIT_REASON.RDPMC, primary('RDPMC_EXITING')),
  onControls('RDRAND', [], EXIT_REASON.RDRAND, secondary('RDRAND_EXITING')),
  onControls('RDSEED', [], EXIT_REASON.RDSEED, secondary('RDSEED_EXITING')),
  onControls('RDTSC', ['rdtsc'], EXIT_REASON.RDTSC, primary('RDTSC_EXITING')),
  byRule('RDTSCP', ['rdtscp'], EXIT_REASON.RDTSCP, [secondary('ENABLE_RDTSCP'), primary('RDTSC_EXITING')],
    'exits if "enable RDTSCP" and "RDTSC exiting" are both 1 (with "enable RDTSCP" 0 it raises #UD instead)'),
  byRule('RSM', [], EXIT_REASON.RSM, [], 'exits if executed in SMM (dual-monitor treatment; not modelled)'),
  byRule('VMREAD', ['vmread'], EXIT_REASON.VMREAD, [secondary('VMCS_SHADOWING')],
    'exits if "VMCS shadowing" is 0, if any bit 63:15 (bits 31:15 outside 64-bit mode) of the field encoding is set, or if the bit for bits 14:0 of the encoding is 1 in the VMREAD bitmap; otherwise it reads the shadow VMCS'),
  byRule('VMWRITE', ['vmwrite'], EXIT_REASON.VMWRITE, [secondary('VMCS_SHADOWING')],
    'exits if "VMCS shadowing" is 0, if any bit 63:15 (bits 31:15 outside 64-bit mode) of the field encoding is set, or if the bit for bits 14:0 of the encoding is 1 in the VMWRITE bitmap; otherwise it writes the shadow VMCS'),
  onControls('WBINVD', ['wbinvd'], EXIT_REASON.WBINVD_OR_WBNOINVD, secondary('WBINVD_EXITING')),
  byRule('WRMSR', ['wrmsr', 'write-feature-control'], EXIT_REASON.WRMSR, [primary('USE_MSR_BITMAPS')],
    'exits if "use MSR bitmaps" is 0, if ECX is outside 00000000H-00001FFFH and C0000000H-C0001FFFH, or if the bit for ECX is 1 in the write bitmap for its range'),
  byRule('XRSTORS', [], EXIT_REASON.XRSTORS, [secondary('ENABLE_XSAVES_XRSTORS')],
    'with "enable XSAVES/XRSTORS" 1, exits if any bit of EDX:EAX AND IA32_XSS is set in the XSS-exiting bitmap'),
  byRule('XSAVES', [], EXIT_REASON.XSAVES, [secondary('ENABLE_XSAVES_XRSTORS')],
    'with "enable XSAVES/XRSTORS" 1, exits if any bit of EDX:EAX AND IA32_XSS is set in the XSS-exiting bitmap'),
];

/** §26.2: exceptions exit through the exception bitmap (page faults through the error-code mask and match too). */
export const EXCEPTION_EXIT: ExitCondition = {
  instruction: 'exception (vectors 0-31)',
  operations: ['exception'],
  reason: EXIT_REASON.EXCEPTION_OR_NMI,
  governor: {
    kind: 'rule',
    controls: [],
    rule: 'an exception exits if its bit in the exception bitmap is 1; a page fault (vector 14) exits if ((error code AND PFEC_MASK) = PFEC_MATCH) equals bit 14 of the exception bitmap',
  },
  citation: OTHER_CAUSES,
};

/** MOV from CR0 and CR4 never exit: they return the read shadow in the bits the guest/host mask owns (§26.3). */
export const NEVER_EXITING_READS = ['MOV from CR0', 'MOV from CR4'] as const;

/** Every row: unconditional, conditional, then the exception row. */
export const EXIT_CONDITIONS: readonly ExitCondition[] = [...UNCONDITIONAL_EXITS, ...CONDITIONAL_EXITS, EXCEPTION_EXIT];

/**
 * §26.1.1 "Relative Priority of Faults and VM Exits", in words: which faults an instruction raises
 * in the guest instead of its VM exit, and which it does not.
 */
export const EXIT_PRIORITY_NOTES: readonly string[] = [
  'Some exceptions have priority over VM exits: invalid-opcode exceptions (#UD), faults based on privilege level, and general-protection exceptions based on the I/O permission bits in the TSS. For example RDMSR at CPL 3 raises #GP, not a VM exit.',
  'MOV DR is an exception to that rule (a footnote of §26.1.1, seen in the text): with "MOV-DR exiting" 1 its VM exit takes priority over the privilege-level #GP and over the #UD of DR4/DR5 with CR4.DE = 1 (these two named from the MOV DR entry of §26.1.3 as known, not seen in the excerpts read).',
  'Faults incurred while fetching instruction operands have priority over VM exits conditioned on those operands (for example LMSW with a memory operand).',
  'VM exits of INS and OUTS (from "unconditional I/O exiting" or the I/O bitmaps) have priority over a #GP for an unusable segment (ES for INS, DS or the override for OUTS), a #GP for an offset beyond the segment limit, and #AC.',
  'Fault-like VM exits have priority over all other exceptions: for example RDMSR of a non-existent MSR at CPL 0 exits instead of raising #GP.',
  'The VMX instructions check #UD (not in VMX operation, wrong mode, CR0.PE/CR4.VMXE, ...) before their VM exit in VMX non-root operation, as their pages in §31.3 show; a guest VMX instruction at CPL > 0 exits rather than raising #GP.',
];

/** The citation for the priority notes. */
export const EXIT_PRIORITY_CITATION: Citation = sdm('26.1.1', 'Relative Priority of Faults and VM Exits');

/** The rows for operation kind `kind`. */
export function exitConditionsFor(kind: Operation['kind']): ExitCondition[] {
  return EXIT_CONDITIONS.filter((row) => row.operations.includes(kind));
}
