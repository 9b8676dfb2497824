/**
 * Checks on the VM-execution control fields: SDM Vol. 3C, December 2023, §27.2.1.1
 * "VM-Execution Control Fields" (and Vol. 3D §A.11 "VM Functions"), the catalogue group
 * `execution-controls` (spec/entry-checks/execution-controls.ts), in the catalogue's order.
 * A failure is VMfailValid(7).
 *
 * Trick: each control word is loaded once and every check is a mask test on int32 halves; a
 * secondary control reads as 0 unless "activate secondary controls" is 1, which one load-and-mask
 * of the secondary word does for every check below.
 */
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import {
  EXIT_CONTROL as EXIT,
  PIN_CONTROL as PIN,
  PRIMARY_CONTROL as PRIMARY,
  SECONDARY_CONTROL as SECONDARY,
  VMFUNC_CONTROL,
} from '../../spec/control-bits.ts';
import type { PhysicalMemory } from '../memory.ts';
import { assertLiterals } from '../literals.ts';
import type { EntryFacts } from './facts.ts';
import { half, high, low, on } from './vmcs-words.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  EPT_VPID_CAP_ACCESSED_DIRTY_FLAGS = 21,
  EPT_VPID_CAP_MEMORY_TYPE_UC = 8,
  EPT_VPID_CAP_MEMORY_TYPE_WB = 14,
  EPT_VPID_CAP_PAGE_WALK_LENGTH_5 = 7,
  EPT_VPID_CAP_SUPERVISOR_SHADOW_STACK = 23,
  EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT = 15,
  PIN_EXTERNAL_INTERRUPT_EXITING = 0,
  PIN_NMI_EXITING = 3,
  PIN_PROCESS_POSTED_INTERRUPTS = 7,
  PIN_VIRTUAL_NMIS = 5,
  PRIMARY_ACTIVATE_SECONDARY_CONTROLS = 31,
  PRIMARY_ACTIVATE_TERTIARY_CONTROLS = 17,
  PRIMARY_NMI_WINDOW_EXITING = 22,
  PRIMARY_USE_IO_BITMAPS = 25,
  PRIMARY_USE_MSR_BITMAPS = 28,
  PRIMARY_USE_TPR_SHADOW = 21,
  SECONDARY_APIC_REGISTER_VIRTUALIZATION = 8,
  SECONDARY_ENABLE_EPT = 1,
  SECONDARY_ENABLE_PML = 17,
  SECONDARY_ENABLE_VM_FUNCTIONS = 13,
  SECONDARY_ENABLE_VPID = 5,
  SECONDARY_EPT_VIOLATION_VE = 18,
  SECONDARY_MODE_BASED_EXECUTE_CONTROL_FOR_EPT = 22,
  SECONDARY_SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT = 23,
  SECONDARY_UNRESTRICTED_GUEST = 7,
  SECONDARY_VIRTUALIZE_APIC_ACCESSES = 0,
  SECONDARY_VIRTUALIZE_X2APIC_MODE = 4,
  SECONDARY_VIRTUAL_INTERRUPT_DELIVERY = 9,
  SECONDARY_VMCS_SHADOWING = 14,
  VMFUNC_CONTROL_EPTP_SWITCHING = 0,
  PAGE_OFFSET = 0xfff,
  /** EPTP memory types (bits 2:0) and the page-walk lengths minus 1 (bits 5:3). */
  EPT_UC = 0,
  EPT_WB = 6,
  WALK_4_LEVELS = 3,
  WALK_5_LEVELS = 4,
  EPTP_ACCESSED_DIRTY = 64,
  EPTP_SUPERVISOR_SHADOW_STACK = 128,
  EPTP_RESERVED_LOW = 0xf00,
  /** VTPR: byte 80H of the virtual-APIC page. */
  VTPR_OFFSET = 128,
}


/** A 4-KByte-aligned address field that sets no bit beyond the address width. */
function pageAddressOk(v: Int32Array, base: number, word: number, hiBad: number): boolean {
  return (low(v, base, word) & K.PAGE_OFFSET) === 0 && (high(v, base, word) & hiBad) === 0;
}

