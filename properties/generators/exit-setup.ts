/**
 * The exit configuration a VM-exit step group writes into a VMCS built by vmcs-builder.ts before
 * its VMLAUNCH: which exiting controls are 1 (those the profile allows either way are drawn at
 * random, so each exit condition is met on both sides across groups), the CR0/CR4 guest/host
 * masks and read shadows, the CR3-target count and values, the exception bitmap with the
 * page-fault error-code mask and match, the I/O and MSR bitmaps laid out in memory with
 * `write-memory`, and (when the profile has it and it is drawn) VMCS shadowing: the VMREAD and
 * VMWRITE bitmaps and a shadow VMCS behind the link pointer, so that the guest's VMREAD and
 * VMWRITE reach the shadow VMCS or exit (SDM Vol. 3C §25.10 "VMCS Types: Ordinary and Shadow",
 * §26.1.3).
 *
 * The bitmaps: every dword holding the bit of a port or MSR the group may probe is written whole
 * (ports and MSRs outside the probe lists are 0 in those dwords), so what earlier groups of the
 * same case left in memory never decides an exit of this one.
 *
 * Layouts from spec/exit-bitmaps.ts; the controls by their spec/control-bits.ts names.
 */
import fc from 'fast-check';
import { ENTRY_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL, VMFUNC_CONTROL } from '../../spec/control-bits.ts';
import { CR0_BIT, CR4_BIT } from '../../spec/control-registers.ts';
import { ioBitmapPosition, msrBitmapPosition, vmcsShadowingBitmapPosition } from '../../spec/exit-bitmaps.ts';
import { FIELD, type FieldName } from '../../spec/fields.ts';
import { toHex } from '../../spec/hex.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { BUNDLE_PAGES } from './perturbation-bundles.ts';
import { SHADOW_VMCS_REGIONS } from './values.ts';

/** Physical addresses of the bitmaps (4-KByte aligned, clear of the regions and the built VMCS's structures). */
export const BITMAP_ADDRESSES = { ioA: 0x30000n, ioB: 0x31000n, msr: 0x32000n, vmread: 0x33000n, vmwrite: 0x34000n } as const;

/** The shadow VMCS the link pointer names when "VMCS shadowing" is drawn 1 (the first of the shadow regions, values.ts). */
export const SHADOW_VMCS = SHADOW_VMCS_REGIONS[0] as bigint;

/** Field encodings the guest's VMREAD and VMWRITE use: bitmap bits drawn for each (the last has bits 63:15 set and always exits). */
export const PROBE_ENCODINGS: readonly bigint[] = [BigInt(FIELD.GUEST_RIP), BigInt(FIELD.EXIT_REASON), BigInt(FIELD.CR0_READ_SHADOW), BigInt(FIELD.VMCS_LINK_POINTER), 0x1_0000_681en];

/** Ports the guest's I/O instructions use: both bitmaps, their edges, and the top of the port space (wrap-around). */
export const PROBE_PORTS: readonly number[] = [0x00, 0x20, 0x60, 0x64, 0x80, 0x3f8, 0x7ffe, 0x7fff, 0x8000, 0xcf8, 0xcfc, 0xfffd, 0xffff];

/** MSRs the guest's RDMSR/WRMSR use: in the low range, in the high range, at their edges, and outside both (always exit). */
export const PROBE_MSRS: readonly number[] = [0x10, 0x174, 0x277, 0x1fff, 0xc000_0080, 0xc000_0081, 0xc000_0102, 0xc000_1fff, 0x2000, 0x4000_0000, 0xc000_2000];

/** The processor-based controls the group draws (when the profile allows both settings). */
export const DRAWN_PRIMARY_CONTROLS = [
  'HLT_EXITING', 'INVLPG_EXITING', 'MWAIT_EXITING', 'RDPMC_EXITING', 'RDTSC_EXITING', 'CR3_LOAD_EXITING', 'CR3_STORE_EXITING',
  'CR8_LOAD_EXITING', 'CR8_STORE_EXITING', 'MOV_DR_EXITING', 'UNCONDITIONAL_IO_EXITING', 'USE_IO_BITMAPS', 'USE_MSR_BITMAPS',
  'MONITOR_EXITING', 'PAUSE_EXITING',
] as const satisfies readonly (keyof typeof PRIMARY_CONTROL)[];

