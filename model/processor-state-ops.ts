/**
 * The processor-state operations of the engine contract: MOV to CR0 and CR4, WRMSR to
 * IA32_FEATURE_CONTROL, setting a piece of state as a debugger would, and a 32-bit store to
 * physical memory.
 *
 * MOV to CR and WRMSR are modelled for what VMX decides about them (SDM Vol. 3C, December 2023,
 * §24.8 "Restrictions on VMX Operation" and §24.7 "Enabling and Entering VMX Operation"), as the
 * engine contract documents them (spec/operations.ts), and for these checks of their instruction
 * pages (Vol. 2B "MOV—Move to/from Control Registers", Vol. 2D "WRMSR—Write to Model Specific
 * Register", Protected-, Virtual-8086-, Compatibility- and 64-Bit-Mode Exceptions), each #GP(0),
 * in this order: virtual-8086 mode, CPL > 0, then for MOV the invalid values (CR0: PG without PE,
 * NW without CD, PG cleared in 64-bit mode; CR4: PAE cleared while IA32_EFER.LMA = 1), then the
 * VMX fixed bits in VMX operation, then (WRMSR) the lock bit. Outside 64-bit mode the MOV operand
 * is 32 bits: bits 63:32 of the value are ignored. Two changes of PE and PG are modelled, the
 * steps of Vol. 3A §10.9.2 "Switching Back to Real-Address Mode" and their reverse: clearing PG
 * outside IA-32e mode (with CR4.PCIDE = 0, which the MOV page requires), and setting or clearing
 * PE while PG is 0; CR0 takes the value and the mode follows from it (real-address mode when PE
 * is 0). The remaining checks and effects of MOV are not modelled: reserved bits (CR0 bits 63:32,
 * CR4 bits that depend on CPUID features), PCIDE, setting PG (which turns paging on, and may
 * activate IA-32e mode), clearing PG in compatibility mode (which leaves IA-32e mode), and ET. A
 * step that reaches one of them is `not-modelled`; every check above gives #GP(0), so a step one
 * of them decides is `defined` whatever the unmodelled checks say.
 *
 * Memory stores are where software can break the VMCS rules: §25.11.1 "Software Use of
 * Virtual-Machine Control Structures" (no ordinary access to the data of an active VMCS),
 * §25.10 "VMCS Types: Ordinary and Shadow" (no change of an active VMCS's shadow-VMCS indicator)
 * and §25.11.5 "VMXON Region" (no access to a VMXON region between VMXON and VMXOFF). Those
 * stores are undefined. A store into the data of an inactive VMCS region is allowed but leaves
 * its contents unknown (§25.11.3 "Initializing a VMCS": the processor's interpretation of that
 * memory is implementation-specific).
 */
import { FEATURE_CONTROL } from '../spec/capability-msrs.ts';
import { sdm } from '../spec/citation.ts';
import type { MovCr0Op, MovCr4Op, SetStateOp, WriteFeatureControlOp, WriteMemoryOp } from '../spec/operations.ts';
import { CR4_VMXE } from '../spec/capability-msrs.ts';
import { completed, fault } from './conventions.ts';
import { operand } from './input.ts';
import { writeWord } from './memory.ts';
import { in64BitMode, inVirtual8086Mode, toOperandSize } from './modes.ts';
import { cr0AllowedInVmx, cr4AllowedInVmx } from './restrictions.ts';
import { rule } from './rule.ts';
import type { CpuState, ModelState } from './state.ts';
import { cpuOf, ModelInputError, withCpu } from './state.ts';
import type { Verdict } from './verdict.ts';
import { defined, notModelled, undefinedBy } from './verdict.ts';
import { corruptRegion } from './vmcs.ts';

const MOV_CR = sdm('4.3', 'MOV—Move to/from Control Registers', '2B');
const WRMSR = sdm('6.1', 'WRMSR—Write to Model Specific Register', '2D');
const RESTRICTIONS = sdm('24.8', 'Restrictions on VMX Operation');
const ENABLING = sdm('24.7', 'Enabling and Entering VMX Operation');
const CONDITIONAL_EXITS = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const SOFTWARE_USE = sdm('25.11.1', 'Software Use of Virtual-Machine Control Structures');
const REAL_MODE_SWITCH = sdm('10.9.2', 'Switching Back to Real-Address Mode', '3A');

/** CR0 bits MOV to CR0 may change without any check the model leaves out: MP, EM, TS, NE, WP, AM, NW, CD. */
const CR0_PLAIN_BITS = (1n << 1n) | (1n << 2n) | (1n << 3n) | (1n << 5n) | (1n << 16n) | (1n << 18n) | (1n << 29n) | (1n << 30n);
const CR0_PE = 1n;
const CR0_NW = 1n << 29n;
const CR0_CD = 1n << 30n;
const CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;
const CR4_PCIDE = 1n << 17n;

