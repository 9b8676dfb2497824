/**
 * VMCALL and VMFUNC (SDM Vol. 3C, December 2023, §31.3 "VMCALL—Call to VM Monitor", "VMFUNC—Invoke
 * VM function", §26.5.6 "VM Functions").
 */
import { VM_ERROR } from '../../spec/errors.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL, VMFUNC_CONTROL } from '../../spec/control-bits.ts';
import { IN_VMX_NON_ROOT } from '../vm-entry/index.ts';
import { vmxInstructionLength, VMX_EXIT_VMCALL, VMX_EXIT_VMFUNC } from '../non-root/vmx-exit-info.ts';
import { switchEptp } from '../non-root/vmx-vmfunc.ts';
import { STATUS_GP, STATUS_NON_ROOT_UNIMPLEMENTED, STATUS_SUCCEED, STATUS_UD } from '../status.ts';
import { InvalidationInstructions } from './invalidation.ts';
import { assertLiterals } from '../literals.ts';

// Row offsets: local copies of impl/cpu-row.ts (a speed trick, see impl/machine/base.ts);
// test/impl/local-copies.test.ts checks that they agree.
/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  S_IN_VMX = 0,
  S_LMA = 5,
  S_CSL = 6,
  S_CPL = 7,
  S_VM = 8,
  S_CUR_BASE = 17,
  S_WIDE = 19,
  /** S_IN_VMX in VMX non-root operation (impl/vm-entry/load-guest.ts). */
  IN_VMX_NON_ROOT = 2,
  /** impl/non-root/vmx-exit-info.ts VMX_EXIT_VMCALL. */
  VMX_EXIT_VMCALL = 0,
}

/** VMCALL and VMFUNC. */
export abstract class VmcallVmfuncInstructions extends InvalidationInstructions {
  /**
   * VMCALL — SDM Vol. 3C, December 2023, §31.3 "VMCALL—Call to VM Monitor". In VMX root
   * operation it fails with error 1 because IA32_SMM_MONITOR_CTL's valid bit is clear here
   * (no operation sets that MSR), whether or not the profile supports the dual-monitor treatment.
   */
  vmcall(cpu: number): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (s[b + K.S_IN_VMX] === 0) return STATUS_UD;
    // In VMX non-root operation VMCALL exits before any mode check (the page's Operation section).
    if (s[b + K.S_IN_VMX] === K.IN_VMX_NON_ROOT) return this.vmxExit(b, K.VMX_EXIT_VMCALL, 0);
    if (s[b + K.S_VM] === 1 || (s[b + K.S_LMA] === 1 && s[b + K.S_CSL] === 0)) return STATUS_UD;
    if (s[b + K.S_CPL] !== 0) return STATUS_GP;
    return this.fail(b, VM_ERROR.VMCALL_IN_VMX_ROOT);
  }

  /**
   * VMFUNC — SDM Vol. 3C, December 2023, §31.3 "VMFUNC—Invoke VM function" and §26.5.6 "VM
   * Functions": #UD outside VMX non-root operation, when "enable VM functions" is 0 (or the
   * secondary controls are not activated) or EAX >= 64; a VM exit (reason 59) when the function is
   * not enabled in the VM-function controls. EPTP switching (function 0) is
   * impl/non-root/vmx-vmfunc.ts: it completes (flags unchanged, guest RIP advanced) or exits (59).
   * No profile enables another function.
   */
  vmfunc(cpu: number, eax: number, ecx: number): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (s[b + K.S_IN_VMX] !== IN_VMX_NON_ROOT) return STATUS_UD;
    const base = s[b + K.S_CUR_BASE] as number;
    const w = this.entryFacts.words;
    const v = this.memory.words;
    const primary = w.PRIMARY_PROCESSOR_BASED_CONTROLS < 0 ? 0 : (v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number);
    const secondary = w.SECONDARY_PROCESSOR_BASED_CONTROLS < 0 ? 0 : (v[base + w.SECONDARY_PROCESSOR_BASED_CONTROLS] as number);
    const enabled =
      ((primary >>> PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) & 1) === 1 && ((secondary >>> SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS) & 1) === 1;
    if (!enabled || (eax >>> 0) >= 64) return STATUS_UD;
    const word = w.VM_FUNCTION_CONTROLS;
    const controls = word < 0 ? 0 : (v[base + word + (eax >= 32 ? 1 : 0)] as number);
    if (((controls >>> (eax & 31)) & 1) === 0) return this.vmxExit(b, VMX_EXIT_VMFUNC, 0);
    if (eax !== VMFUNC_CONTROL.EPTP_SWITCHING) return STATUS_NON_ROOT_UNIMPLEMENTED;
    if (!switchEptp(this.entryFacts, this.memory, base, ecx, this.vmxWords.EPTP_INDEX)) return this.vmxExit(b, VMX_EXIT_VMFUNC, 0);
    this.advanceRip(b, vmxInstructionLength(VMX_EXIT_VMFUNC, s[b + K.S_WIDE] as number));
    return STATUS_SUCCEED;
  }
}

// The literals of K are the values of the expressions they replace.
assertLiterals('impl/machine/vmcall-vmfunc.ts', [
  [K.IN_VMX_NON_ROOT, IN_VMX_NON_ROOT],
  [K.VMX_EXIT_VMCALL, VMX_EXIT_VMCALL],
]);
