/**
 * Random consistent processor profiles, for properties that must hold on every processor the SDM
 * allows rather than on the three named ones.
 *
 * Every generated value passes `validateProfile`: controls are random subsets of the controls
 * spec/controls.ts knows; MSRs that exist only with some control exist exactly then; the TRUE
 * MSRs exist iff IA32_VMX_BASIC[55], and relax a random part of the default1 class; the fixed
 * CR0/CR4 bits admit the initial processor state. Only default1 controls are ever must-be-1
 * (real processors force no other control), so every generated processor can run a VM; region
 * sizes are at least 1024 bytes, as on every processor so far.
 */
import fc from 'fast-check';
import { fieldExistsWith, VMCS_FIELDS } from '../../spec/fields.ts';
import { decodeFieldEncoding } from '../../spec/field-encoding.ts';
import { CONTROL_SETS, knownControlMask } from '../../spec/controls.ts';
import { EPT_VPID_CAP, CR4_VMXE, VMX_MISC } from '../../spec/capability-msrs.ts';
import { EXIT_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { toHex } from '../../spec/hex.ts';
import { initialProcessorState } from '../../spec/initial-state.ts';
import type { ControlSet } from '../../spec/profile.ts';
import type { ProfileData, VmxCapabilityMsrs } from '../../spec/profile-data.ts';

/** A mask with the given bits set. */
function maskOf(bits: readonly number[]): bigint {
  return bits.reduce((acc, bit) => acc | (1n << BigInt(bit)), 0n);
}

/** The positions of the bits set in `mask`. */
function bitsOf(mask: bigint): number[] {
  const bits: number[] = [];
  for (let bit = 0; bit < 64; bit++) if ((mask >> BigInt(bit)) & 1n) bits.push(bit);
  return bits;
}

/** A random subset of the bits of `mask`, as a mask. */
function subsetOf(mask: bigint): fc.Arbitrary<bigint> {
  return fc.subarray(bitsOf(mask)).map(maskOf);
}

/** Random allowed-1 settings of one control set: the default1 class plus any named controls. */
function mayBeOneOf(set: ControlSet): fc.Arbitrary<bigint> {
  const info = CONTROL_SETS[set];
  return subsetOf(knownControlMask(set) & ~info.default1).map((named) => named | info.default1);
}

function has(mask: bigint, bit: number): boolean {
  return ((mask >> BigInt(bit)) & 1n) === 1n;
}

/** `allowed-1 << 32 | allowed-0`, the layout of the two-half control MSRs. */
function twoHalves(mustBeOne: bigint, mayBeOne: bigint): string {
  return toHex((mayBeOne << 32n) | mustBeOne);
}

/** A random IA32_VMX_EPT_VPID_CAP consistent with EPT and VPID support. */
function eptVpidCapOf(ept: boolean, vpid: boolean): fc.Arbitrary<bigint> {
  const eptFeatures = maskOf([
    EPT_VPID_CAP.EXECUTE_ONLY,
    EPT_VPID_CAP.PAGE_WALK_LENGTH_4,
    EPT_VPID_CAP.PAGE_WALK_LENGTH_5,
    EPT_VPID_CAP.MEMORY_TYPE_UC,
    EPT_VPID_CAP.MEMORY_TYPE_WB,
    EPT_VPID_CAP.PAGES_2MB,
    EPT_VPID_CAP.PAGES_1GB,
    EPT_VPID_CAP.ACCESSED_DIRTY_FLAGS,
    EPT_VPID_CAP.ADVANCED_EPT_VIOLATION_INFORMATION,
    EPT_VPID_CAP.SUPERVISOR_SHADOW_STACK,
  ]);
  const inveptTypes = maskOf([EPT_VPID_CAP.INVEPT_SINGLE_CONTEXT, EPT_VPID_CAP.INVEPT_ALL_CONTEXT]);
  const invvpidTypes = maskOf([
    EPT_VPID_CAP.INVVPID_INDIVIDUAL_ADDRESS,
    EPT_VPID_CAP.INVVPID_SINGLE_CONTEXT,
    EPT_VPID_CAP.INVVPID_ALL_CONTEXT,
    EPT_VPID_CAP.INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS,
  ]);
  const part = (supported: boolean, features: bigint, instruction: number, types: bigint): fc.Arbitrary<bigint> =>
    supported
      ? fc
          .record({ features: subsetOf(features), instruction: fc.boolean(), types: subsetOf(types) })
          .map(({ features: f, instruction: i, types: t }) =>
            i ? f | (1n << BigInt(instruction)) | t : f,
          )
      : fc.constant(0n);
  return fc
    .tuple(
      part(ept, eptFeatures, EPT_VPID_CAP.INVEPT, inveptTypes),
      part(vpid, 0n, EPT_VPID_CAP.INVVPID, invvpidTypes),
    )
    .map(([eptPart, vpidPart]) => eptPart | vpidPart);
}

/** Highest index of any field that exists with these allowed-1 settings. */
function highestFieldIndex(mayBeOne: Record<ControlSet, bigint>): number {
  const supports = (set: ControlSet, bit: number): boolean => has(mayBeOne[set], bit);
  let highest = 0;
  for (const field of VMCS_FIELDS) {
    if (fieldExistsWith(field.encoding, supports)) {
      highest = Math.max(highest, decodeFieldEncoding(field.encoding).index);
    }
  }
  return highest;
}

/** CR0 bits that are 0 in the initial state and that a processor may fix to 0 in VMX operation. */
const CR0_MAY_BE_FIXED_0 = maskOf([3, 16, 18, 29, 30]);
/** CR4 bits defined by the architecture (0-24 except 15), candidates for FIXED1. */
const CR4_DEFINED = maskOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21, 22, 23, 24]);

