/**
 * Shared set-up for the impl/ unit tests: the named profiles, variations of them with one
 * capability switched, and a small "rig" that steps an impl engine.
 *
 * Expected observations in the tests come from the SDM text (the instruction pages of Vol. 3C,
 * December 2023, §31.3, and the conventions of §31.2), never from running impl/.
 */
import { createImplEngine, type ImplEngine } from '../../impl/index.ts';
import type { Observation } from '../../spec/observations.ts';
import type { Operation } from '../../spec/operations.ts';
import type { ProfileData, VmxCapabilityMsrs } from '../../spec/profile-data.ts';
import { createProfile, type Profile } from '../../spec/profile.ts';
import { PROFILE_DATA } from '../../spec/profiles.ts';

export const CORE2 = PROFILE_DATA.core2 as ProfileData;
export const SKYLAKE = PROFILE_DATA.skylake as ProfileData;
export const MAXIMAL = PROFILE_DATA.maximal as ProfileData;

/** A variation of a profile with some MSRs or facts replaced (`undefined` removes an MSR). */
export function variant(
  base: ProfileData,
  name: string,
  changes: { msrs?: Partial<Record<keyof VmxCapabilityMsrs, string | undefined>> } & Partial<Omit<ProfileData, 'msrs'>>,
): ProfileData {
  const msrs: Record<string, string | undefined> = { ...base.msrs, ...changes.msrs };
  for (const key of Object.keys(msrs)) if (msrs[key] === undefined) delete msrs[key];
  return { ...base, ...changes, name, msrs: msrs as unknown as VmxCapabilityMsrs };
}

/** Physical addresses the tests lay regions out at. */
export const VMXON_0 = 0x1000;
export const VMXON_1 = 0x5000;
export const VMCS_A = 0x2000;
export const VMCS_B = 0x3000;
export const VMCS_C = 0x4000;

export const hex = (value: number | bigint): string => `0x${value.toString(16)}`;

/** An engine plus the profile it runs, with helpers that build operations. */
export class Rig {
  readonly engine: ImplEngine;
  readonly profile: Profile;

  constructor(
    readonly data: ProfileData = SKYLAKE,
    logicalProcessors = 2,
  ) {
    this.profile = createProfile(data);
    this.engine = createImplEngine({ profile: data, logicalProcessors }) as ImplEngine;
  }

  step(op: Operation): Observation {
    return this.engine.step(op);
  }

  run(ops: readonly Operation[]): Observation[] {
    return ops.map((op) => this.engine.step(op));
  }

  /** Writes the profile's revision identifier (plus `extra` bits) into a region's first dword. */
  layOut(address: number, cpu = 0, extra = 0): Observation {
    return this.step({ kind: 'write-memory', cpu, address: hex(address), value: hex((this.profile.revisionId | extra) >>> 0) });
  }

  vmxon(cpu = 0, address = cpu === 0 ? VMXON_0 : VMXON_1): Observation {
    return this.step({ kind: 'vmxon', cpu, pointer: hex(address) });
  }
  vmxoff(cpu = 0): Observation {
    return this.step({ kind: 'vmxoff', cpu });
  }
  vmclear(address: number | bigint, cpu = 0): Observation {
    return this.step({ kind: 'vmclear', cpu, pointer: hex(address) });
  }
  vmptrld(address: number | bigint, cpu = 0): Observation {
    return this.step({ kind: 'vmptrld', cpu, pointer: hex(address) });
  }
  vmptrst(cpu = 0): Observation {
    return this.step({ kind: 'vmptrst', cpu });
  }
  vmread(encoding: number | bigint, cpu = 0): Observation {
    return this.step({ kind: 'vmread', cpu, encoding: hex(encoding) });
  }
  vmwrite(encoding: number | bigint, value: number | bigint, cpu = 0): Observation {
    return this.step({ kind: 'vmwrite', cpu, encoding: hex(encoding), value: hex(value) });
  }
  set(what: Extract<Operation, { kind: 'set' }>['what'], value: number, cpu = 0): Observation {
    return this.step({ kind: 'set', cpu, what, value });
  }

  /** Lays out the VMXON region and enters VMX operation on `cpu`; throws if that fails. */
  enter(cpu = 0): this {
    const address = cpu === 0 ? VMXON_0 : VMXON_1;
    expectSetUp([this.layOut(address, cpu), this.vmxon(cpu, address)]);
    return this;
  }

  /** {@link Rig.enter}, then lays out, clears and loads VMCS `vmcs` on `cpu`. */
  enterWithVmcs(cpu = 0, vmcs = VMCS_A): this {
    this.enter(cpu);
    expectSetUp([this.layOut(vmcs, cpu), this.vmclear(vmcs, cpu), this.vmptrld(vmcs, cpu)]);
    return this;
  }
}

function expectSetUp(results: Observation[]): void {
  for (const result of results) {
    if (result.kind !== 'ok' && result.kind !== 'vmsucceed') throw new Error(`set-up failed: ${JSON.stringify(result)}`);
  }
}

/** Observations with the flags the SDM's conventions fix (§31.2 "Conventions"). */
export const SUCCEED = { kind: 'vmsucceed', flags: 0 } as const;
export const FAIL_INVALID = { kind: 'vmfail-invalid', flags: 0x1 } as const;
export const failValid = (error: number) => ({ kind: 'vmfail-valid', error, flags: 0x40 }) as const;
export const value = (text: string) => ({ kind: 'vmsucceed', value: text, flags: 0 }) as const;
export const ok = (flags = 0) => ({ kind: 'ok', flags }) as const;
export const UD = (flags = 0) => ({ kind: 'fault', vector: 'UD', flags }) as const;
export const GP = (flags = 0) => ({ kind: 'fault', vector: 'GP', flags }) as const;
export const NO_CURRENT_VMCS = '0xffffffffffffffff';
