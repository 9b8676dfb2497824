/**
 * VMXON, VMXOFF, VMCLEAR, VMPTRLD and VMPTRST: entering and leaving VMX operation and the
 * current-VMCS pointer (SDM Vol. 3C, December 2023, §31.3 "VMX Instructions", one page each,
 * cited per method; §24.7 "Enabling and Entering VMX Operation", §24.8 "Restrictions on VMX
 * Operation").
 */
import { CR4_VMXE, FEATURE_CONTROL } from '../../spec/capability-msrs.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { REGION_LAUNCH_WORD, REGION_REVISION_WORD } from '../field-table.ts';
import { chunkNumber } from '../memory.ts';
import { IN_VMX_NON_ROOT } from '../vm-entry/index.ts';
import { VMX_EXIT_VMCLEAR, VMX_EXIT_VMPTRLD, VMX_EXIT_VMPTRST, VMX_EXIT_VMXOFF, VMX_EXIT_VMXON } from '../non-root/vmx-exit-info.ts';
import { STATUS_GP, STATUS_UD, STATUS_VMEXIT } from '../status.ts';
import { MachineCore } from './core.ts';

// Row offsets: local copies of impl/cpu-row.ts (a speed trick, see impl/machine/base.ts);
// test/impl/local-copies.test.ts checks that they agree.
const S_IN_VMX = 0;
const S_CR0_LO = 1;
const S_CR0_HI = 2;
const S_CR4_LO = 3;
const S_CR4_HI = 4;
const S_LMA = 5;
const S_CSL = 6;
const S_CPL = 7;
const S_VM = 8;
const S_FC_LO = 11;
const S_VMXON_LO = 13;
const S_VMXON_HI = 14;
const S_CUR_LO = 15;
const S_CUR_HI = 16;
const S_CUR_BASE = 17;
const S_GATE = 18;
const S_CUR_SHADOW = 20;

const ALL_ONES = -1;

const CR0_PE = 1 << 0;
const CR4_VMXE_BIT = Number(CR4_VMXE);
const FEATURE_CONTROL_LOCK = 1 << FEATURE_CONTROL.LOCK;
const FEATURE_CONTROL_VMXON_OUTSIDE_SMX = 1 << FEATURE_CONTROL.VMX_OUTSIDE_SMX;

/** The VMX instructions of VMX operation and of the current-VMCS pointer. */
export abstract class VmcsPointerInstructions extends MachineCore {
  /** VMXON m64 — SDM Vol. 3C, December 2023, §31.3 "VMXON—Enter VMX Operation". */
  vmxon(cpu: number, pointerLo: number, pointerHi: number, registerOperand = false): number {
    const s = this.state;
    const b = this.instruction(cpu);
    const cr4Lo = s[b + S_CR4_LO] as number;
    if (
      registerOperand ||
      ((s[b + S_CR0_LO] as number) & CR0_PE) === 0 ||
      (cr4Lo & CR4_VMXE_BIT) === 0 ||
      s[b + S_VM] === 1 ||
      (s[b + S_LMA] === 1 && s[b + S_CSL] === 0)
    ) {
      return STATUS_UD;
    }
    if (s[b + S_IN_VMX] === 0) {
      const featureControl = s[b + S_FC_LO] as number;
      if (
        s[b + S_CPL] !== 0 ||
        !this.controlRegistersAllowed(b) ||
        (featureControl & FEATURE_CONTROL_LOCK) === 0 ||
        (featureControl & FEATURE_CONTROL_VMXON_OUTSIDE_SMX) === 0
      ) {
        return STATUS_GP;
      }
      pointerLo |= 0;
      pointerHi |= 0;
      if ((pointerLo & 0xfff) !== 0 || (pointerHi & this.pointerHiBad) !== 0) return this.failInvalid(b);
      const revision = this.memory.read32(pointerLo, pointerHi);
      // Bits 30:0 must be the revision identifier and bit 31 (shadow-VMCS indicator) clear.
      if (revision !== this.revisionId) return this.failInvalid(b);
      s[b + S_IN_VMX] = 1;
      s[b + S_VMXON_LO] = pointerLo;
      s[b + S_VMXON_HI] = pointerHi;
      this.makeNoVmcsCurrent(b);
      this.refresh(b);
      return this.succeed(b);
    }
    if (s[b + S_IN_VMX] === IN_VMX_NON_ROOT) return this.vmxExit(b, VMX_EXIT_VMXON, 0);
    if (s[b + S_CPL] !== 0) return STATUS_GP;
    return this.fail(b, VM_ERROR.VMXON_IN_VMX_ROOT);
  }