/** The secondary controls the group draws (when the built VMCS activates them). */
export const DRAWN_SECONDARY_CONTROLS = [
  'WBINVD_EXITING', 'ENABLE_RDTSCP', 'VMCS_SHADOWING', 'DESCRIPTOR_TABLE_EXITING', 'RDRAND_EXITING', 'RDSEED_EXITING', 'ENABLE_INVPCID',
  'ENABLE_XSAVES_XRSTORS', 'ENABLE_VM_FUNCTIONS',
] as const satisfies readonly (keyof typeof SECONDARY_CONTROL)[];

/**
 * The EPTP list of "EPTP switching" (SDM Vol. 3C §25.6.14 "VM-Function Controls", §26.5.6.3
 * "EPTP Switching"): a 4-KByte page of 512 EPTPs; entry 0 holds the built VMCS's own EPTP, the
 * others are 0 (not a valid EPTP: VMFUNC with ECX = 1 exits).
 */
export const EPTP_LIST = BUNDLE_PAGES.eptpList;

/** CR0 bits a guest/host mask may own here; CR4 likewise. */
const CR0_MASKABLE = [CR0_BIT.PE, CR0_BIT.MP, CR0_BIT.EM, CR0_BIT.TS, CR0_BIT.NE, CR0_BIT.WP, CR0_BIT.AM, CR0_BIT.CD] as const;
/** CR4.OSXSAVE (bit 18, Vol. 3A §2.5 "Control Registers"): XSETBV is #UD while it is 0. */
export const CR4_OSXSAVE = 18;
const CR4_MASKABLE = [CR4_BIT.PSE, CR4_BIT.PAE, CR4_BIT.PGE, CR4_BIT.VMXE, CR4_BIT.SMXE, CR4_BIT.SMEP] as const;

/** An exit configuration, as written and as the prediction (exit-prediction.ts) reads it. */
export interface ExitSetup {
  /** Primary processor-based controls (the built value with the drawn exiting controls). */
  primary: bigint;
  /** Secondary controls, or undefined when the built VMCS does not activate them. */
  secondary: bigint | undefined;
  cr0Mask: bigint;
  cr0Shadow: bigint;
  cr4Mask: bigint;
  cr4Shadow: bigint;
  /** The guest's CR0, CR3 and CR4 as the built VMCS loads them. */
  guestCr0: bigint;
  guestCr3: bigint;
  guestCr4: bigint;
  /** CR3-target values in force (the count is their number). */
  cr3Targets: bigint[];
  exceptionBitmap: number;
  pfecMask: number;
  pfecMatch: number;
  /** The I/O-bitmap bit of each port a probe access touches. */
  ioBits: Map<number, boolean>;
  /** The MSR-bitmap bits of the probe MSRs, keyed `read:0x10`, `write:0xc0000080`. */
  msrBits: Map<string, boolean>;
  /** The VMREAD- and VMWRITE-bitmap bits of the probe encodings (bits 14:0), keyed `vmread:0x681e`. */
  shadowBits: Map<string, boolean>;
  /** The guest runs in 64-bit mode. */
  guest64: boolean;
  /** The profile's CPUID feature flags (RDRAND, RDSEED, INVPCID, XSAVES). */
  features: Profile['cpuid'];
  /** The XSS-exiting bitmap (written when "enable XSAVES/XRSTORS" is 1). */
  xssBitmap: bigint;
  /** The value the host writes to IA32_XSS before VMLAUNCH (so that XSAVES/XRSTORS exits are decidable), or none. */
  xss: bigint | undefined;
  /**
   * The VM-function controls written when "enable VM functions" is 1: EPTP switching (bit 0) when
   * the profile allows it and EPT is on (the EPTP list then holds the built EPTP at entry 0), or 0.
   */
  vmfunc: bigint;
  /** The built EPTP (entry 0 of the EPTP list), when EPT is on. */
  eptp: bigint | undefined;
}

/** IA32_XSS (Vol. 4 Table 2-2); the generators write it with WRMSR before VMLAUNCH. */
export const IA32_XSS = 0xda0;
/** IA32_XSS values the host writes: PT state (bit 8), CET user and supervisor state (bits 11, 12). */
const XSS_VALUES: readonly bigint[] = [0x100n, 0x1800n];
/** XSS-exiting bitmaps: none, everything, PT state only, CET state only. */
const XSS_BITMAPS: readonly bigint[] = [0n, 0xffff_ffff_ffff_ffffn, 0x100n, 0x1800n];

const bit = (n: number): bigint => 1n << BigInt(n);

/** The CR3-target count the profile supports (IA32_VMX_MISC bits 24:16), at most 4. */
export function cr3TargetsSupported(profile: Profile): number {
  return Math.min(4, Number((BigInt(profile.data.msrs.IA32_VMX_MISC) >> 16n) & 0x1ffn));
}

