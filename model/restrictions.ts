/**
 * The CR0 and CR4 restrictions of VMX operation, SDM Vol. 3C (December 2023) §24.8 "Restrictions
 * on VMX Operation": in VMX operation, bits set in IA32_VMX_CRn_FIXED0 must be 1 and bits clear in
 * IA32_VMX_CRn_FIXED1 must be 0 (Vol. 3D Appendix A.7 "VMX-Fixed Bits in CR0", A.8 "VMX-Fixed
 * Bits in CR4"). VMXON fails with #GP(0) when CR0 or CR4 breaks them; in VMX operation MOV to CR0
 * or CR4 that would break them causes #GP(0).
 */
import type { Profile } from '../spec/profile.ts';

/** True when `cr0` has every bit VMX operation fixes to 1 and no bit it fixes to 0. */
export function cr0AllowedInVmx(profile: Profile, cr0: bigint): boolean {
  return (cr0 & profile.cr0Fixed0) === profile.cr0Fixed0 && (cr0 & ~profile.cr0Fixed1) === 0n;
}

/** True when `cr4` has every bit VMX operation fixes to 1 and no bit it fixes to 0. */
export function cr4AllowedInVmx(profile: Profile, cr4: bigint): boolean {
  return (cr4 & profile.cr4Fixed0) === profile.cr4Fixed0 && (cr4 & ~profile.cr4Fixed1) === 0n;
}