/** True when every check of the group passes. */
export function executionControlsOk(f: EntryFacts, v: Int32Array, base: number, memory: PhysicalMemory): boolean {
  const w = f.words;
  const pin = (v[base + w.PIN_BASED_CONTROLS] as number);
  const primary = (v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number);
  // Reserved control bits: must-be-1 and allowed-1 (Vol. 3D §A.3 "VM-Execution Controls").
  if ((pin & f.pinMust) !== f.pinMust || (pin & ~f.pinMay) !== 0) return false;
  if ((primary & f.primaryMust) !== f.primaryMust || (primary & ~f.primaryMay) !== 0) return false;
  const secondary = on(primary, K.PRIMARY_ACTIVATE_SECONDARY_CONTROLS) ? low(v, base, w.SECONDARY_PROCESSOR_BASED_CONTROLS) : 0;
  if ((secondary & ~f.secondaryMay) !== 0) return false;
  if (
    on(primary, K.PRIMARY_ACTIVATE_TERTIARY_CONTROLS) &&
    ((low(v, base, w.TERTIARY_PROCESSOR_BASED_CONTROLS) & ~f.tertiaryMayLo) !== 0 ||
      (high(v, base, w.TERTIARY_PROCESSOR_BASED_CONTROLS) & ~f.tertiaryMayHi) !== 0)
  ) {
    return false;
  }
  if ((v[base + w.CR3_TARGET_COUNT] as number) >>> 0 > f.cr3TargetMax) return false;
  const hiBad = f.addressHiBad;
  if (on(primary, K.PRIMARY_USE_IO_BITMAPS)) {
    if (!pageAddressOk(v, base, w.IO_BITMAP_A_ADDRESS, hiBad)) return false;
    if (!pageAddressOk(v, base, w.IO_BITMAP_B_ADDRESS, hiBad)) return false;
  }
  if (on(primary, K.PRIMARY_USE_MSR_BITMAPS) && !pageAddressOk(v, base, w.MSR_BITMAPS_ADDRESS, hiBad)) return false;
  const tprShadow = on(primary, K.PRIMARY_USE_TPR_SHADOW);
  const virtualInterrupts = on(secondary, K.SECONDARY_VIRTUAL_INTERRUPT_DELIVERY);
  if (tprShadow) {
    const apicLo = low(v, base, w.VIRTUAL_APIC_ADDRESS);
    const apicHi = high(v, base, w.VIRTUAL_APIC_ADDRESS);
    if ((apicLo & K.PAGE_OFFSET) !== 0 || (apicHi & hiBad) !== 0) return false;
    if (!virtualInterrupts) {
      const threshold = low(v, base, w.TPR_THRESHOLD);
      if ((threshold & ~0xf) !== 0) return false;
      if (!on(secondary, K.SECONDARY_VIRTUALIZE_APIC_ACCESSES)) {
        const vtpr = memory.read32(apicLo + K.VTPR_OFFSET, apicHi) & 0xff;
        if ((threshold & 0xf) > vtpr >>> 4) return false;
      }
    }
  } else {
    const needTprShadow =
      (1 << K.SECONDARY_VIRTUALIZE_X2APIC_MODE) |
      (1 << K.SECONDARY_APIC_REGISTER_VIRTUALIZATION) |
      (1 << K.SECONDARY_VIRTUAL_INTERRUPT_DELIVERY);
    if ((secondary & needTprShadow) !== 0) return false;
  }
  if (on(pin, K.PIN_VIRTUAL_NMIS) && !on(pin, K.PIN_NMI_EXITING)) return false;
  if (on(primary, K.PRIMARY_NMI_WINDOW_EXITING) && !on(pin, K.PIN_VIRTUAL_NMIS)) return false;
  if (on(secondary, K.SECONDARY_VIRTUALIZE_APIC_ACCESSES)) {
    if (!pageAddressOk(v, base, w.APIC_ACCESS_ADDRESS, hiBad)) return false;
    if (on(secondary, K.SECONDARY_VIRTUALIZE_X2APIC_MODE)) return false;
  }
  if (virtualInterrupts && !on(pin, K.PIN_EXTERNAL_INTERRUPT_EXITING)) return false;
  if (on(pin, K.PIN_PROCESS_POSTED_INTERRUPTS)) {
    if (!virtualInterrupts) return false;
    if (!on((v[base + w.PRIMARY_VM_EXIT_CONTROLS] as number), K.EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT)) return false;
    if ((half(v, base, w.POSTED_INTERRUPT_NOTIFICATION_VECTOR) & 0xff00) !== 0) return false;
    const descriptorLo = low(v, base, w.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS);
    if ((descriptorLo & 0x3f) !== 0 || (high(v, base, w.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS) & hiBad) !== 0) return false;
  }
  if (on(secondary, K.SECONDARY_ENABLE_VPID) && half(v, base, w.VPID) === 0) return false;
  const ept = on(secondary, K.SECONDARY_ENABLE_EPT);
  if (ept && !eptPointerOk(f, low(v, base, w.EPT_POINTER), high(v, base, w.EPT_POINTER))) return false;
  if (on(secondary, K.SECONDARY_ENABLE_PML)) {
    if (!ept || !pageAddressOk(v, base, w.PML_ADDRESS, hiBad)) return false;
  }
  if (!ept && on(secondary, K.SECONDARY_UNRESTRICTED_GUEST)) return false;
  if (!ept && on(secondary, K.SECONDARY_MODE_BASED_EXECUTE_CONTROL_FOR_EPT)) return false;
  if (on(secondary, K.SECONDARY_SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT)) {
    if (!ept || !pageAddressOk(v, base, w.SUB_PAGE_PERMISSION_TABLE_POINTER, hiBad)) return false;
  }
  if (on(secondary, K.SECONDARY_ENABLE_VM_FUNCTIONS)) {
    const vmfuncLo = low(v, base, w.VM_FUNCTION_CONTROLS);
    if ((vmfuncLo & ~f.vmfuncMayLo) !== 0 || (high(v, base, w.VM_FUNCTION_CONTROLS) & ~f.vmfuncMayHi) !== 0) return false;
    if (on(vmfuncLo, K.VMFUNC_CONTROL_EPTP_SWITCHING)) {
      if (!ept || !pageAddressOk(v, base, w.EPTP_LIST_ADDRESS, hiBad)) return false;
    }
  }
  if (on(secondary, K.SECONDARY_VMCS_SHADOWING)) {
    if (!pageAddressOk(v, base, w.VMREAD_BITMAP_ADDRESS, hiBad)) return false;
    if (!pageAddressOk(v, base, w.VMWRITE_BITMAP_ADDRESS, hiBad)) return false;
  }
  if (on(secondary, K.SECONDARY_EPT_VIOLATION_VE) && !pageAddressOk(v, base, w.VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS, hiBad)) {
    return false;
  }
  return true;
}

