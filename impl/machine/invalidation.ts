/**
 * INVEPT and INVVPID (SDM Vol. 3C, December 2023, §31.3 "INVEPT—Invalidate Translations Derived
 * from EPT", "INVVPID—Invalidate Translations Based on VPID"): the operand checks; nothing is
 * cached, so success invalidates nothing.
 */
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { VMX_EXIT_INVEPT, VMX_EXIT_INVVPID } from '../non-root/vmx-exit-info.ts';
import { STATUS_UD, STATUS_VMEXIT } from '../status.ts';
import { VmEntryInstructions } from './vm-entry.ts';

// Row offsets: local copies of impl/cpu-row.ts (a speed trick, see impl/machine/base.ts);
// test/impl/local-copies.test.ts checks that they agree.
const S_CR4_LO = 3;
const S_GATE = 18;
const S_WIDE = 19;

const CR4_LA57 = 1 << 12;

// IA32_VMX_EPT_VPID_CAP bits as masks of its low half (bits 31:0) or high half (bits 63:32).
const CAP_WALK_LENGTH_5 = 1 << EPT_VPID_CAP.PAGE_WALK_LENGTH_5;
const CAP_MEMORY_TYPE_UC = 1 << EPT_VPID_CAP.MEMORY_TYPE_UC;
const CAP_MEMORY_TYPE_WB = 1 << EPT_VPID_CAP.MEMORY_TYPE_WB;
const CAP_EPT_ACCESSED_DIRTY = 1 << EPT_VPID_CAP.ACCESSED_DIRTY_FLAGS;
const CAP_SUPERVISOR_SHADOW_STACK = 1 << EPT_VPID_CAP.SUPERVISOR_SHADOW_STACK;
const CAP_INVEPT_SINGLE_CONTEXT = 1 << EPT_VPID_CAP.INVEPT_SINGLE_CONTEXT;
const CAP_INVEPT_ALL_CONTEXT = 1 << EPT_VPID_CAP.INVEPT_ALL_CONTEXT;
/** INVVPID type t is supported when bit 40 + t is set (types 0..3). */
const CAP_HI_INVVPID_TYPE_0 = 1 << (EPT_VPID_CAP.INVVPID_INDIVIDUAL_ADDRESS - 32);

/** INVEPT and INVVPID types (the pages' Description sections). */
const INVEPT_SINGLE_CONTEXT = 1;
const INVEPT_ALL_CONTEXT = 2;
const INVVPID_INDIVIDUAL_ADDRESS = 0;
const INVVPID_ALL_CONTEXT = 2;
const INVVPID_LAST_TYPE = 3;

/** INVEPT and INVVPID. */
export abstract class InvalidationInstructions extends VmEntryInstructions {
  /**
   * INVEPT — SDM Vol. 3C, December 2023, §31.3 "INVEPT—Invalidate Translations Derived from
   * EPT". `eptp` is descriptor bits 63:0; bits 127:64 are not examined (the Operation section
   * does not test them). No translations are cached here, so success invalidates nothing.
   */
  invept(
    cpu: number,
    typeLo: number,
    typeHi: number,
    eptpLo: number,
    eptpHi: number,
    registerOperand = false,
  ): number {
    const s = this.state;
    const b = this.instruction(cpu);
    // #UD also when EPT or INVEPT is unsupported (the page's exception list).
    if (registerOperand || !this.inveptSupported) return STATUS_UD;
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_INVEPT, 0) : gate;
    if (s[b + S_WIDE] === 1 && typeHi !== 0) return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    if (typeLo === INVEPT_SINGLE_CONTEXT && (this.capLo & CAP_INVEPT_SINGLE_CONTEXT) !== 0) {
      if (!this.eptpValid(eptpLo, eptpHi)) return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
      return this.succeed(b);
    }
    if (typeLo === INVEPT_ALL_CONTEXT && (this.capLo & CAP_INVEPT_ALL_CONTEXT) !== 0) return this.succeed(b);
    return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
  }

  /**
   * INVVPID — SDM Vol. 3C, December 2023, §31.3 "INVVPID—Invalidate Translations Based on VPID".
   * The descriptor is (bits 63:0, bits 127:64) = (VPID in 15:0 with 63:16 reserved, linear address).
   */
  invvpid(
    cpu: number,
    typeLo: number,
    typeHi: number,
    descriptorLo: number,
    descriptorHi: number,
    addressLo: number,
    addressHi: number,
    registerOperand = false,
  ): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (registerOperand || !this.invvpidSupported) return STATUS_UD;
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_INVVPID, 0) : gate;
    if (s[b + S_WIDE] === 1 && typeHi !== 0) return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    // Types 0-3 are supported when IA32_VMX_EPT_VPID_CAP bits 40-43 say so.
    if ((typeLo >>> 0) > INVVPID_LAST_TYPE || (this.capHi & (CAP_HI_INVVPID_TYPE_0 << typeLo)) === 0) {
      return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    }
    if (descriptorHi !== 0 || (descriptorLo & 0xffff_0000) !== 0) {
      return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    }
    const vpid = descriptorLo & 0xffff;
    if (typeLo === INVVPID_ALL_CONTEXT) return this.succeed(b);
    if (vpid === 0) return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    if (typeLo === INVVPID_INDIVIDUAL_ADDRESS) {
      // Canonical: bits 63:47 all equal (63:56 with CR4.LA57 = 1, 5-level paging).
      const shift = ((s[b + S_CR4_LO] as number) & CR4_LA57) !== 0 ? 24 : 15;
      const top = (addressHi | 0) >> shift;
      if (top !== 0 && top !== -1) return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    }
    return this.succeed(b);
  }

  /**
   * The EPTP passes the VM-entry checks on the EPTP field (§27.2.1.1 "VM-Execution Control
   * Fields"): supported memory type and page-walk length, A/D and supervisor-shadow-stack bits
   * only when supported, reserved bits 11:8 and 63:N clear (N = physical-address width).
   */
  protected eptpValid(lo: number, hi: number): boolean {
    const cap = this.capLo;
    const memoryType = lo & 7;
    if (memoryType === 0) {
      if ((cap & CAP_MEMORY_TYPE_UC) === 0) return false;
    } else if (memoryType === 6) {
      if ((cap & CAP_MEMORY_TYPE_WB) === 0) return false;
    } else {
      return false;
    }
    const walkLengthMinusOne = (lo >>> 3) & 7;
    if (walkLengthMinusOne !== 3 && !(walkLengthMinusOne === 4 && (cap & CAP_WALK_LENGTH_5) !== 0)) return false;
    if ((lo & (1 << 6)) !== 0 && (cap & CAP_EPT_ACCESSED_DIRTY) === 0) return false;
    if ((lo & (1 << 7)) !== 0 && (cap & CAP_SUPERVISOR_SHADOW_STACK) === 0) return false;
    if ((lo & 0xf00) !== 0) return false;
    return (hi & this.physicalHiBad) === 0;
  }
}
