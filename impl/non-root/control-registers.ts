/**
 * MOV to and from CR0, CR3, CR4 and CR8, CLTS and LMSW, in and out of VMX non-root operation.
 *
 * Outside it: SDM Vol. 2B, December 2023, "MOV—Move to/from Control Registers", "CLTS—Clear
 * Task-Switched Flag in CR0", "LMSW—Load Machine Status Word" (#GP(0) in virtual-8086 mode and at
 * CPL > 0; #UD for CR8 outside 64-bit mode; #GP(0) for reserved bits of CR3 and CR8), with MOV to
 * CR0/CR4 in impl/mov-cr.ts.
 *
 * In VMX non-root operation (Vol. 3C): the privilege-based #GP first (§26.1.1 "Relative Priority
 * of Faults and VM Exits"), then the VM exit (exit reason 28, §26.1.3 "Instructions That Cause VM
 * Exits Conditionally": CR0/CR4 guest/host masks against the read shadows, CR3-load exiting with the
 * CR3-target values, CR3-store exiting, CR8-load/store exiting, CLTS and LMSW against the CR0 mask
 * and shadow), with the exit qualification of §28.2.1 (Table 28-3). Without an exit (§26.3
 * "Changes to Instruction Behavior in VMX Non-Root Operation"): reads of CR0/CR4 take the bits the
 * mask owns from the read shadow; writes leave those bits unmodified and check the VMX fixed bits
 * only for the others (PE and PG exempt under "unrestricted guest"); CLTS and LMSW leave owned bits
 * alone; MOV CR8 with "use TPR shadow" reads and writes VTPR (byte 80H of the virtual-APIC page)
 * and a write may cause a TPR-below-threshold VM exit (reason 43) after it completes (§30.3
 * "Virtualizing MOV to CR8", §30.1.2 "TPR Virtualization"). A guest MOV to CR3 that loads PAE
 * PDPTEs with "enable EPT" = 1 (a guest-physical address translated through EPT) is unimplemented.
 */
import { CR0_BIT, CR4_BIT } from '../../spec/control-registers.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { S_CR0_LO, S_CR3_HI, S_CR3_LO, S_CR4_LO, S_CR8, S_IN_VMX, S_LMA, S_LME, S_WIDE } from '../cpu-row.ts';
import { movToCr0, movToCr4, pdptesBad } from '../mov-cr.ts';
import {
  CR_ACCESS_CLTS,
  CR_ACCESS_LMSW,
  CR_ACCESS_MOV_FROM,
  CR_ACCESS_MOV_TO,
  CR_ACCESS_TYPE_SHIFT,
  CR_GPR_SHIFT,
  CR_LMSW_DATA_SHIFT,
  CR_LMSW_MEMORY,
} from './bits.ts';
import type { GuestContext } from './context.ts';
import { EXIT_INFO_INSTRUCTION_LENGTH, EXIT_INFO_LINEAR_ADDRESS } from '../vm-exit/exit-info.ts';
import { CLTS_LENGTH, LMSW_LENGTH, MOV_CR8_LENGTH, MOV_CR_LENGTH, rex } from './lengths.ts';

const PE = 1 << CR0_BIT.PE;
const TS = 1 << CR0_BIT.TS;
const PG = 1 << CR0_BIT.PG;
/** The four CR0 bits LMSW loads: PE, MP, EM, TS. */
const MACHINE_STATUS_WORD = 0xf;
const PAE = 1 << CR4_BIT.PAE;
const PCIDE = 1 << CR4_BIT.PCIDE;
/** CR3 bit 63 with CR4.PCIDE = 1: "do not invalidate", not stored. */
const CR3_NO_FLUSH_HI = 1 << 31;
/** Bits 63:4 of CR8 are reserved. */
const CR8_RESERVED_LO = ~0xf;
/** VTPR: byte 80H of the virtual-APIC page; MOV CR8 uses its bits 7:4. */
const VTPR_OFFSET = 0x80;

/** The exit qualification of a control-register access. */
function qualification(cr: number, access: number, gpr: number): number {
  return cr | (access << CR_ACCESS_TYPE_SHIFT) | (gpr << CR_GPR_SHIFT);
}

/** MOV CRn, r in VMX non-root operation: (value XOR shadow) AND mask is not 0 in either half. */
function ownedBitsDiffer(g: GuestContext, b: number, maskWord: number, shadowWord: number, lo: number, hi: number): boolean {
  return ((lo ^ g.low(b, shadowWord)) & g.low(b, maskWord)) !== 0 || ((hi ^ g.high(b, shadowWord)) & g.high(b, maskWord)) !== 0;
}