/**
 * The EPTP checks: a memory type IA32_VMX_EPT_VPID_CAP supports (UC bit 8, WB bit 14), a 4-level
 * walk (or 5-level when bit 7 says so, as later editions allow), the accessed/dirty bit only with
 * bit 21, bit 7 (supervisor shadow stack) only with bit 23, bits 11:8 and 63:N clear.
 */
export function eptPointerOk(f: EntryFacts, lo: number, hi: number): boolean {
  const cap = f.eptCapLo;
  const memoryType = lo & 7;
  if (memoryType === K.EPT_UC) {
    if (!on(cap, K.EPT_VPID_CAP_MEMORY_TYPE_UC)) return false;
  } else if (memoryType !== K.EPT_WB || !on(cap, K.EPT_VPID_CAP_MEMORY_TYPE_WB)) {
    return false;
  }
  const walk = (lo >>> 3) & 7;
  if (walk !== K.WALK_4_LEVELS && !(walk === K.WALK_5_LEVELS && on(cap, K.EPT_VPID_CAP_PAGE_WALK_LENGTH_5))) return false;
  if ((lo & K.EPTP_ACCESSED_DIRTY) !== 0 && !on(cap, K.EPT_VPID_CAP_ACCESSED_DIRTY_FLAGS)) return false;
  if ((lo & K.EPTP_SUPERVISOR_SHADOW_STACK) !== 0 && !on(cap, K.EPT_VPID_CAP_SUPERVISOR_SHADOW_STACK)) return false;
  return (lo & K.EPTP_RESERVED_LOW) === 0 && (hi & f.physicalHiBad) === 0;
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-entry/execution-controls.ts', [
  [K.EPT_VPID_CAP_ACCESSED_DIRTY_FLAGS, EPT_VPID_CAP.ACCESSED_DIRTY_FLAGS],
  [K.EPT_VPID_CAP_MEMORY_TYPE_UC, EPT_VPID_CAP.MEMORY_TYPE_UC],
  [K.EPT_VPID_CAP_MEMORY_TYPE_WB, EPT_VPID_CAP.MEMORY_TYPE_WB],
  [K.EPT_VPID_CAP_PAGE_WALK_LENGTH_5, EPT_VPID_CAP.PAGE_WALK_LENGTH_5],
  [K.EPT_VPID_CAP_SUPERVISOR_SHADOW_STACK, EPT_VPID_CAP.SUPERVISOR_SHADOW_STACK],
  [K.EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT, EXIT.ACKNOWLEDGE_INTERRUPT_ON_EXIT],
  [K.PIN_EXTERNAL_INTERRUPT_EXITING, PIN.EXTERNAL_INTERRUPT_EXITING],
  [K.PIN_NMI_EXITING, PIN.NMI_EXITING],
  [K.PIN_PROCESS_POSTED_INTERRUPTS, PIN.PROCESS_POSTED_INTERRUPTS],
  [K.PIN_VIRTUAL_NMIS, PIN.VIRTUAL_NMIS],
  [K.PRIMARY_ACTIVATE_SECONDARY_CONTROLS, PRIMARY.ACTIVATE_SECONDARY_CONTROLS],
  [K.PRIMARY_ACTIVATE_TERTIARY_CONTROLS, PRIMARY.ACTIVATE_TERTIARY_CONTROLS],
  [K.PRIMARY_NMI_WINDOW_EXITING, PRIMARY.NMI_WINDOW_EXITING],
  [K.PRIMARY_USE_IO_BITMAPS, PRIMARY.USE_IO_BITMAPS],
  [K.PRIMARY_USE_MSR_BITMAPS, PRIMARY.USE_MSR_BITMAPS],
  [K.PRIMARY_USE_TPR_SHADOW, PRIMARY.USE_TPR_SHADOW],
  [K.SECONDARY_APIC_REGISTER_VIRTUALIZATION, SECONDARY.APIC_REGISTER_VIRTUALIZATION],
  [K.SECONDARY_ENABLE_EPT, SECONDARY.ENABLE_EPT],
  [K.SECONDARY_ENABLE_PML, SECONDARY.ENABLE_PML],
  [K.SECONDARY_ENABLE_VM_FUNCTIONS, SECONDARY.ENABLE_VM_FUNCTIONS],
  [K.SECONDARY_ENABLE_VPID, SECONDARY.ENABLE_VPID],
  [K.SECONDARY_EPT_VIOLATION_VE, SECONDARY.EPT_VIOLATION_VE],
  [K.SECONDARY_MODE_BASED_EXECUTE_CONTROL_FOR_EPT, SECONDARY.MODE_BASED_EXECUTE_CONTROL_FOR_EPT],
  [K.SECONDARY_SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT, SECONDARY.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT],
  [K.SECONDARY_UNRESTRICTED_GUEST, SECONDARY.UNRESTRICTED_GUEST],
  [K.SECONDARY_VIRTUALIZE_APIC_ACCESSES, SECONDARY.VIRTUALIZE_APIC_ACCESSES],
  [K.SECONDARY_VIRTUALIZE_X2APIC_MODE, SECONDARY.VIRTUALIZE_X2APIC_MODE],
  [K.SECONDARY_VIRTUAL_INTERRUPT_DELIVERY, SECONDARY.VIRTUAL_INTERRUPT_DELIVERY],
  [K.SECONDARY_VMCS_SHADOWING, SECONDARY.VMCS_SHADOWING],
  [K.VMFUNC_CONTROL_EPTP_SWITCHING, VMFUNC_CONTROL.EPTP_SWITCHING],
]);
