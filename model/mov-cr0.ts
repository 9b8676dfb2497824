/**
 * MOV to CR0, every check and effect (the engine contract's `mov-cr0`).
 *
 * Sources (December 2023): Vol. 2B "MOV—Move to/from Control Registers" (Description and the
 * exceptions by mode), Vol. 3A §2.5 "Control Registers" (CR0 flags, CET and WP), §4.1.2
 * "Paging-Mode Enabling", §4.4.1 "PDPTE Registers", §10.8.5 "Initializing IA-32e Mode" and
 * §10.9 "Mode Switching" (2016 numbering 9.8.5 and 9.9), and Vol. 3C §24.8 "Restrictions on VMX
 * Operation". Every check is #GP(0), so their order decides only which rule names the fault; it
 * follows the MOV page (mode, privilege, the value itself), then the paging chapters, then VMX.
 *
 * What a write does, from the MOV page's Description: outside 64-bit mode the source is 32 bits
 * and CR0[63:32] become 0; reserved bits 31:0 set in the value are ignored (they stay 0); CR0.ET
 * stays 1 whatever the value says, because every processor with VMX is a P6-family, Pentium 4 or
 * later part, where ET is hardwired to 1 (§2.5). IA32_EFER.LMA follows CR0.PG: setting PG with
 * LME = 1 activates IA-32e mode (LMA = 1, the processor is then in compatibility mode since
 * CS.L must be 0), clearing PG in compatibility mode leaves it (LMA = 0). The arithmetic flags
 * are expected unchanged, as for every processor-state operation of the contract, although the
 * MOV page calls them undefined (see model/README.md, "Choices worth knowing").
 */
import { sdm } from '../spec/citation.ts';
import type { MovCr0Op } from '../spec/operations.ts';
import { completed, fault } from './conventions.ts';
import { CR0, CR0_DEFINED_LOW, CR4, paePaging, pdptesHaveReservedBits } from './control-registers.ts';
import { operand } from './input.ts';
import { in64BitMode, inCompatibilityMode, inIa32eMode, inVirtual8086Mode, toOperandSize } from './modes.ts';
import { cr0AllowedInVmx } from './restrictions.ts';
import { rule } from './rule.ts';
import type { Rule } from './rule.ts';
import type { CpuState, ModelState } from './state.ts';
import { cpuOf, withCpu } from './state.ts';
import type { Branch, Verdict } from './verdict.ts';
import { defined, notModelled } from './verdict.ts';

const I = 'MOV to CR0';
const MOV_CR = sdm('4.3', 'MOV—Move to/from Control Registers', '2B');
const CONTROL_REGISTERS = sdm('2.5', 'Control Registers', '3A');
const PAGING_ENABLING = sdm('4.1.2', 'Paging-Mode Enabling', '3A');
const PDPTE_REGISTERS = sdm('4.4.1', 'PDPTE Registers', '3A');
const IA32E_INIT = sdm('10.8.5', 'Initializing IA-32e Mode', '3A');
const IA32E_LEAVE = sdm('10.8.5.4', 'Switching Out of IA-32e Mode Operation', '3A');
const MODE_SWITCHING = sdm('10.9', 'Mode Switching', '3A');
const RESTRICTIONS = sdm('24.8', 'Restrictions on VMX Operation');
const CONDITIONAL_EXITS = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');

