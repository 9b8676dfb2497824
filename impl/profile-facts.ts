/**
 * Everything a machine needs from its profile, decoded once per profile into int32 form.
 *
 * Trick: spec/profile.ts answers in BigInt (`cr0Fixed0`, `eptVpidCap`) and through
 * `supportsControl`, which shifts BigInts on every call. Decoding that for every new machine
 * cost more than running a short case on it (the suite makes one machine per case), so the
 * decoded facts are cached per Profile object next to the field table.
 */
import { EPT_VPID_CAP } from '../spec/capability-msrs.ts';
import { SECONDARY_CONTROL } from '../spec/control-bits.ts';
import type { Profile } from '../spec/profile.ts';
import { fieldTableFor, type FieldTable } from './field-table.ts';
import { halvesOf, parseHexInto } from './hex-halves.ts';

/** A profile's facts in the form impl/ uses them. */
export interface ProfileFacts {
  readonly table: FieldTable;
  /** IA32_VMX_BASIC[30:0]. */
  readonly revisionId: number;
  /** High-half bits a VMXON/VMCS pointer must not set (at or beyond the pointer width). */
  readonly pointerHiBad: number;
  /** High-half bits an EPTP must not set (at or beyond the physical-address width). */
  readonly physicalHiBad: number;
  /** The 1-setting of "VMCS shadowing" is supported. */
  readonly shadowingSupported: boolean;
  /** IA32_VMX_MISC[29]. */
  readonly anyFieldWritable: boolean;
  /** EPT and INVEPT supported (else INVEPT is #UD). */
  readonly inveptSupported: boolean;
  /** VPID and INVVPID supported (else INVVPID is #UD). */
  readonly invvpidSupported: boolean;
  /** IA32_VMX_EPT_VPID_CAP bits 31:0 and 63:32. */
  readonly capLo: number;
  readonly capHi: number;
  /** IA32_VMX_CR0_FIXED0, CR0_FIXED1, CR4_FIXED0, CR4_FIXED1 as (lo, hi) pairs. */
  readonly cr0Fixed0: readonly [number, number];
  readonly cr0Fixed1: readonly [number, number];
  readonly cr4Fixed0: readonly [number, number];
  readonly cr4Fixed1: readonly [number, number];
  /** CR4 bits the processor supports (Profile.cr4Supported), (lo, hi). */
  readonly cr4Supported: readonly [number, number];
  /** IA32_FEATURE_CONTROL at reset, (lo, hi). */
  readonly featureControl: readonly [number, number];
}

const cache = new WeakMap<Profile, ProfileFacts>();

/** The facts of `profile`, decoded on first use (throws as fieldTableFor does). */
export function factsFor(profile: Profile): ProfileFacts {
  let facts = cache.get(profile);
  if (facts === undefined) {
    facts = decode(profile);
    cache.set(profile, facts);
  }
  return facts;
}

function decode(profile: Profile): ProfileFacts {
  const [capLo, capHi] = halvesOf(profile.eptVpidCap);
  const featureControl = new Int32Array(2);
  parseHexInto(profile.data.featureControl, featureControl, 0, `profile ${profile.name} featureControl`);
  return {
    table: fieldTableFor(profile),
    revisionId: profile.revisionId,
    pointerHiBad: highBitsBeyond(profile.pointerWidth),
    physicalHiBad: highBitsBeyond(profile.data.physicalAddressWidth),
    shadowingSupported: profile.supportsControl('secondary', SECONDARY_CONTROL.VMCS_SHADOWING),
    anyFieldWritable: profile.vmwriteAnyField,
    inveptSupported:
      profile.supportsControl('secondary', SECONDARY_CONTROL.ENABLE_EPT) && bit(capLo, capHi, EPT_VPID_CAP.INVEPT),
    invvpidSupported:
      profile.supportsControl('secondary', SECONDARY_CONTROL.ENABLE_VPID) && bit(capLo, capHi, EPT_VPID_CAP.INVVPID),
    capLo,
    capHi,
    cr0Fixed0: halvesOf(profile.cr0Fixed0),
    cr0Fixed1: halvesOf(profile.cr0Fixed1),
    cr4Fixed0: halvesOf(profile.cr4Fixed0),
    cr4Fixed1: halvesOf(profile.cr4Fixed1),
    cr4Supported: halvesOf(profile.cr4Supported),
    featureControl: [featureControl[0] as number, featureControl[1] as number],
  };
}

function bit(lo: number, hi: number, position: number): boolean {
  return ((position < 32 ? lo >>> position : hi >>> (position - 32)) & 1) === 1;
}

/** High-half mask of the address bits at or above `width` (32..63; profiles allow 32..52). */
export function highBitsBeyond(width: number): number {
  return ~((2 ** (width - 32) - 1) | 0) | 0;
}
