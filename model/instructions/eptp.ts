/**
 * Whether a value would be a valid EPT pointer: the EPTP checks a VM entry with "enable EPT" = 1
 * makes (SDM Vol. 3C, December 2023, §27.2.1.1 "VM-Execution Control Fields", against
 * IA32_VMX_EPT_VPID_CAP, Vol. 3D Appendix A.10 "VPID and EPT Capabilities"). Two instructions
 * judge a value by them: single-context INVEPT (its descriptor's EPTP, invept.ts) and EPTP
 * switching (VMFUNC with EAX = 0, the tentative EPTP read from the EPTP list, vmfunc.ts).
 *
 * The checks, in the order of that list (the December 2023 list; see vm-entry/checks/
 * execution-controls.ts for the same checks on the EPTP field):
 * - bits 2:0: UC (0) with capability bit 8, or WB (6) with capability bit 14;
 * - bits 5:3: 3 (4-level walk) with capability bit 6, or 4 (5-level walk) with capability bit 7;
 * - bit 6 (accessed and dirty flags) only with capability bit 21;
 * - bit 7 (supervisor shadow-stack control) only with capability bit 23;
 * - bits 11:8 reserved (0);
 * - no bit set at or beyond the physical-address width.
 */
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { EPT_MEMORY_TYPE, EPT_WALK_LENGTH_MINUS_1 } from '../../spec/control-field-formats.ts';
import type { Profile } from '../../spec/profile.ts';
import { bitOf } from '../non-root.ts';
import { eptpParts } from '../vm-entry/derived.ts';

/** The EPTP check a value fails first. */
export type EptpFailure = 'memory-type' | 'walk-length' | 'accessed-dirty' | 'supervisor-shadow-stack' | 'reserved-bits' | 'address-width';

/** The first EPTP check `eptp` fails on a processor described by `profile`, or `undefined` when it is valid. */
export function eptpFailure(profile: Profile, eptp: bigint): EptpFailure | undefined {
  const cap = profile.eptVpidCap;
  const parts = eptpParts(eptp);
  const uc = parts.memoryType === EPT_MEMORY_TYPE.UC && bitOf(cap, EPT_VPID_CAP.MEMORY_TYPE_UC);
  const wb = parts.memoryType === EPT_MEMORY_TYPE.WB && bitOf(cap, EPT_VPID_CAP.MEMORY_TYPE_WB);
  if (!uc && !wb) return 'memory-type';
  const fourLevel = parts.walkLengthMinus1 === EPT_WALK_LENGTH_MINUS_1.FOUR_LEVEL && bitOf(cap, EPT_VPID_CAP.PAGE_WALK_LENGTH_4);
  const fiveLevel = parts.walkLengthMinus1 === EPT_WALK_LENGTH_MINUS_1.FIVE_LEVEL && bitOf(cap, EPT_VPID_CAP.PAGE_WALK_LENGTH_5);
  if (!fourLevel && !fiveLevel) return 'walk-length';
  if (parts.accessedDirty && !bitOf(cap, EPT_VPID_CAP.ACCESSED_DIRTY_FLAGS)) return 'accessed-dirty';
  if (parts.supervisorShadowStack && !bitOf(cap, EPT_VPID_CAP.SUPERVISOR_SHADOW_STACK)) return 'supervisor-shadow-stack';
  if (parts.reservedLow !== 0n) return 'reserved-bits';
  if (eptp >> BigInt(profile.data.physicalAddressWidth) !== 0n) return 'address-width';
  return undefined;
}
