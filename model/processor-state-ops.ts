/**
 * The processor-state operations of the engine contract besides MOV to CR0 and CR4 (mov-cr0.ts,
 * mov-cr4.ts): WRMSR to IA32_FEATURE_CONTROL, setting a piece of state as a debugger would, and a
 * 32-bit store to physical memory.
 *
 * WRMSR is modelled for what VMX decides about it (SDM Vol. 3C, December 2023, §24.7 "Enabling
 * and Entering VMX Operation"), with these checks of its instruction page (Vol. 2D "WRMSR—Write
 * to Model Specific Register"), each #GP(0), in this order: virtual-8086 mode, CPL > 0, then the
 * lock bit.
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
import type { SetStateOp, WriteFeatureControlOp, WriteMemoryOp } from '../spec/operations.ts';
import { completed, fault } from './conventions.ts';
import { operand } from './input.ts';
import { writeWord } from './memory.ts';
import { inVirtual8086Mode } from './modes.ts';
import { rule } from './rule.ts';
import type { CpuState, ModelState } from './state.ts';
import { cpuOf, ModelInputError, withCpu } from './state.ts';
import type { Verdict } from './verdict.ts';
import { defined, notModelled, undefinedBy } from './verdict.ts';
import { corruptRegion } from './vmcs.ts';

const WRMSR = sdm('6.1', 'WRMSR—Write to Model Specific Register', '2D');
const ENABLING = sdm('24.7', 'Enabling and Entering VMX Operation');
const CONDITIONAL_EXITS = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const SOFTWARE_USE = sdm('25.11.1', 'Software Use of Virtual-Machine Control Structures');

/** The decision points of the processor-state operations. */
export const PROCESSOR_STATE_RULES = {
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
  const max = op.what === 'cr3' ? 0xffff_ffff : op.what === 'cpl' ? 3 : 1;
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
    case 'efer.lme':
      return { eferLme: value };
    case 'cr3':
      return { cr3: BigInt(value) };
    case 'cs.l':
      return { csL: value };
    case 'cpl':
      return { cpl: value };
    case 'rflags.vm':
      return { rflagsVm: value };
    case 'mov-ss-blocking':
      return { movSsBlocking: value };
    default:
      throw new ModelInputError(`set: unknown state ${JSON.stringify(what)}; expected efer.lma, efer.lme, cs.l, cpl, rflags.vm, mov-ss-blocking or cr3`);
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
