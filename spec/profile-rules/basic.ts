/**
 * Profile rules: IA32_VMX_BASIC.
 *
 * Source: SDM Vol. 3D, December 2023, Appendix A.1 "Basic VMX Information".
 */
import { usesTrueControls } from '../allowed-settings.ts';
import { VMX_BASIC, VMX_BASIC_RESERVED_MASK, describeMsr } from '../capability-msrs.ts';
import { TRUE_MSRS, bitOf, describeBits, them } from './values.ts';
import type { Values } from './values.ts';

/** Bit 31 of IA32_VMX_BASIC is always 0 (the revision identifier is bits 30:0). */
export function checkRevisionIdBit31(v: Values): string[] {
  if (!bitOf(v.IA32_VMX_BASIC, 31)) return [];
  return [
    `${describeMsr('IA32_VMX_BASIC')}: bit 31 is 1 but always reads 0 (the VMCS revision identifier ` +
      'is bits 30:0); clear bit 31',
  ];
}

/** Bits 44:32 give the region size, greater than 0 and at most 4096. */
export function checkRegionSize(v: Values): string[] {
  const size = Number((v.IA32_VMX_BASIC >> 32n) & 0x1fffn);
  if (size >= 1 && size <= 4096) return [];
  return [
    `${describeMsr('IA32_VMX_BASIC')}: bits 44:32 (VMXON/VMCS region size) are ${size}; ` +
      'set them to a byte count from 1 to 4096',
  ];
}

/** Bits 47:45 and 63:57 are reserved (read as 0). */
export function checkBasicReservedBits(v: Values): string[] {
  const set = v.IA32_VMX_BASIC & VMX_BASIC_RESERVED_MASK;
  if (set === 0n) return [];
  return [`${describeMsr('IA32_VMX_BASIC')}: reserved ${describeBits(set)} set; clear ${them(set)} (47:45 and 63:57 read as 0)`];
}

/** Bit 48 is always 0 on processors that support Intel 64, as every profile here does. */
export function checkAddressWidthBit(v: Values): string[] {
  if (!bitOf(v.IA32_VMX_BASIC, VMX_BASIC.ADDRESSES_32_BIT)) return [];
  return [
    `${describeMsr('IA32_VMX_BASIC')}: bit 48 (32-bit VMX addresses) is 1, but it is always 0 on ` +
      'Intel 64 processors, which every profile here describes; clear bit 48',
  ];
}

/** Bits 53:50: the memory type is UC (0) or WB (6); other values are not used. */
export function checkMemoryType(v: Values): string[] {
  const type = Number((v.IA32_VMX_BASIC >> BigInt(VMX_BASIC.MEMORY_TYPE)) & 0xfn);
  if (type === 0 || type === 6) return [];
  return [
    `${describeMsr('IA32_VMX_BASIC')}: bits 53:50 (VMCS memory type) are ${type}; ` +
      'use 0 (uncacheable) or 6 (write-back)',
  ];
}

/** The TRUE control MSRs exist iff IA32_VMX_BASIC[55] = 1. */
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
