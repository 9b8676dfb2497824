/**
 * VMREAD and VMWRITE (SDM Vol. 3C, December 2023, §31.3 "VMREAD—Read Field from Virtual-Machine
 * Control Structure", "VMWRITE—Write Field to Virtual-Machine Control Structure"): in place on the
 * current VMCS's region through the profile's field table (impl/field-table.ts); in VMX non-root
 * operation, a VM exit or the shadow VMCS (impl/non-root/vmx-shadowing.ts).
 */
import { VM_ERROR } from '../../spec/errors.ts';
import { READ_ONLY, readFieldInto, writeFieldFrom } from '../field-table.ts';
import { vmxInstructionLength, VMX_EXIT_VMREAD, VMX_EXIT_VMWRITE } from '../non-root/vmx-exit-info.ts';
import { SHADOW_EXIT } from '../non-root/vmx-shadowing.ts';
import { STATUS_GP, STATUS_SUCCEED, STATUS_VMEXIT } from '../status.ts';
import { VmcsPointerInstructions } from './vmcs-pointers.ts';

// Row offsets: local copies of impl/cpu-row.ts (a speed trick, see impl/machine/base.ts);
// test/impl/local-copies.test.ts checks that they agree.
const S_FLAGS = 10;
const S_CUR_BASE = 17;
const S_GATE = 18;
const S_WIDE = 19;

/** VMREAD and VMWRITE. */
export abstract class VmcsFieldInstructions extends VmcsPointerInstructions {
  /**
   * VMREAD — SDM Vol. 3C, December 2023, §31.3 "VMREAD—Read Field from Virtual-Machine Control
   * Structure". The field value is left in resultLo/resultHi: zero-extended from narrower
   * fields, and truncated to 32 bits outside 64-bit mode. `registerOperand` false is the memory
   * form (destination `[RBX]`), which only the exit information of a guest's VMREAD tells apart.
   */
  vmread(cpu: number, encodingLo: number, encodingHi: number, registerOperand = true): number {
    const s = this.state;
    const b = this.instruction(cpu);
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.guestVmread(b, encodingLo, encodingHi, registerOperand) : gate;
    const base = s[b + S_CUR_BASE] as number;
    if (base < 0) return this.failInvalid(b);
    const wide = s[b + S_WIDE] as number;
    // Outside 64-bit mode the encoding register has 32 bits; in it, bits 63:15 must be clear.
    const outOfTable = (wide === 1 ? encodingHi : 0) | (encodingLo & 0xffff_8000);
    const entry = outOfTable === 0 ? (this.fieldEntry[encodingLo] as number) : -1;
    if (entry < 0) return this.failValid(b, base, VM_ERROR.UNSUPPORTED_FIELD);
    readFieldInto(this.memory.words, base, entry, wide, this.result);
    s[b + S_FLAGS] = 0;
    return STATUS_SUCCEED;
  }

  /**
   * VMWRITE — SDM Vol. 3C, December 2023, §31.3 "VMWRITE—Write Field to Virtual-Machine Control
   * Structure". High source bits beyond the field are ignored, high field bits beyond the source
   * (32 bits outside 64-bit mode) are cleared; the high access type writes bits 63:32 only.
   * `registerOperand` false is the memory form (source `[RBX]`).
   */
  vmwrite(cpu: number, encodingLo: number, encodingHi: number, valueLo: number, valueHi: number, registerOperand = true): number {
    const s = this.state;
    const b = this.instruction(cpu);
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.guestVmwrite(b, encodingLo, encodingHi, valueLo, valueHi, registerOperand) : gate;
    const base = s[b + S_CUR_BASE] as number;
    if (base < 0) return this.failInvalid(b);
    const wide = s[b + S_WIDE] as number;
    const outOfTable = (wide === 1 ? encodingHi : 0) | (encodingLo & 0xffff_8000);
    const entry = outOfTable === 0 ? (this.fieldEntry[encodingLo] as number) : -1;
    if (entry < 0) return this.failValid(b, base, VM_ERROR.UNSUPPORTED_FIELD);
    if ((entry & READ_ONLY) !== 0 && !this.anyFieldWritable) {
      return this.failValid(b, base, VM_ERROR.READ_ONLY_FIELD);
    }
    writeFieldFrom(this.memory.words, base, entry, wide, valueLo, valueHi);
    s[b + S_FLAGS] = 0;
    return STATUS_SUCCEED;
  }

  /** VMREAD in VMX non-root operation: a VM exit or the shadow VMCS (impl/non-root/vmx-shadowing.ts). */
  protected guestVmread(b: number, encodingLo: number, encodingHi: number, registerOperand: boolean): number {
    const status = this.shadowing.vmread(b, encodingLo, encodingHi);
    if (status === SHADOW_EXIT) return this.vmxExit(b, VMX_EXIT_VMREAD, registerOperand ? 1 : 0);
    if (status !== STATUS_GP) this.advanceRip(b, vmxInstructionLength(VMX_EXIT_VMREAD, this.state[b + S_WIDE] as number));
    return status;
  }

  /** VMWRITE in VMX non-root operation: a VM exit or the shadow VMCS (impl/non-root/vmx-shadowing.ts). */
  protected guestVmwrite(b: number, encodingLo: number, encodingHi: number, valueLo: number, valueHi: number, registerOperand: boolean): number {
    const status = this.shadowing.vmwrite(b, encodingLo, encodingHi, valueLo, valueHi);
    if (status === SHADOW_EXIT) return this.vmxExit(b, VMX_EXIT_VMWRITE, registerOperand ? 1 : 0);
    if (status !== STATUS_GP) this.advanceRip(b, vmxInstructionLength(VMX_EXIT_VMWRITE, this.state[b + S_WIDE] as number));
    return status;
  }
}