/** The decision points of the processor-state operations. */
export const PROCESSOR_STATE_RULES = {
  movCr0NonRoot: rule('mov-cr0.non-root', 'MOV to CR0', CONDITIONAL_EXITS, 'in VMX non-root operation MOV to CR0 may cause a VM exit (CR0 guest/host mask); not modelled'),
  movCr0Virtual8086: rule('mov-cr0.gp-virtual-8086', 'MOV to CR0', MOV_CR, '#GP(0) in virtual-8086 mode (RFLAGS.VM = 1)'),
  movCr0Cpl: rule('mov-cr0.gp-cpl', 'MOV to CR0', MOV_CR, '#GP(0) when the current privilege level is not 0'),
  movCr0PgWithoutPe: rule('mov-cr0.gp-pg-without-pe', 'MOV to CR0', MOV_CR, '#GP(0) for an invalid combination: the value sets PG (bit 31) with PE (bit 0) clear'),
  movCr0NwWithoutCd: rule('mov-cr0.gp-nw-without-cd', 'MOV to CR0', MOV_CR, '#GP(0) for an invalid combination: the value sets NW (bit 29) with CD (bit 30) clear'),
  movCr0ClearPg: rule('mov-cr0.gp-clear-pg-64-bit-mode', 'MOV to CR0', MOV_CR, '#GP(0) in 64-bit mode when the value clears PG (bit 31)'),
  movCr0Fixed: rule('mov-cr0.gp-vmx-fixed-bits', 'MOV to CR0', RESTRICTIONS, 'in VMX operation, #GP(0) when the value breaks IA32_VMX_CR0_FIXED0/FIXED1'),
  movCr0Other: rule(
    'mov-cr0.outside-vmx-checks',
    'MOV to CR0',
    MOV_CR,
    'a check or effect outside VMX the model leaves out may apply (bits 63:32 set in 64-bit mode, a reserved bit, a change of ET, setting PG, clearing PG in IA-32e mode or with CR4.PCIDE = 1, changing PE while PG is 1); not modelled',
  ),
  movCr0ModeSwitch: rule(
    'mov-cr0.mode-switch',
    'MOV to CR0',
    REAL_MODE_SWITCH,
    'CR0 takes a value that turns paging off outside IA-32e mode, or sets or clears PE with paging off (clearing PE enters real-address mode)',
  ),
  movCr0Ok: rule('mov-cr0.ok', 'MOV to CR0', MOV_CR, 'CR0 takes the value'),
  movCr4NonRoot: rule('mov-cr4.non-root', 'MOV to CR4', CONDITIONAL_EXITS, 'in VMX non-root operation MOV to CR4 may cause a VM exit (CR4 guest/host mask); not modelled'),
  movCr4Virtual8086: rule('mov-cr4.gp-virtual-8086', 'MOV to CR4', MOV_CR, '#GP(0) in virtual-8086 mode (RFLAGS.VM = 1)'),
  movCr4Cpl: rule('mov-cr4.gp-cpl', 'MOV to CR4', MOV_CR, '#GP(0) when the current privilege level is not 0'),
  movCr4ClearPae: rule('mov-cr4.gp-clear-pae-ia32e', 'MOV to CR4', MOV_CR, '#GP(0) when the value clears PAE (bit 5) while IA32_EFER.LMA = 1 (an attempt to leave IA-32e mode)'),
  movCr4Fixed: rule('mov-cr4.gp-vmx-fixed-bits', 'MOV to CR4', RESTRICTIONS, 'in VMX operation, #GP(0) when the value breaks IA32_VMX_CR4_FIXED0/FIXED1 (CR4.VMXE cannot be cleared)'),
  movCr4Other: rule(
    'mov-cr4.outside-vmx-checks',
    'MOV to CR4',
    MOV_CR,
    'a check outside VMX the model leaves out may apply (a change of a CR4 bit other than VMXE: reserved bits, bits whose support depends on CPUID features, PCIDE, paging state); not modelled',
  ),
  movCr4Ok: rule('mov-cr4.ok', 'MOV to CR4', MOV_CR, 'CR4 takes the value'),
  featureControlNonRoot: rule(
    'write-feature-control.non-root',
    'WRMSR IA32_FEATURE_CONTROL',
    CONDITIONAL_EXITS,
    'in VMX non-root operation WRMSR may cause a VM exit (MSR bitmaps); not modelled',
  ),
  featureControlVirtual8086: rule('write-feature-control.gp-virtual-8086', 'WRMSR IA32_FEATURE_CONTROL', WRMSR, '#GP(0) in virtual-8086 mode (RFLAGS.VM = 1)'),
  featureControlCpl: rule('write-feature-control.gp-cpl', 'WRMSR IA32_FEATURE_CONTROL', WRMSR, '#GP(0) when the current privilege level is not 0'),
  featureControlLocked: rule('write-feature-control.gp-locked', 'WRMSR IA32_FEATURE_CONTROL', ENABLING, '#GP(0) when the lock bit (0) is already set'),
  featureControlOtherBits: rule(
    'write-feature-control.other-bits',
    'WRMSR IA32_FEATURE_CONTROL',
    ENABLING,
    'the value sets bits other than 0-2, which depend on features the profile does not record: the write or #GP(0) are both allowed',
  ),
  featureControlSmxBit: rule(
    'write-feature-control.smx-bit',
    'WRMSR IA32_FEATURE_CONTROL',
    ENABLING,
    'the value sets bit 1, which causes #GP(0) on processors without SMX; the profile does not say, so the write or #GP(0) are both allowed',
  ),
  featureControlOk: rule('write-feature-control.ok', 'WRMSR IA32_FEATURE_CONTROL', ENABLING, 'IA32_FEATURE_CONTROL takes the value'),
  set: rule('set.ok', 'set', sdm('24.7', 'Enabling and Entering VMX Operation'), 'the harness sets a piece of processor state directly; always completes'),
  vmxonRegion: rule(
    'write-memory.vmxon-region',
    'memory',
    sdm('25.11.5', 'VMXON Region'),
    'undefined: a store into the VMXON region of a processor between VMXON and VMXOFF',
  ),
  activeHeader: rule(
    'write-memory.active-vmcs-header',
    'memory',
    sdm('25.10', 'VMCS Types: Ordinary and Shadow'),
    'undefined: a store into bytes 0-3 (revision identifier, shadow-VMCS indicator) of the region of an active VMCS',
  ),
  activeAbortIndicator: rule(
    'write-memory.active-vmcs-abort-indicator',
    'memory',
    sdm('25.2', 'Format of the VMCS Region'),
    'bytes 4-7 of a VMCS region (VMX-abort indicator) control nothing and software may write them, even for an active VMCS',
  ),
  activeData: rule('write-memory.active-vmcs-data', 'memory', SOFTWARE_USE, 'undefined: an ordinary store into the VMCS data of an active VMCS'),
  inactiveData: rule(
    'write-memory.inactive-vmcs-data',
    'memory',
    sdm('25.11.3', 'Initializing a VMCS'),
    'a store into the data of an inactive VMCS region: allowed, but its fields and launch state become unknown',
  ),
  plain: rule('write-memory.ok', 'memory', sdm('25.2', 'Format of the VMCS Region'), 'an ordinary store (including a region\'s revision identifier while it is not in use)'),
} as const;

