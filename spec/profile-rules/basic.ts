/**
 * Profile rules: IA32_VMX_BASIC.
 *
 * Source: SDM Vol. 3D, December 2023, Appendix A.1 "Basic VMX Information". Each rule says
 * whether it is a **problem** (the profile is refused) or a **warning** (the profile is accepted
 * and the message printed); spec/profile-validation.ts explains the split.
 */
import { usesTrueControls } from '../allowed-settings.ts';
import { VMX_BASIC, VMX_BASIC_RESERVED_MASK, describeMsr } from '../capability-msrs.ts';
import { TRUE_MSRS, bitOf, describeBits } from './values.ts';
import type { Values } from './values.ts';

/**
 * Warning. A.1: bit 31 is always 0 (the revision identifier is bits 30:0). A 1 there changes
 * nothing the model reads (it uses bits 30:0), so the profile stays usable.
 */
export function checkRevisionIdBit31(v: Values): string[] {
  if (!bitOf(v.IA32_VMX_BASIC, 31)) return [];
  return [
    `${describeMsr('IA32_VMX_BASIC')}: bit 31 is 1, but the SDM says it always reads 0; the VMCS revision ` +
      'identifier is taken from bits 30:0 only',
  ];
}

/**
 * Problem. A.1: bits 44:32 give the size of the VMXON and VMCS regions, above 0 and at
 * most 4096 (bit 44 set iff bits 43:32 are clear). Any other value leaves no region to lay out.
 */
export function checkRegionSize(v: Values): string[] {
  const size = Number((v.IA32_VMX_BASIC >> 32n) & 0x1fffn);
  if (size >= 1 && size <= 4096) return [];
  return [
    `${describeMsr('IA32_VMX_BASIC')}: bits 44:32 (VMXON/VMCS region size) are ${size}; ` +
      'set them to a byte count from 1 to 4096',
  ];
}

/**
 * What later documents give the reserved bits of IA32_VMX_BASIC that real parts set. Bit 56 is
 * not here: the December 2023 edition defines it (VM entry may deliver a hardware exception with
 * or without an error code). Bit 58 is defined by Intel's FRED specification and later SDM
 * editions ("VMX nested-exception support", the nested-exception bit of the event-injection and
 * IDT-vectoring fields; Linux names it VMX_BASIC_NESTED_EXCEPTION). Bit 57 is set by 12th
 * generation and later parts and named by no document this project could find.
 */
const BASIC_LATER_MEANINGS: Readonly<Record<number, string>> = {
  57: 'bit 57 (12th-generation and later parts set it; no document this project found gives its meaning)',
  58: 'bit 58 (VMX nested-exception support, a FRED feature defined after the December 2023 edition; not modelled)',
  60: 'bit 60 (defined after the December 2023 edition for TDX: SEAMRET leaves the current VMCS valid; not modelled)',
};

/**
 * Warning. A.1: bits 47:45 and 63:57 are reserved and read as 0 in the December 2023 edition.
 * Real parts set some of them (57 and 58 from the 12th generation on); later editions give some a
 * meaning. Nothing this project models depends on them, so the profile stays usable.
 */
export function checkBasicReservedBits(v: Values): string[] {
  const set = v.IA32_VMX_BASIC & VMX_BASIC_RESERVED_MASK;
  if (set === 0n) return [];
  const bits: string[] = [];
  for (let bit = 45; bit < 64; bit++) {
    if (bitOf(set, bit)) bits.push(BASIC_LATER_MEANINGS[bit] ?? `bit ${bit}`);
  }
  const one = (set & (set - 1n)) === 0n;
  return [
    `${describeMsr('IA32_VMX_BASIC')}: ${bits.join(', ')} ${one ? 'is' : 'are'} 1, reserved (read as 0) in the ` +
      'December 2023 SDM; ignored, nothing this project models depends on them',
  ];
}

/**
 * Warning. A.1: bit 48 is 1 only on processors without Intel 64 (VMX addresses limited to 32
 * bits), and always 0 on Intel 64 processors. The model honours it (pointers limited to 32 bits),
 * but the suite's initial state (64-bit mode, spec/initial-state.ts) is one such a processor
 * cannot be in.
 */
export function checkAddressWidthBit(v: Values): string[] {
  if (!bitOf(v.IA32_VMX_BASIC, VMX_BASIC.ADDRESSES_32_BIT)) return [];
  return [
    `${describeMsr('IA32_VMX_BASIC')}: bit 48 (32-bit VMX addresses) is 1, which the SDM reserves for processors ` +
      'without Intel 64; VMX pointers are limited to 32 bits, but the suite still starts every processor in 64-bit mode',
  ];
}

/**
 * Warning. A.1: bits 53:50 give the memory type of the VMCS and referenced structures; 0 (UC)
 * and 6 (WB) are used, the other values are not. The model does not model memory
 * types, so another value changes nothing it decides.
 */
export function checkMemoryType(v: Values): string[] {
  const type = Number((v.IA32_VMX_BASIC >> BigInt(VMX_BASIC.MEMORY_TYPE)) & 0xfn);
  if (type === 0 || type === 6) return [];
  return [
    `${describeMsr('IA32_VMX_BASIC')}: bits 53:50 (VMCS memory type) are ${type}, a value the SDM does not use ` +
      '(0 uncacheable, 6 write-back); memory types are not modelled, so it is ignored',
  ];
}

/**
 * Problem. A.1 bit 55 and A.3.1-A.5: the TRUE control MSRs exist iff IA32_VMX_BASIC[55] = 1. A
 * missing one leaves the allowed settings unknown; one given without bit 55 contradicts it.
 */
export function checkTrueMsrsPresence(v: Values): string[] {
  const expected = usesTrueControls(v.IA32_VMX_BASIC);
  const problems: string[] = [];
  for (const name of TRUE_MSRS) {
    const present = v[name] !== undefined;
    if (present && !expected) {
      problems.push(
        `${describeMsr(name)} is given but ${describeMsr('IA32_VMX_BASIC')} bit 55 is 0, so it does not ` +
          'exist; remove it or set bit 55',
      );
    } else if (!present && expected) {
      problems.push(
        `${describeMsr(name)} is missing but ${describeMsr('IA32_VMX_BASIC')} bit 55 is 1, so it exists; ` +
          'give its value or clear bit 55',
      );
    }
  }
  return problems;
}