/** The decision points of MOV to CR0, in the order they are checked. */
export const MOV_CR0_RULES = {
  nonRoot: rule('mov-cr0.non-root', I, CONDITIONAL_EXITS, 'in VMX non-root operation MOV to CR0 may cause a VM exit (CR0 guest/host mask); not modelled'),
  virtual8086: rule('mov-cr0.gp-virtual-8086', I, MOV_CR, '#GP(0) in virtual-8086 mode (RFLAGS.VM = 1)'),
  cpl: rule('mov-cr0.gp-cpl', I, MOV_CR, '#GP(0) when the current privilege level is not 0'),
  reservedHigh: rule('mov-cr0.gp-reserved-high-bits', I, MOV_CR, '#GP(0) in 64-bit mode when the value sets any of bits 63:32 (reserved)'),
  pgWithoutPe: rule('mov-cr0.gp-pg-without-pe', I, MOV_CR, '#GP(0) for an invalid combination: the value sets PG (bit 31) with PE (bit 0) clear'),
  nwWithoutCd: rule('mov-cr0.gp-nw-without-cd', I, MOV_CR, '#GP(0) for an invalid combination: the value sets NW (bit 29) with CD (bit 30) clear'),
  clearPg64: rule('mov-cr0.gp-clear-pg-64-bit-mode', I, MOV_CR, '#GP(0) in 64-bit mode when the value clears PG (bit 31)'),
  clearPgPcide: rule('mov-cr0.gp-clear-pg-pcide', I, MOV_CR, '#GP(0) when the value clears PG while CR4.PCIDE = 1'),
  clearWpCet: rule('mov-cr0.gp-clear-wp-cet', I, CONTROL_REGISTERS, '#GP(0) when the value clears WP (bit 16) while CR4.CET = 1 (CET must be cleared first)'),
  pagingWithoutPae: rule('mov-cr0.gp-lme-without-pae', I, PAGING_ENABLING, '#GP(0) when the value sets PG while IA32_EFER.LME = 1 and CR4.PAE = 0'),
  activationCs: rule(
    'mov-cr0.gp-ia32e-activation-cs-l',
    I,
    MOV_CR,
    '#GP(0) when setting PG would activate IA-32e mode (IA32_EFER.LME = 1) while CS.L = 1 or TR references a 16-bit TSS',
  ),
  pdpte: rule('mov-cr0.gp-pdpte-reserved', I, PDPTE_REGISTERS, '#GP(0) when PAE paging follows, the value changes CD, NW or PG, and a present PDPTE at CR3[31:5] sets a reserved bit'),
  vmxFixed: rule('mov-cr0.gp-vmx-fixed-bits', I, RESTRICTIONS, 'in VMX operation, #GP(0) when the value breaks IA32_VMX_CR0_FIXED0/FIXED1'),
  vmxFixedIgnoredBits: rule(
    'mov-cr0.vmx-fixed-bits-ignored-bits',
    I,
    RESTRICTIONS,
    'in VMX operation, the value breaks IA32_VMX_CR0_FIXED0/FIXED1 only in bits the write ignores (reserved bits 31:0, ET) or only once they are ignored; §24.8 does not say which counts: #GP(0) or the write',
  ),
  activate: rule('mov-cr0.activates-ia32e-mode', I, IA32E_INIT, 'CR0 takes the value; setting PG with IA32_EFER.LME = 1 activates IA-32e mode (LMA = 1)'),
  deactivate: rule('mov-cr0.leaves-ia32e-mode', I, IA32E_LEAVE, 'CR0 takes the value; clearing PG in compatibility mode deactivates IA-32e mode (LMA = 0)'),
  modeSwitch: rule(
    'mov-cr0.mode-switch',
    I,
    MODE_SWITCHING,
    'CR0 takes a value that changes PE or PG outside IA-32e mode: real-address mode when PE = 0, paging on or off',
  ),
  ignoredBits: rule('mov-cr0.ignores-reserved-bits', I, MOV_CR, 'CR0 takes the value with reserved bits 31:0 ignored (left 0) and ET left 1'),
  ok: rule('mov-cr0.ok', I, MOV_CR, 'CR0 takes the value'),
} as const;

const R = MOV_CR0_RULES;

