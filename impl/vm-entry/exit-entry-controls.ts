/**
 * Checks on the VM-exit and VM-entry control fields and on event injection: SDM Vol. 3C,
 * December 2023, §27.2.1.2 "VM-Exit Control Fields" and §27.2.1.3 "VM-Entry Control Fields", the
 * catalogue groups `exit-controls`, `entry-controls` and `event-injection`
 * (spec/entry-checks/), in the catalogue's order. A failure is VMfailValid(7).
 *
 * Trick: as in execution-controls.ts, one load per field and int32 mask tests; the vectors that
 * deliver an error code are one 32-bit mask indexed by the vector.
 */
import {
  ENTRY_CONTROL as ENTRY,
  EXIT_CONTROL as EXIT,
  PIN_CONTROL as PIN,
  PRIMARY_CONTROL as PRIMARY,
  SECONDARY_CONTROL as SECONDARY,
} from '../../spec/control-bits.ts';
import type { EntryFacts } from './facts.ts';
import { assertLiterals } from '../literals.ts';
import { areaEndBeyond, high, low, on } from './vmcs-words.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT = 11,
  ENTRY_ENTRY_TO_SMM = 10,
  EXIT_ACTIVATE_SECONDARY_CONTROLS = 31,
  EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE = 22,
  PIN_ACTIVATE_VMX_PREEMPTION_TIMER = 6,
  PRIMARY_ACTIVATE_SECONDARY_CONTROLS = 31,
  SECONDARY_UNRESTRICTED_GUEST = 7,
  /** An MSR area's address is 16-byte aligned (bits 3:0 clear). */
  MSR_AREA_OFFSET = 15,
  INFO_VALID = 31,
  INFO_DELIVER_ERROR_CODE = 11,
  /** Bits 30:12, reserved; bit 13 is FRED's "nested exception" on FRED processors. */
  INFO_RESERVED = 0x7ffff000,
  INFO_NESTED_EXCEPTION = 0x2000,
  TYPE_RESERVED = 1,
  TYPE_NMI = 2,
  TYPE_HARDWARE_EXCEPTION = 3,
  TYPE_SOFTWARE_INTERRUPT = 4,
  TYPE_SOFTWARE_EXCEPTION = 6,
  TYPE_OTHER_EVENT = 7,
  NMI_VECTOR = 2,
  LAST_EXCEPTION_VECTOR = 31,
  /** Other-event vectors under FRED: 0 (pending MTF VM exit), 1 (SYSCALL), 2 (SYSENTER). */
  OTHER_EVENT_MTF = 0,
  LAST_FRED_OTHER_EVENT = 2,
  /** #DF, #TS, #NP, #SS, #GP, #PF, #AC: the exceptions that deliver an error code. */
  ERROR_CODE_VECTORS = 0x27d00,
  /** Reserved bits of the VM-entry exception error code: 31:16 (impl/ choice, see impl/README.md). */
  ERROR_CODE_RESERVED = -0x10000,
  MAX_INSTRUCTION_LENGTH = 15,
  /** CR4.FRED is bit 32: bit 0 of the high half. */
  CR4_HI_FRED = 1,
}


/** A `count`-entry MSR area at (lo, hi): aligned, within the address width, last byte too. */
function msrAreaOk(count: number, lo: number, hi: number, hiBad: number): boolean {
  if (count === 0) return true;
  return (lo & K.MSR_AREA_OFFSET) === 0 && (hi & hiBad) === 0 && !areaEndBeyond(lo, hi, count, hiBad);
}

/** True when every check of the group `exit-controls` passes. */
export function exitControlsOk(f: EntryFacts, v: Int32Array, base: number): boolean {
  const w = f.words;
  const exit = (v[base + w.PRIMARY_VM_EXIT_CONTROLS] as number);
  if ((exit & f.exitMust) !== f.exitMust || (exit & ~f.exitMay) !== 0) return false;
  if (
    on(exit, K.EXIT_ACTIVATE_SECONDARY_CONTROLS) &&
    ((low(v, base, w.SECONDARY_VM_EXIT_CONTROLS) & ~f.secondaryExitMayLo) !== 0 ||
      (high(v, base, w.SECONDARY_VM_EXIT_CONTROLS) & ~f.secondaryExitMayHi) !== 0)
  ) {
    return false;
  }
  if (
    on(exit, K.EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE) &&
    !on((v[base + w.PIN_BASED_CONTROLS] as number), K.PIN_ACTIVATE_VMX_PREEMPTION_TIMER)
  ) {
    return false;
  }
  const store = w.VM_EXIT_MSR_STORE_ADDRESS;
  if (!msrAreaOk((v[base + w.VM_EXIT_MSR_STORE_COUNT] as number), low(v, base, store), high(v, base, store), f.addressHiBad)) return false;
  const load = w.VM_EXIT_MSR_LOAD_ADDRESS;
  return msrAreaOk((v[base + w.VM_EXIT_MSR_LOAD_COUNT] as number), low(v, base, load), high(v, base, load), f.addressHiBad);
}

/**
 * True when every check of the group `entry-controls` passes. The logical processor is never in
 * SMM here, so "entry to SMM" and "deactivate dual-monitor treatment" must both be 0 (which also
 * keeps them from being 1 together).
 */