  /** VMXOFF — SDM Vol. 3C, December 2023, §31.3 "VMXOFF—Leave VMX Operation". */
  vmxoff(cpu: number): number {
    const s = this.state;
    const b = this.instruction(cpu);
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_VMXOFF, 0) : gate;
    // The dual-monitor treatment of SMIs and SMM is never active (IA32_SMM_MONITOR_CTL is 0).
    // VMCSs still active keep their data and launch state in their regions (where impl/ keeps
    // them anyway); the SDM leaves their state undefined.
    s[b + S_IN_VMX] = 0;
    s[b + S_VMXON_LO] = ALL_ONES;
    s[b + S_VMXON_HI] = ALL_ONES;
    this.makeNoVmcsCurrent(b);
    this.refresh(b);
    return this.succeed(b);
  }

  /** VMCLEAR m64 — SDM Vol. 3C, December 2023, §31.3 "VMCLEAR—Clear Virtual-Machine Control Structure". */
  vmclear(cpu: number, pointerLo: number, pointerHi: number, registerOperand = false): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (registerOperand) return STATUS_UD;
    // Halves may arrive as uint32 (say, from resultLo); compare them as the int32 the state holds.
    pointerLo |= 0;
    pointerHi |= 0;
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_VMCLEAR, 0) : gate;
    if ((pointerLo & 0xfff) !== 0 || (pointerHi & this.pointerHiBad) !== 0) {
      return this.fail(b, VM_ERROR.VMCLEAR_INVALID_ADDRESS);
    }
    if (pointerLo === s[b + S_VMXON_LO] && pointerHi === s[b + S_VMXON_HI]) {
      return this.fail(b, VM_ERROR.VMCLEAR_VMXON_POINTER);
    }
    // The VMCS data is already in the region (impl/ keeps it there). Initialize the
    // implementation-specific data: the launch state becomes clear. Field data is kept (as Bochs
    // does).
    this.memory.write32(pointerLo + 4 * REGION_LAUNCH_WORD, pointerHi, 0);
    if (pointerLo === s[b + S_CUR_LO] && pointerHi === s[b + S_CUR_HI]) this.makeNoVmcsCurrent(b);
    return this.succeed(b);
  }

  /** VMPTRLD m64 — SDM Vol. 3C, December 2023, §31.3 "VMPTRLD—Load Pointer to Virtual-Machine Control Structure". */
  vmptrld(cpu: number, pointerLo: number, pointerHi: number, registerOperand = false): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (registerOperand) return STATUS_UD;
    // Halves may arrive as uint32 (say, from resultLo); compare them as the int32 the state holds.
    pointerLo |= 0;
    pointerHi |= 0;
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_VMPTRLD, 0) : gate;
    if ((pointerLo & 0xfff) !== 0 || (pointerHi & this.pointerHiBad) !== 0) {
      return this.fail(b, VM_ERROR.VMPTRLD_INVALID_ADDRESS);
    }
    if (pointerLo === s[b + S_VMXON_LO] && pointerHi === s[b + S_VMXON_HI]) {
      return this.fail(b, VM_ERROR.VMPTRLD_VMXON_POINTER);
    }
    const revision = this.memory.read32(pointerLo + 4 * REGION_REVISION_WORD, pointerHi);
    if ((revision & 0x7fff_ffff) !== this.revisionId || (revision < 0 && !this.shadowingSupported)) {
      return this.fail(b, VM_ERROR.VMPTRLD_INCORRECT_REVISION);
    }
    // Chunks of a region, once side by side, never move again, so no processor's S_CUR_BASE
    // can be left pointing at a moved chunk.
    const base = this.memory.region(chunkNumber(pointerLo, pointerHi), this.regionChunks);
    // Implementation choice: the shadow-VMCS indicator is taken from memory at every VMPTRLD.
    s[b + S_CUR_SHADOW] = revision < 0 ? 1 : 0;
    s[b + S_CUR_LO] = pointerLo;
    s[b + S_CUR_HI] = pointerHi;
    s[b + S_CUR_BASE] = base;
    return this.succeed(b);
  }

  /**
   * VMPTRST m64 — SDM Vol. 3C, December 2023, §31.3 "VMPTRST—Store Pointer to Virtual-Machine
   * Control Structure". The stored value is left in resultLo/resultHi.
   */
  vmptrst(cpu: number, registerOperand = false): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (registerOperand) return STATUS_UD;
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_VMPTRST, 0) : gate;
    this.result[0] = s[b + S_CUR_LO] as number;
    this.result[1] = s[b + S_CUR_HI] as number;
    return this.succeed(b);
  }

  /** CR0 and CR4 hold values allowed in VMX operation (IA32_VMX_CR0/CR4_FIXED0/FIXED1). */
  protected controlRegistersAllowed(b: number): boolean {
    const s = this.state;
    return (
      fixedBitsAllowed(s[b + S_CR0_LO] as number, s[b + S_CR0_HI] as number, this.cr0Fixed0, this.cr0Fixed1) &&
      fixedBitsAllowed(s[b + S_CR4_LO] as number, s[b + S_CR4_HI] as number, this.cr4Fixed0, this.cr4Fixed1)
    );
  }
}

/** `lo/hi` has every FIXED0 bit set and no bit outside FIXED1. */
function fixedBitsAllowed(lo: number, hi: number, fixed0: readonly [number, number], fixed1: readonly [number, number]): boolean {
  return (
    (lo & fixed0[0]) === fixed0[0] && (hi & fixed0[1]) === fixed0[1] && (lo & ~fixed1[0]) === 0 && (hi & ~fixed1[1]) === 0
  );
}