/** MOV to CR0. */
export function movCr0(state: ModelState, op: MovCr0Op): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const value = toOperandSize(cpu, operand(op.value, 'value', 'mov-cr0'));
  const settingPg = (value & CR0.PG) !== 0n && (cpu.cr0 & CR0.PG) === 0n;
  const clearingPg = (value & CR0.PG) === 0n && (cpu.cr0 & CR0.PG) !== 0n;
  const gp = (why: Rule): Verdict => defined(fault(state, c, why, 'GP'));

  if (cpu.vmx === 'non-root') return notModelled(R.nonRoot);
  if (inVirtual8086Mode(cpu)) return gp(R.virtual8086);
  if (cpu.cpl > 0) return gp(R.cpl);
  if (value >> 32n !== 0n) return gp(R.reservedHigh);
  if ((value & CR0.PG) !== 0n && (value & CR0.PE) === 0n) return gp(R.pgWithoutPe);
  if ((value & CR0.NW) !== 0n && (value & CR0.CD) === 0n) return gp(R.nwWithoutCd);
  if (in64BitMode(cpu) && (value & CR0.PG) === 0n) return gp(R.clearPg64);
  if (clearingPg && (cpu.cr4 & CR4.PCIDE) !== 0n) return gp(R.clearPgPcide);
  if ((value & CR0.WP) === 0n && (cpu.cr4 & CR4.CET) !== 0n) return gp(R.clearWpCet);
  if (settingPg && cpu.eferLme === 1 && (cpu.cr4 & CR4.PAE) === 0n) return gp(R.pagingWithoutPae);
  if (settingPg && cpu.eferLme === 1 && (cpu.csL === 1 || cpu.tr16BitTss)) return gp(R.activationCs);
  if (loadsPdptes(cpu, value) && pdptesHaveReservedBits(state, cpu)) return gp(R.pdpte);

  const cr0 = (value & CR0_DEFINED_LOW) | CR0.ET;
  const written = (why: Rule): Branch => completed(withCpu(state, c, { cr0, eferLma: lmaAfter(cpu, settingPg, clearingPg) }), c, why);
  if (cpu.vmx === 'root') {
    const valueAllowed = cr0AllowedInVmx(state.profile, value);
    const resultAllowed = cr0AllowedInVmx(state.profile, cr0);
    if (!valueAllowed && !resultAllowed) return gp(R.vmxFixed);
    if (valueAllowed !== resultAllowed) return defined(fault(state, c, R.vmxFixedIgnoredBits, 'GP'), written(R.vmxFixedIgnoredBits));
  }
  return defined(written(completionRule(cpu, value, cr0, settingPg, clearingPg)));
}

/**
 * The PDPTEs are loaded when PAE paging is in use after the write (CR0.PG = 1, CR4.PAE = 1,
 * IA32_EFER.LME = 0) and the write changes CD, NW or PG (§4.4.1).
 */
function loadsPdptes(cpu: CpuState, value: bigint): boolean {
  const changesPagingBits = ((value ^ cpu.cr0) & (CR0.CD | CR0.NW | CR0.PG)) !== 0n;
  return changesPagingBits && paePaging(value, cpu.cr4, cpu.eferLme);
}

/** IA32_EFER.LMA after the write: set by setting PG with LME = 1, cleared by clearing PG in IA-32e mode. */
function lmaAfter(cpu: CpuState, settingPg: boolean, clearingPg: boolean): number {
  if (settingPg && cpu.eferLme === 1) return 1;
  if (clearingPg && inIa32eMode(cpu)) return 0;
  return cpu.eferLma;
}

/** The rule that names a completed write: a change of mode first, then ignored bits. */
function completionRule(cpu: CpuState, value: bigint, cr0: bigint, settingPg: boolean, clearingPg: boolean): Rule {
  if (settingPg && cpu.eferLme === 1) return R.activate;
  if (clearingPg && inCompatibilityMode(cpu)) return R.deactivate;
  if (((value ^ cpu.cr0) & (CR0.PE | CR0.PG)) !== 0n) return R.modeSwitch;
  if (cr0 !== value) return R.ignoredBits;
  return R.ok;
}