/** Every port an access of up to 4 bytes at a probe port touches. */
export function trackedPorts(): number[] {
  return [...new Set(PROBE_PORTS.flatMap((p) => [0, 1, 2, 3].map((i) => (p + i) & 0xffff)))];
}

function bitsOf(mask: bigint, list: readonly number[]): bigint {
  return list.reduce((acc, b) => acc | (mask & bit(b)), 0n);
}

/** An exit configuration for a VMCS built with `values` on `profile`. */
export function exitSetupArbitrary(profile: Profile, values: ReadonlyMap<FieldName, bigint>): fc.Arbitrary<ExitSetup> {
  const builtPrimary = values.get('PRIMARY_PROCESSOR_BASED_CONTROLS') ?? 0n;
  const builtSecondary = (builtPrimary & bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS)) !== 0n ? values.get('SECONDARY_PROCESSOR_BASED_CONTROLS') : undefined;
  const targets = cr3TargetsSupported(profile);
  const guestCr0 = values.get('GUEST_CR0') ?? 0n;
  const guestCr3 = values.get('GUEST_CR3') ?? 0n;
  // CR4.OSXSAVE on where the profile allows it, so that XSETBV reaches its VM exit instead of #UD.
  const osxsave = bit(CR4_OSXSAVE);
  const baseCr4 = (values.get('GUEST_CR4') ?? 0n) | (profile.cr4Fixed1 & osxsave);
  // CR4.SMXE drawn on where the profile allows it, so that GETSEC reaches its VM exit (it is #UD otherwise).
  const smxe = bit(CR4_BIT.SMXE) & profile.cr4Fixed1;
  const tracked = trackedPorts();
  const shadowKeys = PROBE_ENCODINGS.filter((e) => vmcsShadowingBitmapPosition(e) !== undefined).flatMap((e) => [`vmread:0x${e.toString(16)}`, `vmwrite:0x${e.toString(16)}`]);
  const msrKeys = PROBE_MSRS.flatMap((msr) => (['read', 'write'] as const).filter((a) => msrBitmapPosition(msr, a) !== undefined).map((a) => `${a}:0x${msr.toString(16)}`));
  return fc
    .record({
      primaryDraw: fc.array(fc.boolean(), { minLength: DRAWN_PRIMARY_CONTROLS.length, maxLength: DRAWN_PRIMARY_CONTROLS.length }),
      secondaryDraw: fc.array(fc.boolean(), { minLength: DRAWN_SECONDARY_CONTROLS.length, maxLength: DRAWN_SECONDARY_CONTROLS.length }),
      cr0Mask: fc.subarray([...CR0_MASKABLE]),
      cr0Shadow: fc.subarray([...CR0_MASKABLE]),
      cr4Mask: fc.subarray([...CR4_MASKABLE]),
      cr4Shadow: fc.subarray([...CR4_MASKABLE]),
      cr3Targets: fc.array(fc.constantFrom(guestCr3, 0x23000n, 0x24000n, 0x25000n), { maxLength: targets }),
      exceptionBitmap: fc.oneof(fc.constant(0), fc.constant(0xffff_ffff), fc.nat({ max: 0xffff_ffff })),
      pfec: fc.constantFrom([0, 0], [0, 1], [2, 2], [2, 0], [0xffff_ffff, 0x2]),
      ioBits: fc.array(fc.boolean(), { minLength: tracked.length, maxLength: tracked.length }),
      msrBits: fc.array(fc.boolean(), { minLength: msrKeys.length, maxLength: msrKeys.length }),
      shadowBits: fc.array(fc.boolean(), { minLength: shadowKeys.length, maxLength: shadowKeys.length }),
      smxe: fc.boolean(),
      xssBitmap: fc.constantFrom(...XSS_BITMAPS),
      xss: fc.constantFrom(...XSS_VALUES),
      eptpSwitching: fc.boolean(),
    })
    .map((draw): ExitSetup => {
      let primary = builtPrimary;
      for (const [i, name] of DRAWN_PRIMARY_CONTROLS.entries()) {
        const b = bit(PRIMARY_CONTROL[name]);
        const allowed = profile.controls.primary;
        if ((allowed.mustBeOne & b) !== 0n) primary |= b;
        else if ((allowed.mayBeOne & b) === 0n) primary &= ~b;
        else primary = draw.primaryDraw[i] === true ? primary | b : primary & ~b;
      }
      let secondary = builtSecondary;
      if (secondary !== undefined) {
        for (const [i, name] of DRAWN_SECONDARY_CONTROLS.entries()) {
          const b = bit(SECONDARY_CONTROL[name]);
          if ((profile.controls.secondary.mayBeOne & b) !== 0n) secondary = draw.secondaryDraw[i] === true ? secondary | b : secondary & ~b;
        }
      }
      const guestCr4 = draw.smxe ? baseCr4 | smxe : baseCr4;
      const eptp = secondary !== undefined && (secondary & bit(SECONDARY_CONTROL.ENABLE_EPT)) !== 0n ? values.get('EPT_POINTER') : undefined;
      const switching = bit(VMFUNC_CONTROL.EPTP_SWITCHING);
      const vmfunc = draw.eptpSwitching && eptp !== undefined && (profile.controls.vmfunc.mayBeOne & switching) !== 0n ? switching : 0n;
      const cr0Mask = draw.cr0Mask.reduce((acc, b) => acc | bit(b), 0n);
      const cr4Mask = draw.cr4Mask.reduce((acc, b) => acc | bit(b), 0n);
      return {
        primary,
        secondary,
        cr0Mask,
        cr0Shadow: draw.cr0Shadow.reduce((acc, b) => acc | bit(b), 0n) | (guestCr0 & ~bitsOf(-1n, CR0_MASKABLE)),
        cr4Mask,
        cr4Shadow: draw.cr4Shadow.reduce((acc, b) => acc | bit(b), 0n) | (guestCr4 & ~bitsOf(-1n, CR4_MASKABLE)),
        guestCr0,
        guestCr3,
        guestCr4,
        cr3Targets: draw.cr3Targets,
        exceptionBitmap: draw.exceptionBitmap,
        pfecMask: draw.pfec[0] as number,
        pfecMatch: draw.pfec[1] as number,
        ioBits: new Map(tracked.map((port, i) => [port, draw.ioBits[i] === true])),
        msrBits: new Map(msrKeys.map((key, i) => [key, draw.msrBits[i] === true])),
        shadowBits: new Map(shadowKeys.map((key, i) => [key, draw.shadowBits[i] === true])),
        guest64: ((values.get('VM_ENTRY_CONTROLS') ?? 0n) & bit(ENTRY_CONTROL.IA32E_MODE_GUEST)) !== 0n,
        features: profile.cpuid,
        xssBitmap: draw.xssBitmap,
        xss: draw.xss,
        vmfunc,
        eptp,
      };
    });
}