/** MOV to CR0 (cr 0) or CR4 (cr 4) from register `gpr` holding (lo, hi). */
export function movToCr(g: GuestContext, b: number, cr: 0 | 4, lo: number, hi: number, gpr: number): number {
  const s = g.s;
  const wide = s[b + S_WIDE] as number;
  const length = MOV_CR_LENGTH + rex(gpr, wide);
  if (!g.nonRoot(b)) {
    const status = cr === 0 ? movToCr0(s, b, g.memory, g.facts, lo, hi) : movToCr4(s, b, g.memory, g.facts, lo, hi);
    if (status === 0 && cr === 0) g.hooks.refresh(b);
    return status;
  }
  if (g.privileged(b)) return g.gp(b);
  const w = g.words;
  const maskWord = cr === 0 ? w.CR0_GUEST_HOST_MASK : w.CR4_GUEST_HOST_MASK;
  const shadowWord = cr === 0 ? w.CR0_READ_SHADOW : w.CR4_READ_SHADOW;
  const sourceHi = wide === 1 ? hi : 0;
  if (ownedBitsDiffer(g, b, maskWord, shadowWord, lo, sourceHi)) {
    return g.instructionExit(b, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification(cr, CR_ACCESS_MOV_TO, wide === 1 ? gpr : gpr & 7), 0, length);
  }
  const maskLo = g.low(b, maskWord);
  const maskHi = g.high(b, maskWord);
  const at = cr === 0 ? S_CR0_LO : S_CR4_LO;
  const valueLo = (lo & ~maskLo) | ((s[b + at] as number) & maskLo);
  const valueHi = (sourceHi & ~maskHi) | ((s[b + at + 1] as number) & maskHi);
  let status: number;
  if (cr === 0) {
    const unrestricted = g.secondary(b, SECONDARY_CONTROL.UNRESTRICTED_GUEST) ? PE | PG : 0;
    status = movToCr0(s, b, g.memory, g.facts, valueLo, valueHi, maskLo | unrestricted);
  } else {
    status = movToCr4(s, b, g.memory, g.facts, valueLo, valueHi, maskLo, maskHi);
  }
  if (status !== 0) return g.gp(b);
  if (cr === 0) g.hooks.refresh(b);
  return g.complete(b, length);
}

/** MOV to CR3 from register `gpr` holding (lo, hi). */
export function movToCr3(g: GuestContext, cpu: number, lo: number, hi: number, gpr: number): number {
  const b = g.hooks.instruction(cpu);
  const s = g.s;
  const wide = s[b + S_WIDE] as number;
  const sourceHi = wide === 1 ? hi | 0 : 0;
  lo |= 0;
  if (g.privileged(b)) return g.gp(b);
  const nonRoot = g.nonRoot(b);
  if (nonRoot && g.primary(b, PRIMARY_CONTROL.CR3_LOAD_EXITING) && !cr3Target(g, b, lo, sourceHi)) {
    return g.instructionExit(b, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification(3, CR_ACCESS_MOV_TO, wide === 1 ? gpr : gpr & 7), 0, MOV_CR_LENGTH + rex(gpr, wide));
  }
  const cr4 = s[b + S_CR4_LO] as number;
  const noFlush = (cr4 & PCIDE) !== 0 ? CR3_NO_FLUSH_HI : 0;
  if ((sourceHi & ~noFlush & g.facts.physicalHiBad) !== 0) return g.gp(b);
  // PAE paging by Vol. 3A §4.1.1 "Four Paging Modes": CR0.PG = 1, CR4.PAE = 1, IA32_EFER.LME = 0 (as impl/mov-cr.ts).
  const paePaging = ((s[b + S_CR0_LO] as number) & PG) !== 0 && (cr4 & PAE) !== 0 && s[b + S_LME] === 0;
  if (paePaging) {
    if (nonRoot && g.secondary(b, SECONDARY_CONTROL.ENABLE_EPT)) {
      return g.unimplemented('guest MOV to CR3 loading PAE PDPTEs through EPT (guest-physical address translation)');
    }
    if (pdptesBad(g.memory, lo, g.facts.physicalHiBad)) return g.gp(b);
  }
  s[b + S_CR3_LO] = lo;
  s[b + S_CR3_HI] = sourceHi & ~noFlush;
  return g.complete(b, MOV_CR_LENGTH + rex(gpr, wide));
}