const R = PROCESSOR_STATE_RULES;

/** MOV to CR0. */
export function movCr0(state: ModelState, op: MovCr0Op): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const value = toOperandSize(cpu, operand(op.value, 'value', 'mov-cr0'));
  if (cpu.vmx === 'non-root') return notModelled(R.movCr0NonRoot);
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.movCr0Virtual8086, 'GP'));
  if (cpu.cpl > 0) return defined(fault(state, c, R.movCr0Cpl, 'GP'));
  if ((value & CR0_PG) !== 0n && (value & CR0_PE) === 0n) return defined(fault(state, c, R.movCr0PgWithoutPe, 'GP'));
  if ((value & CR0_NW) !== 0n && (value & CR0_CD) === 0n) return defined(fault(state, c, R.movCr0NwWithoutCd, 'GP'));
  if (in64BitMode(cpu) && (value & CR0_PG) === 0n) return defined(fault(state, c, R.movCr0ClearPg, 'GP'));
  if (cpu.vmx === 'root' && !cr0AllowedInVmx(state.profile, value)) return defined(fault(state, c, R.movCr0Fixed, 'GP'));
  const changed = (value ^ cpu.cr0) & ~CR0_PLAIN_BITS;
  if (changed === 0n) return defined(completed(withCpu(state, c, { cr0: value }), c, R.movCr0Ok));
  if (!isModelledModeSwitch(cpu, value, changed)) return notModelled(R.movCr0Other);
  return defined(completed(withCpu(state, c, { cr0: value }), c, R.movCr0ModeSwitch));
}

/**
 * The changes of PE and PG the model follows (see the file comment): only PE and PG change, the
 * value leaves paging off, and the processor is outside IA-32e mode with CR4.PCIDE = 0 (in IA-32e
 * mode PG is 1, and clearing it in compatibility mode leaves IA-32e mode; with PCIDE = 1 clearing
 * PG is #GP(0), which the model leaves with the rest of PCIDE).
 */
function isModelledModeSwitch(cpu: CpuState, value: bigint, changed: bigint): boolean {
  return (changed & ~(CR0_PE | CR0_PG)) === 0n && (value & CR0_PG) === 0n && cpu.eferLma === 0 && (cpu.cr4 & CR4_PCIDE) === 0n;
}

