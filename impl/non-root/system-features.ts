/**
 * Which of the instructions of case format 5 the processor of a profile has: the profile's CPUID
 * feature flags (spec/profile-data.ts `cpuid`; Vol. 2B "RDRAND": CPUID.01H:ECX.RDRAND[bit 30];
 * "RDSEED": CPUID.(EAX=07H, ECX=0H):EBX.RDSEED[bit 18]; "INVPCID": CPUID.(EAX=07H,
 * ECX=0H):EBX.INVPCID[bit 10]; Vol. 2D "XSAVES": CPUID.(EAX=0DH, ECX=1):EAX.XSS[bit 3]). Without
 * the feature the instruction raises #UD. A profile that does not state a flag has the feature
 * exactly when the VMX control governing the instruction may be 1 (spec/profile.ts).
 *
 * Trick: the four flags are copied once per profile into a fixed-shape object, so that the guest
 * operations read a property instead of going through the profile's nested object.
 */
import type { Profile } from '../../spec/profile.ts';

/** The features, decoded once per profile. */
export interface SystemFeatures {
  readonly rdrand: boolean;
  readonly rdseed: boolean;
  readonly invpcid: boolean;
  readonly xsaves: boolean;
}

const cache = new WeakMap<Profile, SystemFeatures>();

/** The features of `profile`'s processor. */
export function systemFeaturesFor(profile: Profile): SystemFeatures {
  let features = cache.get(profile);
  if (features === undefined) {
    const { rdrand, rdseed, invpcid, xsaves } = profile.cpuid;
    features = { rdrand, rdseed, invpcid, xsaves };
    cache.set(profile, features);
  }
  return features;
}