/** The value equals one of the first CR3-target-count CR3-target values (at most 4: VM entry checks the count). */
function cr3Target(g: GuestContext, b: number, lo: number, hi: number): boolean {
  const w = g.words;
  const count = g.low(b, w.CR3_TARGET_COUNT);
  return (
    (count > 0 && equals(g, b, w.CR3_TARGET_VALUE_0, lo, hi)) ||
    (count > 1 && equals(g, b, w.CR3_TARGET_VALUE_1, lo, hi)) ||
    (count > 2 && equals(g, b, w.CR3_TARGET_VALUE_2, lo, hi)) ||
    (count > 3 && equals(g, b, w.CR3_TARGET_VALUE_3, lo, hi))
  );
}

function equals(g: GuestContext, b: number, word: number, lo: number, hi: number): boolean {
  return g.low(b, word) === lo && g.high(b, word) === hi;
}

/** Bits 31:0 of the physical address of VTPR in the current VMCS's virtual-APIC page. */
function vtprLo(g: GuestContext, b: number): number {
  return (g.low(b, g.words.VIRTUAL_APIC_ADDRESS) & ~0xfff) + VTPR_OFFSET;
}

/** MOV to CR8 from register `gpr` holding (lo, hi). */
export function movToCr8(g: GuestContext, cpu: number, lo: number, hi: number, gpr: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.s[b + S_WIDE] !== 1) return g.ud(b);
  if (g.privileged(b)) return g.gp(b);
  const nonRoot = g.nonRoot(b);
  if (nonRoot && g.primary(b, PRIMARY_CONTROL.CR8_LOAD_EXITING)) {
    return g.instructionExit(b, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification(8, CR_ACCESS_MOV_TO, gpr), 0, MOV_CR8_LENGTH);
  }
  if ((lo & CR8_RESERVED_LO) !== 0 || hi !== 0) return g.gp(b);
  if (nonRoot && g.primary(b, PRIMARY_CONTROL.USE_TPR_SHADOW)) {
    // Bits 3:0 of the source go to VTPR[7:4]; the rest of VTPR is cleared.
    g.memory.write32(vtprLo(g, b), g.high(b, g.words.VIRTUAL_APIC_ADDRESS), (lo & 0xf) << 4);
    g.complete(b, MOV_CR8_LENGTH);
    // TPR virtualization without virtual-interrupt delivery: a trap-like VM exit when VTPR[7:4]
    // drops below TPR threshold[3:0] (guest RIP already past the instruction).
    if (!g.secondary(b, SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY) && (lo & 0xf) < (g.low(b, g.words.TPR_THRESHOLD) & 0xf)) {
      g.beginExit(0, 0, 0);
      return g.hooks.vmExit(b, EXIT_REASON.TPR_BELOW_THRESHOLD);
    }
    return 0;
  }
  g.s[b + S_CR8] = lo & 0xf;
  return g.complete(b, MOV_CR8_LENGTH);
}

/**
 * MOV r, CRn (cr 0, 3, 4 or 8) into register `gpr`: the value read is left in `g.value` (32 bits
 * outside 64-bit mode).
 */
export function movFromCr(g: GuestContext, cpu: number, cr: number, gpr: number): number {
  const b = g.hooks.instruction(cpu);
  const s = g.s;
  const wide = s[b + S_WIDE] as number;
  if (cr === 8 && wide !== 1) return g.ud(b);
  if (g.privileged(b)) return g.gp(b);
  const nonRoot = g.nonRoot(b);
  const length = cr === 8 ? MOV_CR8_LENGTH : MOV_CR_LENGTH + rex(gpr, wide);
  const w = g.words;
  let lo: number;
  let hi: number;
  if (cr === 3) {
    if (nonRoot && g.primary(b, PRIMARY_CONTROL.CR3_STORE_EXITING)) {
      return g.instructionExit(b, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification(3, CR_ACCESS_MOV_FROM, wide === 1 ? gpr : gpr & 7), 0, length);
    }
    lo = s[b + S_CR3_LO] as number;
    hi = s[b + S_CR3_HI] as number;
  } else if (cr === 8) {
    if (nonRoot && g.primary(b, PRIMARY_CONTROL.CR8_STORE_EXITING)) {
      return g.instructionExit(b, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification(8, CR_ACCESS_MOV_FROM, gpr), 0, length);
    }
    if (nonRoot && g.primary(b, PRIMARY_CONTROL.USE_TPR_SHADOW)) {
      lo = (g.memory.read32(vtprLo(g, b), g.high(b, w.VIRTUAL_APIC_ADDRESS)) >>> 4) & 0xf;
    } else {
      lo = s[b + S_CR8] as number;
    }
    hi = 0;
  } else {
    const at = cr === 0 ? S_CR0_LO : S_CR4_LO;
    lo = s[b + at] as number;
    hi = s[b + at + 1] as number;
    if (nonRoot) {
      const maskWord = cr === 0 ? w.CR0_GUEST_HOST_MASK : w.CR4_GUEST_HOST_MASK;
      const shadowWord = cr === 0 ? w.CR0_READ_SHADOW : w.CR4_READ_SHADOW;
      const maskLo = g.low(b, maskWord);
      const maskHi = g.high(b, maskWord);
      lo = (lo & ~maskLo) | (g.low(b, shadowWord) & maskLo);
      hi = (hi & ~maskHi) | (g.high(b, shadowWord) & maskHi);
    }
  }
  g.value[0] = lo;
  g.value[1] = wide === 1 ? hi : 0;
  return g.complete(b, length);
}