/** Random consistent {@link ProfileData}; `validateProfile` returns `[]` for every value. */
export function profileDataArbitrary(): fc.Arbitrary<ProfileData> {
  const basics = fc.record({
    revisionId: fc.integer({ min: 0, max: 0x7fff_ffff }),
    // The SDM allows 1..4096; real processors report 1024 or more, and an implementation needs room
    // for its VMCS data in the region, so sizes below 1024 are not generated.
    regionSize: fc.oneof(fc.constantFrom(1024, 2048, 4096), fc.integer({ min: 1024, max: 4096 })),
    dualMonitor: fc.boolean(),
    memoryType: fc.constantFrom(0, 6),
    insOutsInformation: fc.boolean(),
    trueControls: fc.boolean(),
    errorCodeRelaxed: fc.boolean(),
    physicalAddressWidth: fc.integer({ min: 36, max: 52 }),
    featureControl: fc.integer({ min: 0, max: 7 }),
  });
  const classic = fc.record({
    pin: mayBeOneOf('pin'),
    primary: mayBeOneOf('primary'),
    exit: mayBeOneOf('exit'),
    entry: mayBeOneOf('entry'),
    secondary: mayBeOneOf('secondary'),
    tertiary: mayBeOneOf('tertiary'),
    vmfunc: mayBeOneOf('vmfunc'),
    // Parts of the default1 class the TRUE MSRs still report as must-be-1.
    pinTrue: subsetOf(CONTROL_SETS.pin.default1),
    primaryTrue: subsetOf(CONTROL_SETS.primary.default1),
    exitTrue: subsetOf(CONTROL_SETS.exit.default1),
    entryTrue: subsetOf(CONTROL_SETS.entry.default1),
  });
  const misc = fc.record({
    timerRate: fc.integer({ min: 0, max: 31 }),
    storeLma: fc.boolean(),
    activityStates: subsetOf(maskOf([VMX_MISC.ACTIVITY_HLT, VMX_MISC.ACTIVITY_SHUTDOWN, VMX_MISC.ACTIVITY_WAIT_FOR_SIPI])),
    flags: subsetOf(
      maskOf([VMX_MISC.PT_IN_VMX, VMX_MISC.RDMSR_SMBASE, VMX_MISC.SMM_MONITOR_CTL_BIT_2, VMX_MISC.VMWRITE_ANY_FIELD, VMX_MISC.ZERO_LENGTH_INJECTION]),
    ),
    cr3Targets: fc.integer({ min: 0, max: 4 }),
    msrListLimit: fc.integer({ min: 0, max: 7 }),
    msegRevision: fc.integer({ min: 0, max: 0xffff_ffff }),
  });
  const fixed = fc.record({
    cr0Fixed0: subsetOf(initialProcessorState.cr0),
    cr0Fixed1Cleared: subsetOf(CR0_MAY_BE_FIXED_0),
    cr4Fixed0: subsetOf(initialProcessorState.cr4),
    cr4Fixed1: subsetOf(CR4_DEFINED),
    vmcsEnumSlack: fc.integer({ min: 0, max: 3 }),
  });

  return fc.record({ basics, classic, misc, fixed }).chain(({ basics: b, classic: c, misc: m, fixed: f }) => {
    const secondary = has(c.primary, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) ? c.secondary : 0n;
    const tertiary = has(c.primary, PRIMARY_CONTROL.ACTIVATE_TERTIARY_CONTROLS) ? c.tertiary : 0n;
    const vmfunc = has(secondary, SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS) ? c.vmfunc : 0n;
    const ept = has(secondary, SECONDARY_CONTROL.ENABLE_EPT);
    const vpid = has(secondary, SECONDARY_CONTROL.ENABLE_VPID);
    return eptVpidCapOf(ept, vpid).map((eptVpidCap): ProfileData => {
      const basic =
        BigInt(b.revisionId) |
        (BigInt(b.regionSize) << 32n) |
        (b.dualMonitor ? 1n << 49n : 0n) |
        (BigInt(b.memoryType) << 50n) |
        (b.insOutsInformation ? 1n << 54n : 0n) |
        (b.trueControls ? 1n << 55n : 0n) |
        (b.errorCodeRelaxed ? 1n << 56n : 0n);
      const storeLma = m.storeLma || has(secondary, SECONDARY_CONTROL.UNRESTRICTED_GUEST);
      const misc =
        BigInt(m.timerRate) |
        (storeLma ? 1n << BigInt(VMX_MISC.STORE_LMA) : 0n) |
        m.activityStates |
        m.flags |
        (BigInt(m.cr3Targets) << BigInt(VMX_MISC.CR3_TARGET_COUNT)) |
        (BigInt(m.msrListLimit) << BigInt(VMX_MISC.MSR_LIST_LIMIT)) |
        (BigInt(m.msegRevision) << 32n);
      const mayBeOne: Record<ControlSet, bigint> = {
        pin: c.pin,
        primary: c.primary,
        secondary,
        tertiary,
        exit: c.exit,
        'secondary-exit': 0n,
        entry: c.entry,
        vmfunc,
      };
      const vmcsEnum = BigInt(Math.min(0x1ff, highestFieldIndex(mayBeOne) + f.vmcsEnumSlack)) << 1n;
      const d1 = (set: ControlSet): bigint => CONTROL_SETS[set].default1;

      const msrs: VmxCapabilityMsrs = {
        IA32_VMX_BASIC: toHex(basic),
        IA32_VMX_PINBASED_CTLS: twoHalves(d1('pin'), c.pin),
        IA32_VMX_PROCBASED_CTLS: twoHalves(d1('primary'), c.primary),
        IA32_VMX_EXIT_CTLS: twoHalves(d1('exit'), c.exit),
        IA32_VMX_ENTRY_CTLS: twoHalves(d1('entry'), c.entry),
        IA32_VMX_MISC: toHex(misc),
        IA32_VMX_CR0_FIXED0: toHex(f.cr0Fixed0),
        IA32_VMX_CR0_FIXED1: toHex(0xffff_ffffn & ~f.cr0Fixed1Cleared),
        IA32_VMX_CR4_FIXED0: toHex(f.cr4Fixed0 | CR4_VMXE),
        IA32_VMX_CR4_FIXED1: toHex(f.cr4Fixed1 | initialProcessorState.cr4 | CR4_VMXE),
        IA32_VMX_VMCS_ENUM: toHex(vmcsEnum),
      };
      if (has(c.primary, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS)) msrs.IA32_VMX_PROCBASED_CTLS2 = twoHalves(0n, secondary);
      if (ept || vpid) msrs.IA32_VMX_EPT_VPID_CAP = toHex(eptVpidCap);
      if (b.trueControls) {
        msrs.IA32_VMX_TRUE_PINBASED_CTLS = twoHalves(c.pinTrue, c.pin);
        msrs.IA32_VMX_TRUE_PROCBASED_CTLS = twoHalves(c.primaryTrue, c.primary);
        msrs.IA32_VMX_TRUE_EXIT_CTLS = twoHalves(c.exitTrue, c.exit);
        msrs.IA32_VMX_TRUE_ENTRY_CTLS = twoHalves(c.entryTrue, c.entry);
      }
      if (has(secondary, SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS)) msrs.IA32_VMX_VMFUNC = toHex(vmfunc);
      if (has(c.primary, PRIMARY_CONTROL.ACTIVATE_TERTIARY_CONTROLS)) msrs.IA32_VMX_PROCBASED_CTLS3 = toHex(tertiary);
      if (has(c.exit, EXIT_CONTROL.ACTIVATE_SECONDARY_CONTROLS)) msrs.IA32_VMX_EXIT_CTLS2 = toHex(0n);

      return {
        name: `random-${b.revisionId.toString(16)}`,
        description: 'randomly generated consistent profile',
        physicalAddressWidth: b.physicalAddressWidth,
        featureControl: toHex(BigInt(b.featureControl)),
        msrs,
      };
    });
  });
}
