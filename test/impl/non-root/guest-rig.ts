/**
 * Set-up of the guest-operation tests: an impl engine whose processor 0 runs a guest entered with
 * the valid VMCS of test/impl/vm-entry-vmcs.ts (changed as a test asks), plus readers of what the
 * VM exit recorded. The guest is a 64-bit guest unless `legacy` asks for the valid VMCS's 32-bit
 * protected-mode guest. Expected values in the tests come from the SDM text.
 */
import { ENTRY_CONTROL } from '../../../spec/control-bits.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Observation } from '../../../spec/observations.ts';
import type { Operation } from '../../../spec/operations.ts';
import type { ProfileData } from '../../../spec/profile-data.ts';
import { createProfile } from '../../../spec/profile.ts';
import { createImplEngine, type ImplEngine } from '../../../impl/index.ts';
import type { ExitInfo } from '../../../impl/vm-exit/exit-info.ts';
import { SKYLAKE } from '../fixtures.ts';
import { fieldsOf, type Changes } from '../vm-entry-rig.ts';
import { loadVmcsOperations } from '../vm-entry-vmcs.ts';

export const hex = (value: number | bigint): string => `0x${value.toString(16)}`;
export const bit = (position: number): bigint => 1n << BigInt(position);

/** Guest RIP at VM entry in the valid VMCS. */
export const ENTRY_RIP = 0x1000;

/** Changes making the valid guest a 64-bit guest ("IA-32e mode guest", CS.L = 1, IA32_EFER.LMA/LME). */
const LONG_MODE: Changes = {
  VM_ENTRY_CONTROLS: (valid) => valid | bit(ENTRY_CONTROL.IA32E_MODE_GUEST),
  GUEST_CS_ACCESS_RIGHTS: 0xa09bn,
  GUEST_IA32_EFER: 0x500n,
};

export interface GuestSetting {
  profile?: ProfileData;
  changes?: Changes;
  /** Stay in the 32-bit protected-mode guest of the valid VMCS. */
  legacy?: boolean;
  /** 32-bit words of physical memory written before VMLAUNCH (bitmaps). */
  memory?: readonly (readonly [number, number])[];
}

export class Guest {
  readonly engine: ImplEngine;

  constructor(setting: GuestSetting = {}) {
    const data = setting.profile ?? SKYLAKE;
    const profile = createProfile(data);
    this.engine = createImplEngine({ profile: data, logicalProcessors: 1 }) as ImplEngine;
    const changes = { ...(setting.legacy === true ? {} : LONG_MODE), ...setting.changes };
    for (const op of loadVmcsOperations(profile, fieldsOf({ profile: data, changes }))) this.setUp(op);
    for (const [address, word] of setting.memory ?? []) this.setUp({ kind: 'write-memory', cpu: 0, address: hex(address), value: hex(word >>> 0) });
    const entry = this.engine.step({ kind: 'vmlaunch', cpu: 0 });
    if (entry.kind !== 'vmentry') throw new Error(`VMLAUNCH gave ${JSON.stringify(entry)}`);
  }

  private setUp(op: Operation): void {
    const seen = this.engine.step(op);
    if (seen.kind !== 'ok' && seen.kind !== 'vmsucceed') throw new Error(`set-up ${JSON.stringify(op)} gave ${JSON.stringify(seen)}`);
  }

  step(op: Operation): Observation {
    return this.engine.step(op);
  }

  /**
   * The exit information of the last VM exit, read back with VMREAD from the VMCS (in VMX root
   * operation, after the exit), in the shape of impl/'s exit-information record.
   */
  get info(): Omit<ExitInfo, 'clear' | 'defined'> {
    const qualification = this.read('EXIT_QUALIFICATION');
    const linear = this.read('GUEST_LINEAR_ADDRESS');
    return {
      qualificationLo: Number(qualification & 0xffff_ffffn),
      qualificationHi: Number(qualification >> 32n),
      instructionLength: Number(this.read('VM_EXIT_INSTRUCTION_LENGTH')),
      instructionInformation: Number(this.read('VM_EXIT_INSTRUCTION_INFORMATION')),
      linearLo: Number(linear & 0xffff_ffffn),
      linearHi: Number(linear >> 32n),
      interruptionInformation: Number(this.read('VM_EXIT_INTERRUPTION_INFORMATION')),
      interruptionErrorCode: Number(this.read('VM_EXIT_INTERRUPTION_ERROR_CODE')),
    };
  }

  /** VMREAD of a field (in VMX root operation, after a VM exit) as a bigint. */
  read(field: keyof typeof FIELD): bigint {
    const seen = this.engine.step({ kind: 'vmread', cpu: 0, encoding: hex(FIELD[field]) });
    if (seen.kind !== 'vmsucceed' || seen.value === undefined) throw new Error(`VMREAD ${field} gave ${JSON.stringify(seen)}`);
    return BigInt(seen.value);
  }
}

/** The observation of a VM exit with `reason` (host RFLAGS = 2: no arithmetic flag). */
export const exit = (reason: number) => ({ kind: 'vmexit', reason, flags: 0 }) as const;
/** A guest operation that completed. */
export const OK = { kind: 'ok', flags: 0 } as const;