/** CLTS: clears CR0.TS. */
export function clts(g: GuestContext, cpu: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.privileged(b)) return g.gp(b);
  if (g.nonRoot(b) && (g.low(b, g.words.CR0_GUEST_HOST_MASK) & TS) !== 0) {
    if ((g.low(b, g.words.CR0_READ_SHADOW) & TS) !== 0) {
      return g.instructionExit(b, EXIT_REASON.CONTROL_REGISTER_ACCESS, qualification(0, CR_ACCESS_CLTS, 0), 0, CLTS_LENGTH);
    }
    return g.complete(b, CLTS_LENGTH);
  }
  g.s[b + S_CR0_LO] = (g.s[b + S_CR0_LO] as number) & ~TS;
  return g.complete(b, CLTS_LENGTH);
}

/**
 * LMSW: loads CR0[3:0] from the low 4 bits of `value` (register form: AX; memory form: the word at
 * linear address `addressLo/Hi`), never clearing PE.
 */
export function lmsw(g: GuestContext, cpu: number, value: number, memory: boolean, addressLo: number, addressHi: number): number {
  const b = g.hooks.instruction(cpu);
  if (g.privileged(b)) return g.gp(b);
  const s = g.s;
  const source = value & MACHINE_STATUS_WORD;
  let owned = 0;
  if (g.nonRoot(b)) {
    owned = g.low(b, g.words.CR0_GUEST_HOST_MASK) & MACHINE_STATUS_WORD;
    const shadow = g.low(b, g.words.CR0_READ_SHADOW);
    // PE exits only when being set against a clear shadow bit; MP, EM, TS whenever they differ.
    const differs = ((source ^ shadow) & owned & ~PE) !== 0 || (owned & source & ~shadow & PE) !== 0;
    if (differs) {
      const q = qualification(0, CR_ACCESS_LMSW, 0) | (memory ? CR_LMSW_MEMORY : 0) | ((value & 0xffff) << CR_LMSW_DATA_SHIFT);
      const info = g.beginExit(q, 0, LMSW_LENGTH);
      info.defined |= EXIT_INFO_INSTRUCTION_LENGTH;
      if (memory) {
        info.defined |= EXIT_INFO_LINEAR_ADDRESS;
        info.linearLo = addressLo;
        info.linearHi = s[b + S_WIDE] === 1 ? addressHi : 0;
      }
      return g.hooks.vmExit(b, EXIT_REASON.CONTROL_REGISTER_ACCESS);
    }
  }
  const old = s[b + S_CR0_LO] as number;
  const loaded = (source | (old & PE)) & ~owned;
  const cr0 = (old & ~(MACHINE_STATUS_WORD & ~owned)) | loaded;
  if (s[b + S_IN_VMX] !== 0) {
    // VMX operation: the loaded bits must keep the fixed-bit rules (PE, PG exempt under "unrestricted guest").
    const exempt = owned | (g.nonRoot(b) && g.secondary(b, SECONDARY_CONTROL.UNRESTRICTED_GUEST) ? PE : 0);
    const mustBeOne = g.facts.cr0Fixed0[0] & MACHINE_STATUS_WORD & ~exempt;
    if ((cr0 & mustBeOne) !== mustBeOne || (cr0 & MACHINE_STATUS_WORD & ~exempt & ~g.facts.cr0Fixed1[0]) !== 0) return g.gp(b);
  }
  s[b + S_CR0_LO] = cr0;
  if (((cr0 ^ old) & PE) !== 0) g.hooks.refresh(b);
  return g.complete(b, LMSW_LENGTH);
}