export function entryControlsOk(f: EntryFacts, v: Int32Array, base: number): boolean {
  const w = f.words;
  const entry = (v[base + w.VM_ENTRY_CONTROLS] as number);
  if ((entry & f.entryMust) !== f.entryMust || (entry & ~f.entryMay) !== 0) return false;
  const load = w.VM_ENTRY_MSR_LOAD_ADDRESS;
  if (!msrAreaOk((v[base + w.VM_ENTRY_MSR_LOAD_COUNT] as number), low(v, base, load), high(v, base, load), f.addressHiBad)) return false;
  return !on(entry, K.ENTRY_ENTRY_TO_SMM) && !on(entry, K.ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT);
}

// Fields of the VM-entry interruption-information field (§25.8.3 "VM-Entry Controls for Event Injection").

/** True when every check of the group `event-injection` passes (nothing applies unless valid). */
export function eventInjectionOk(f: EntryFacts, v: Int32Array, base: number): boolean {
  const w = f.words;
  const info = (v[base + w.VM_ENTRY_INTERRUPTION_INFORMATION] as number);
  if (!on(info, K.INFO_VALID)) return true;
  const type = (info >>> 8) & 7;
  const vector = info & 0xff;
  const deliver = on(info, K.INFO_DELIVER_ERROR_CODE);
  const fredGuest = f.fredSupported && ((v[base + w.GUEST_CR4 + 1] as number) & K.CR4_HI_FRED) !== 0;
  if (type === K.TYPE_RESERVED) return false;
  if (type === K.TYPE_OTHER_EVENT && !f.mtfSupported) return false;
  if (type === K.TYPE_NMI && vector !== K.NMI_VECTOR) return false;
  if (type === K.TYPE_HARDWARE_EXCEPTION && vector > K.LAST_EXCEPTION_VECTOR) return false;
  if (type === K.TYPE_OTHER_EVENT && (fredGuest ? vector > K.LAST_FRED_OTHER_EVENT : vector !== K.OTHER_EVENT_MTF)) return false;
  if (deliver && type !== K.TYPE_HARDWARE_EXCEPTION) return false;
  const primary = (v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number);
  const secondary = on(primary, K.PRIMARY_ACTIVATE_SECONDARY_CONTROLS) ? low(v, base, w.SECONDARY_PROCESSOR_BASED_CONTROLS) : 0;
  const protectedGuest = !on(secondary, K.SECONDARY_UNRESTRICTED_GUEST) || ((v[base + w.GUEST_CR0] as number) & 1) === 1;
  if (deliver && !protectedGuest) return false;
  if (!f.errorCodeRelaxed && type === K.TYPE_HARDWARE_EXCEPTION) {
    // The vector is at most 31 here (checked above), so it indexes the 32-bit mask directly.
    const errorCodeVector = on(K.ERROR_CODE_VECTORS, vector);
    if (errorCodeVector && protectedGuest && !deliver) return false;
    if (!errorCodeVector && deliver) return false;
  }
  const reserved = f.fredSupported ? K.INFO_RESERVED & ~K.INFO_NESTED_EXCEPTION : K.INFO_RESERVED;
  if ((info & reserved) !== 0) return false;
  if (f.fredSupported && (info & K.INFO_NESTED_EXCEPTION) !== 0 && type !== K.TYPE_HARDWARE_EXCEPTION) return false;
  if (deliver && ((v[base + w.VM_ENTRY_EXCEPTION_ERROR_CODE] as number) & K.ERROR_CODE_RESERVED) !== 0) return false;
  const length = (v[base + w.VM_ENTRY_INSTRUCTION_LENGTH] as number) >>> 0;
  if (type >= K.TYPE_SOFTWARE_INTERRUPT && type <= K.TYPE_SOFTWARE_EXCEPTION) {
    if (length > K.MAX_INSTRUCTION_LENGTH || (length === 0 && !f.zeroLengthInjection)) return false;
  }
  if (fredGuest && type === K.TYPE_OTHER_EVENT && vector !== K.OTHER_EVENT_MTF && length > K.MAX_INSTRUCTION_LENGTH) return false;
  return true;
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-entry/exit-entry-controls.ts', [
  [K.ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT, ENTRY.DEACTIVATE_DUAL_MONITOR_TREATMENT],
  [K.ENTRY_ENTRY_TO_SMM, ENTRY.ENTRY_TO_SMM],
  [K.EXIT_ACTIVATE_SECONDARY_CONTROLS, EXIT.ACTIVATE_SECONDARY_CONTROLS],
  [K.EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE, EXIT.SAVE_VMX_PREEMPTION_TIMER_VALUE],
  [K.PIN_ACTIVATE_VMX_PREEMPTION_TIMER, PIN.ACTIVATE_VMX_PREEMPTION_TIMER],
  [K.PRIMARY_ACTIVATE_SECONDARY_CONTROLS, PRIMARY.ACTIVATE_SECONDARY_CONTROLS],
  [K.SECONDARY_UNRESTRICTED_GUEST, SECONDARY.UNRESTRICTED_GUEST],
]);