/** MOV to CR4. */
export function movCr4(state: ModelState, op: MovCr4Op): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const value = toOperandSize(cpu, operand(op.value, 'value', 'mov-cr4'));
  if (cpu.vmx === 'non-root') return notModelled(R.movCr4NonRoot);
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.movCr4Virtual8086, 'GP'));
  if (cpu.cpl > 0) return defined(fault(state, c, R.movCr4Cpl, 'GP'));
  if (cpu.eferLma === 1 && (value & CR4_PAE) === 0n) return defined(fault(state, c, R.movCr4ClearPae, 'GP'));
  if (cpu.vmx === 'root' && !cr4AllowedInVmx(state.profile, value)) return defined(fault(state, c, R.movCr4Fixed, 'GP'));
  if (((value ^ cpu.cr4) & ~CR4_VMXE) !== 0n) return notModelled(R.movCr4Other);
  return defined(completed(withCpu(state, c, { cr4: value }), c, R.movCr4Ok));
}

/** WRMSR to IA32_FEATURE_CONTROL. */
export function writeFeatureControl(state: ModelState, op: WriteFeatureControlOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const value = operand(op.value, 'value', 'write-feature-control');
  if (cpu.vmx === 'non-root') return notModelled(R.featureControlNonRoot);
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.featureControlVirtual8086, 'GP'));
  if (cpu.cpl > 0) return defined(fault(state, c, R.featureControlCpl, 'GP'));
  if (((cpu.featureControl >> BigInt(FEATURE_CONTROL.LOCK)) & 1n) === 1n) return defined(fault(state, c, R.featureControlLocked, 'GP'));
  const written = withCpu(state, c, { featureControl: value });
  if (value >> 3n !== 0n) {
    return defined(completed(written, c, R.featureControlOtherBits), fault(state, c, R.featureControlOtherBits, 'GP'));
  }
  if (((value >> BigInt(FEATURE_CONTROL.VMX_INSIDE_SMX)) & 1n) === 1n) {
    return defined(completed(written, c, R.featureControlSmxBit), fault(state, c, R.featureControlSmxBit, 'GP'));
  }
  return defined(completed(written, c, R.featureControlOk));
}

/** Sets one piece of processor state, as a debugger would. */
export function setState(state: ModelState, op: SetStateOp): Verdict {
  const c = op.cpu;
  const max = op.what === 'cpl' ? 3 : 1;
  if (!Number.isInteger(op.value) || op.value < 0 || op.value > max) {
    throw new ModelInputError(`set: value of ${JSON.stringify(op.what)} must be an integer from 0 to ${max}, got ${op.value}`);
  }
  const changes: Partial<CpuState> = settable(op.what, op.value);
  return defined(completed(withCpu(state, c, changes), c, R.set));
}

function settable(what: SetStateOp['what'], value: number): Partial<CpuState> {
  switch (what) {
    case 'efer.lma':
      return { eferLma: value };
    case 'cs.l':
      return { csL: value };
    case 'cpl':
      return { cpl: value };
    case 'rflags.vm':
      return { rflagsVm: value };
    case 'mov-ss-blocking':
      return { movSsBlocking: value };
    default:
      throw new ModelInputError(`set: unknown state ${JSON.stringify(what)}; expected efer.lma, cs.l, cpl, rflags.vm or mov-ss-blocking`);
  }
}

/** A 32-bit store to physical memory. */
export function writeMemory(state: ModelState, op: WriteMemoryOp): Verdict {
  const c = op.cpu;
  const address = operand(op.address, 'address', 'write-memory');
  const value = operand(op.value, 'value', 'write-memory');
  if ((address & 3n) !== 0n) throw new ModelInputError(`write-memory: address must be 4-byte aligned, got ${op.address}`);
  if (value > 0xffff_ffffn) throw new ModelInputError(`write-memory: value must be at most 0xffffffff (a 32-bit store), got ${op.value}`);

  const base = address & ~0xfffn;
  const offset = Number(address & 0xfffn);
  const inRegion = offset < state.profile.regionSize;
  const stored = writeWord(state, address, Number(value));
  if (inRegion && state.cpus.some((cpu) => cpu.vmx !== 'outside' && cpu.vmxonPointer === base)) return undefinedBy(R.vmxonRegion);
  if (inRegion && state.cpus.some((cpu) => cpu.active.has(base))) {
    if (offset < 4) return undefinedBy(R.activeHeader);
    if (offset < 8) return defined(completed(stored, c, R.activeAbortIndicator));
    return undefinedBy(R.activeData);
  }
  if (inRegion && offset >= 8 && state.regions.has(base)) return defined(completed(corruptRegion(stored, base), c, R.inactiveData));
  return defined(completed(stored, c, R.plain));
}