/** The field changes of `setup`, applied over the built values (same order of VMWRITEs, new fields appended). */
export function exitSetupFields(setup: ExitSetup, profile: Profile): Map<FieldName, bigint> {
  const fields = new Map<FieldName, bigint>([
    ['PRIMARY_PROCESSOR_BASED_CONTROLS', setup.primary],
    ['GUEST_CR4', setup.guestCr4],
    ['CR0_GUEST_HOST_MASK', setup.cr0Mask],
    ['CR0_READ_SHADOW', setup.cr0Shadow],
    ['CR4_GUEST_HOST_MASK', setup.cr4Mask],
    ['CR4_READ_SHADOW', setup.cr4Shadow],
    ['CR3_TARGET_COUNT', BigInt(setup.cr3Targets.length)],
    ['EXCEPTION_BITMAP', BigInt(setup.exceptionBitmap)],
    ['PAGE_FAULT_ERROR_CODE_MASK', BigInt(setup.pfecMask)],
    ['PAGE_FAULT_ERROR_CODE_MATCH', BigInt(setup.pfecMatch)],
    ['IO_BITMAP_A_ADDRESS', BITMAP_ADDRESSES.ioA],
    ['IO_BITMAP_B_ADDRESS', BITMAP_ADDRESSES.ioB],
  ]);
  if (setup.secondary !== undefined) fields.set('SECONDARY_PROCESSOR_BASED_CONTROLS', setup.secondary);
  if (setup.secondary !== undefined && (setup.secondary & bit(SECONDARY_CONTROL.ENABLE_XSAVES_XRSTORS)) !== 0n) fields.set('XSS_EXITING_BITMAP', setup.xssBitmap);
  if (vmFunctionsOn(setup)) {
    fields.set('VM_FUNCTION_CONTROLS', setup.vmfunc);
    if (setup.vmfunc !== 0n) fields.set('EPTP_LIST_ADDRESS', EPTP_LIST);
  }
  const targetFields = ['CR3_TARGET_VALUE_0', 'CR3_TARGET_VALUE_1', 'CR3_TARGET_VALUE_2', 'CR3_TARGET_VALUE_3'] as const;
  for (const [i, value] of setup.cr3Targets.entries()) fields.set(targetFields[i] as FieldName, value);
  if (profile.fieldExists(FIELD.MSR_BITMAPS_ADDRESS)) fields.set('MSR_BITMAPS_ADDRESS', BITMAP_ADDRESSES.msr);
  if (shadowingOn(setup)) {
    fields.set('VMREAD_BITMAP_ADDRESS', BITMAP_ADDRESSES.vmread);
    fields.set('VMWRITE_BITMAP_ADDRESS', BITMAP_ADDRESSES.vmwrite);
    fields.set('VMCS_LINK_POINTER', SHADOW_VMCS);
  }
  return fields;
}

