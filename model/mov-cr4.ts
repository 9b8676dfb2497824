/**
 * MOV to CR4, every check (the engine contract's `mov-cr4`).
 *
 * Sources (December 2023): Vol. 2B "MOV—Move to/from Control Registers" (Description and the
 * exceptions by mode), Vol. 3A §2.5 "Control Registers" (the CR4 flags: LA57 cannot be modified
 * in IA-32e mode, PCIDE can be set only in IA-32e mode, CET can be set only with CR0.WP = 1),
 * §4.4.1 "PDPTE Registers", and Vol. 3C §24.8 "Restrictions on VMX Operation". Every check is
 * #GP(0); the order follows the MOV page (mode, privilege, reserved bits, PCIDE, PAE), then §2.5,
 * then the paging chapter, then VMX.
 *
 * Reserved bits: which CR4 bits exist depends on CPUID features (SMXE with SMX, PKE with
 * protection keys, LA57 with 5-level paging ...). The profile says which the processor supports
 * (`cr4Supported`, by default IA32_VMX_CR4_FIXED1); setting any other bit, including bits 63:32
 * in 64-bit mode, is #GP(0). Outside 64-bit mode the source is 32 bits and CR4[63:32] become 0.
 * CR4 takes the value as written; the arithmetic flags are expected unchanged (see mov-cr0.ts).
 */
import { sdm } from '../spec/citation.ts';
import type { MovCr4Op } from '../spec/operations.ts';
import { completed, fault } from './conventions.ts';
import { CR0, CR4, paePaging, pdptesHaveReservedBits } from './control-registers.ts';
import { operand } from './input.ts';
import { inIa32eMode, inVirtual8086Mode, toOperandSize } from './modes.ts';
import { cr4AllowedInVmx } from './restrictions.ts';
import { rule } from './rule.ts';
import type { Rule } from './rule.ts';
import type { CpuState, ModelState } from './state.ts';
import { cpuOf, withCpu } from './state.ts';
import type { Verdict } from './verdict.ts';
import { defined, notModelled } from './verdict.ts';

const I = 'MOV to CR4';
const MOV_CR = sdm('4.3', 'MOV—Move to/from Control Registers', '2B');
const CONTROL_REGISTERS = sdm('2.5', 'Control Registers', '3A');
const PDPTE_REGISTERS = sdm('4.4.1', 'PDPTE Registers', '3A');
const RESTRICTIONS = sdm('24.8', 'Restrictions on VMX Operation');
const CONDITIONAL_EXITS = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');

/** The decision points of MOV to CR4, in the order they are checked. */
export const MOV_CR4_RULES = {
  nonRoot: rule('mov-cr4.non-root', I, CONDITIONAL_EXITS, 'in VMX non-root operation MOV to CR4 may cause a VM exit (CR4 guest/host mask); not modelled'),
  virtual8086: rule('mov-cr4.gp-virtual-8086', I, MOV_CR, '#GP(0) in virtual-8086 mode (RFLAGS.VM = 1)'),
  cpl: rule('mov-cr4.gp-cpl', I, MOV_CR, '#GP(0) when the current privilege level is not 0'),
  reserved: rule(
    'mov-cr4.gp-reserved-bits',
    I,
    MOV_CR,
    '#GP(0) when the value sets a reserved bit: one the processor does not support (profile cr4Supported, CPUID-dependent), or any of bits 63:32 in 64-bit mode',
  ),
  pcideOutsideIa32e: rule('mov-cr4.gp-pcide-outside-ia32e', I, MOV_CR, '#GP(0) when the value sets PCIDE (bit 17) outside IA-32e mode'),
  pcideCr3: rule('mov-cr4.gp-pcide-cr3-low-bits', I, MOV_CR, '#GP(0) when the value changes PCIDE from 0 to 1 while CR3[11:0] is not 0'),
  clearPae: rule('mov-cr4.gp-clear-pae-ia32e', I, MOV_CR, '#GP(0) when the value clears PAE (bit 5) while IA32_EFER.LMA = 1 (an attempt to leave IA-32e mode)'),
  la57: rule('mov-cr4.gp-la57-change-ia32e', I, CONTROL_REGISTERS, '#GP(0) when the value changes LA57 (bit 12) in IA-32e mode'),
  cetWithoutWp: rule('mov-cr4.gp-cet-without-wp', I, CONTROL_REGISTERS, '#GP(0) when the value sets CET (bit 23) while CR0.WP = 0'),
  pdpte: rule(
    'mov-cr4.gp-pdpte-reserved',
    I,
    PDPTE_REGISTERS,
    '#GP(0) when PAE paging follows, the value changes PAE, PGE, PSE or SMEP, and a present PDPTE at CR3[31:5] sets a reserved bit',
  ),
  vmxFixed: rule('mov-cr4.gp-vmx-fixed-bits', I, RESTRICTIONS, 'in VMX operation, #GP(0) when the value breaks IA32_VMX_CR4_FIXED0/FIXED1 (CR4.VMXE cannot be cleared)'),
  ok: rule('mov-cr4.ok', I, MOV_CR, 'CR4 takes the value'),
} as const;

const R = MOV_CR4_RULES;

/** MOV to CR4. */
export function movCr4(state: ModelState, op: MovCr4Op): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const value = toOperandSize(cpu, operand(op.value, 'value', 'mov-cr4'));
  const changed = value ^ cpu.cr4;
  const gp = (why: Rule): Verdict => defined(fault(state, c, why, 'GP'));

  if (cpu.vmx === 'non-root') return notModelled(R.nonRoot);
  if (inVirtual8086Mode(cpu)) return gp(R.virtual8086);
  if (cpu.cpl > 0) return gp(R.cpl);
  if ((value & ~state.profile.cr4Supported) !== 0n) return gp(R.reserved);
  if (!inIa32eMode(cpu) && (value & CR4.PCIDE) !== 0n) return gp(R.pcideOutsideIa32e);
  if ((changed & value & CR4.PCIDE) !== 0n && (cpu.cr3 & 0xfffn) !== 0n) return gp(R.pcideCr3);
  if (inIa32eMode(cpu) && (value & CR4.PAE) === 0n) return gp(R.clearPae);
  if (inIa32eMode(cpu) && (changed & CR4.LA57) !== 0n) return gp(R.la57);
  if ((value & CR4.CET) !== 0n && (cpu.cr0 & CR0.WP) === 0n) return gp(R.cetWithoutWp);
  if (loadsPdptes(cpu, value, changed) && pdptesHaveReservedBits(state, cpu)) return gp(R.pdpte);
  if (cpu.vmx === 'root' && !cr4AllowedInVmx(state.profile, value)) return gp(R.vmxFixed);
  return defined(completed(withCpu(state, c, { cr4: value }), c, R.ok));
}

/**
 * The PDPTEs are loaded when PAE paging is in use after the write (CR0.PG = 1, CR4.PAE = 1,
 * IA32_EFER.LME = 0) and the write changes PAE, PGE, PSE or SMEP (§4.4.1).
 */
function loadsPdptes(cpu: CpuState, value: bigint, changed: bigint): boolean {
  const changesPagingBits = (changed & (CR4.PAE | CR4.PGE | CR4.PSE | CR4.SMEP)) !== 0n;
  return changesPagingBits && paePaging(cpu.cr0, value, cpu.eferLme);
}