/** Whether `setup` turns "enable VM functions" on. */
export function vmFunctionsOn(setup: ExitSetup): boolean {
  return setup.secondary !== undefined && (setup.secondary & bit(SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS)) !== 0n;
}

/** Whether `setup` turns "VMCS shadowing" on. */
export function shadowingOn(setup: ExitSetup): boolean {
  return setup.secondary !== undefined && (setup.secondary & bit(SECONDARY_CONTROL.VMCS_SHADOWING)) !== 0n;
}

/**
 * With "VMCS shadowing" on, the shadow VMCS the link pointer names: its header (the revision
 * identifier with bit 31, the shadow-VMCS indicator, set, as VM entry requires) and a VMCLEAR so
 * that its launch state and data are initialized.
 */
export function shadowVmcsLayout(cpu: number, setup: ExitSetup, revisionId: number): Operation[] {
  if (!shadowingOn(setup)) return [];
  return [
    { kind: 'write-memory', cpu, address: toHex(SHADOW_VMCS), value: toHex(BigInt(revisionId) | 0x8000_0000n) },
    { kind: 'vmclear', cpu, pointer: toHex(SHADOW_VMCS) },
  ];
}

/** The host's WRMSR of IA32_XSS before VMLAUNCH, when the setup draws one. */
export function xssWrite(cpu: number, setup: ExitSetup): Operation[] {
  return setup.xss === undefined ? [] : [{ kind: 'wrmsr', cpu, ecx: toHex(BigInt(IA32_XSS)), value: toHex(setup.xss) }];
}

/** The `write-memory` steps laying out the dwords of the bitmaps that hold a tracked bit, and the EPTP list's first two entries. */
export function bitmapWrites(cpu: number, setup: ExitSetup): Operation[] {
  const dwords = new Map<bigint, number>();
  const setBit = (address: bigint, bitIndex: number, on: boolean): void => {
    const dword = address & ~3n;
    const shift = Number(address & 3n) * 8 + bitIndex;
    const old = dwords.get(dword) ?? 0;
    dwords.set(dword, on ? (old | (1 << shift)) >>> 0 : old);
  };
  for (const [port, on] of setup.ioBits) {
    const pos = ioBitmapPosition(port);
    setBit((pos.bitmap === 'A' ? BITMAP_ADDRESSES.ioA : BITMAP_ADDRESSES.ioB) + BigInt(pos.byteOffset), pos.bit, on);
  }
  for (const [key, on] of setup.msrBits) {
    const [access, msr] = key.split(':') as ['read' | 'write', string];
    const pos = msrBitmapPosition(Number(msr), access);
    if (pos !== undefined) setBit(BITMAP_ADDRESSES.msr + BigInt(pos.byteOffset), pos.bit, on);
  }
  if (shadowingOn(setup)) {
    for (const [key, on] of setup.shadowBits) {
      const [which, encoding] = key.split(':') as ['vmread' | 'vmwrite', string];
      const pos = vmcsShadowingBitmapPosition(BigInt(encoding));
      if (pos !== undefined) setBit(BITMAP_ADDRESSES[which] + BigInt(pos.byteOffset), pos.bit, on);
    }
  }
  const writes = [...dwords.entries()].map(([address, value]): Operation => ({ kind: 'write-memory', cpu, address: toHex(address), value: toHex(BigInt(value)) }));
  // The EPTP list: entry 0 the built EPTP (both halves, so an earlier group's store never decides), entry 1 zero.
  if (vmFunctionsOn(setup) && setup.vmfunc !== 0n && setup.eptp !== undefined) {
    for (const [offset, value] of [[0n, setup.eptp & 0xffff_ffffn], [4n, setup.eptp >> 32n], [8n, 0n], [12n, 0n]] as const) {
      writes.push({ kind: 'write-memory', cpu, address: toHex(EPTP_LIST + offset), value: toHex(value) });
    }
  }
  return writes;
}
