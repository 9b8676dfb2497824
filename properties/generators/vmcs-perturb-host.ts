/**
 * Perturbation providers (perturbation-provider.ts) for the checks on event injection, the
 * host-state area, address-space size and the VM-entry MSR-load area: events of each type with
 * one property wrong, host MSR fields behind the exit control that loads them, a 32-bit host
 * (the processor outside IA-32e mode at the VMLAUNCH), and MSR-load entries laid out in memory.
 *
 * The conditions are those of SDM Vol. 3C, December 2023, §27.2.1.3 "VM-Entry Control Fields"
 * (event injection), §27.2.2 "Checks on Host Control Registers, MSRs, and SSP", §27.2.3 "Checks on
 * Host Segment and Descriptor-Table Registers", §27.2.4 "Checks Related to Address-Space Size" and
 * §27.4 "Loading MSRs", as the catalogue states them (spec/entry-checks/); the model's rule judges
 * every perturbation before it is used.
 */
import { MSR } from '../../spec/capability-msrs.ts';
import { ENTRY_CONTROL, EXIT_CONTROL, SECONDARY_EXIT_CONTROL } from '../../spec/control-bits.ts';
import { CR0_BIT, CR4_BIT } from '../../spec/control-registers.ts';
import type { FieldName } from '../../spec/fields.ts';
import { BUNDLE_PAGES, bundle, fromBundle, withChange, without } from './perturbation-bundles.ts';
import { bit, type FieldChange, type Perturbation, type PerturbationProvider, type ProviderContext, type ProviderTable } from './perturbation-provider.ts';

// --- Event injection (VM-entry interruption-information field, §25.8.3 "VM-Entry Controls for Event Injection").

const INTERRUPTION = { external: 0, nmi: 2, hardwareException: 3, softwareInterrupt: 4, privilegedSoftwareException: 5, softwareException: 6, other: 7 } as const;
const VALID = bit(31);
const DELIVER_ERROR_CODE = bit(11);

interface Event {
  type: number;
  vector: number;
  errorCode?: boolean;
  /** Other bits of the interruption-information field. */
  extra?: bigint;
  length?: bigint;
  code?: bigint;
  /** Guest CR4.FRED set (a FRED guest; 64-bit guests only). */
  fred?: boolean;
}

function injecting(ctx: ProviderContext, event: Event): FieldChange[] | undefined {
  const info = VALID | (BigInt(event.type) << 8n) | BigInt(event.vector) | (event.errorCode === true ? DELIVER_ERROR_CODE : 0n) | (event.extra ?? 0n);
  const fields: Partial<Record<FieldName, bigint>> = { VM_ENTRY_INTERRUPTION_INFORMATION: info, VM_ENTRY_INSTRUCTION_LENGTH: event.length ?? 1n, VM_ENTRY_EXCEPTION_ERROR_CODE: event.code ?? 0n };
  if (event.fred === true) {
    if (ctx.options.guest !== '64-bit') return undefined;
    fields.GUEST_CR4 = (ctx.values.get('GUEST_CR4') as bigint) | bit(CR4_BIT.FRED);
  }
  return bundle(ctx, {}, fields);
}

/**
 * Valid events of every type: the passing side of each event-injection check. Not type 7 vector 0
 * (a pending MTF VM exit, SDM Vol. 3C, December 2023, §27.6.2 "Injection of Pending MTF VM
 * Exits"): the model treats it as an event delivered through the IDT, and the emulator's MTF VM
 * exit after such an entry would diverge from it (properties/entry-check-exceptions.ts).
 */
const VALID_EVENTS: readonly Event[] = [
  { type: INTERRUPTION.external, vector: 0x20 },
  { type: INTERRUPTION.nmi, vector: 2 },
  { type: INTERRUPTION.hardwareException, vector: 6 },
  { type: INTERRUPTION.hardwareException, vector: 13, errorCode: true },
  { type: INTERRUPTION.softwareInterrupt, vector: 0x80, length: 2n },
  { type: INTERRUPTION.privilegedSoftwareException, vector: 1, length: 1n },
  { type: INTERRUPTION.softwareException, vector: 3, length: 1n },
  { type: INTERRUPTION.other, vector: 1, length: 2n, fred: true },
  { type: INTERRUPTION.hardwareException, vector: 14, errorCode: true, extra: bit(13), fred: true },
];

function failingEvents(...events: Event[]): PerturbationProvider {
  return { failing: (ctx) => events.flatMap((event): Perturbation[] => { const changes = injecting(ctx, event); return changes === undefined ? [] : [{ changes }]; }) };
}

const EVENT_INJECTION: ProviderTable = {
  'event-injection': { passing: (ctx) => VALID_EVENTS.flatMap((event): Perturbation[] => { const changes = injecting(ctx, event); return changes === undefined ? [] : [{ changes }]; }) },
  'event-injection.type-not-reserved': failingEvents({ type: 1, vector: 0x20 }),
  'event-injection.other-event-needs-mtf-support': failingEvents({ type: INTERRUPTION.other, vector: 0 }),
  'event-injection.nmi-vector': failingEvents({ type: INTERRUPTION.nmi, vector: 3 }, { type: INTERRUPTION.nmi, vector: 0 }),
  'event-injection.hardware-exception-vector': failingEvents({ type: INTERRUPTION.hardwareException, vector: 32 }, { type: INTERRUPTION.hardwareException, vector: 0xff }),
  'event-injection.other-event-vector': failingEvents({ type: INTERRUPTION.other, vector: 1 }),
  'event-injection.fred-other-event-vector': failingEvents({ type: INTERRUPTION.other, vector: 3, fred: true }),
  'event-injection.error-code-only-for-hardware-exceptions': failingEvents({ type: INTERRUPTION.external, vector: 0x20, errorCode: true }),
  'event-injection.error-code-only-in-protected-mode': failingEvents({ type: INTERRUPTION.hardwareException, vector: 13, errorCode: true }),
  'event-injection.error-code-required': failingEvents({ type: INTERRUPTION.hardwareException, vector: 13 }, { type: INTERRUPTION.hardwareException, vector: 14 }),
  'event-injection.error-code-forbidden': failingEvents({ type: INTERRUPTION.hardwareException, vector: 6, errorCode: true }),
  'event-injection.reserved-bits': failingEvents({ type: INTERRUPTION.external, vector: 0x20, extra: bit(20) }, { type: INTERRUPTION.external, vector: 0x20, extra: bit(12) }),
  'event-injection.fred-nested-exception-bit': failingEvents({ type: INTERRUPTION.external, vector: 0x20, extra: bit(13) }),
  'event-injection.error-code-reserved-bits': failingEvents({ type: INTERRUPTION.hardwareException, vector: 13, errorCode: true, code: bit(16) }),
  'event-injection.instruction-length': failingEvents({ type: INTERRUPTION.softwareInterrupt, vector: 0x80, length: 0n }, { type: INTERRUPTION.softwareInterrupt, vector: 0x80, length: 16n }),
  'event-injection.fred-instruction-length': failingEvents({ type: INTERRUPTION.other, vector: 1, length: 16n, fred: true }),
};

// --- Host MSR fields, behind the VM-exit controls that load them.

const hostLoads = (exit: number[], secondaryExit: number[] = []) => (ctx: ProviderContext): FieldChange[] | undefined => bundle(ctx, { exit, 'secondary-exit': secondaryExit });
const loadEfer = hostLoads([EXIT_CONTROL.LOAD_IA32_EFER]);
const loadCet = hostLoads([EXIT_CONTROL.LOAD_CET_STATE]);
const loadFred = hostLoads([], [SECONDARY_EXIT_CONTROL.LOAD_FRED]);
const EFER_LME = 8;
const EFER_LMA = 10;

const HOST_STATE: ProviderTable = {
  'host-control-registers.cr4-cet-needs-cr0-wp': {
    failing: (ctx) => [{ changes: [{ field: 'HOST_CR4', value: (ctx.values.get('HOST_CR4') as bigint) | bit(CR4_BIT.CET) }, { field: 'HOST_CR0', value: (ctx.values.get('HOST_CR0') as bigint) & ~bit(CR0_BIT.WP) }] }],
    passing: (ctx) => [{ changes: [{ field: 'HOST_CR4', value: (ctx.values.get('HOST_CR4') as bigint) | bit(CR4_BIT.CET) }, { field: 'HOST_CR0', value: (ctx.values.get('HOST_CR0') as bigint) | bit(CR0_BIT.WP) }] }],
  },
  'host-control-registers.perf-global-ctrl-reserved': fromBundle(hostLoads([EXIT_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL]), (_ctx, base) => [withChange(base, 'HOST_IA32_PERF_GLOBAL_CTRL', bit(63)), withChange(base, 'HOST_IA32_PERF_GLOBAL_CTRL', bit(40))]),
  'host-control-registers.pat-memory-types': fromBundle(hostLoads([EXIT_CONTROL.LOAD_IA32_PAT])),
  'host-control-registers.efer-reserved': fromBundle(loadEfer),
  'host-control-registers.efer-lma-matches-address-space-size': fromBundle(loadEfer, (ctx, base) => [without(ctx, base, 'HOST_IA32_EFER', EFER_LMA)]),
  'host-control-registers.efer-lme-matches-address-space-size': fromBundle(loadEfer, (ctx, base) => [without(ctx, base, 'HOST_IA32_EFER', EFER_LME)]),
  'host-control-registers.s-cet-canonical': fromBundle(loadCet),
  'host-control-registers.s-cet-reserved': fromBundle(loadCet),
  'host-control-registers.s-cet-suppress-and-tracker': fromBundle(loadCet, (_ctx, base) => [withChange(base, 'HOST_IA32_S_CET', bit(10) | bit(11))]),
  'host-control-registers.ssp-canonical': fromBundle(loadCet),
  'host-control-registers.ssp-aligned': fromBundle(loadCet),
  'host-control-registers.interrupt-ssp-table-canonical': fromBundle(loadCet),
  'host-control-registers.pkrs-reserved': fromBundle(hostLoads([EXIT_CONTROL.LOAD_PKRS])),
  'host-control-registers.fred-config-reserved': fromBundle(loadFred),
  ...Object.fromEntries(
    [1, 2, 3].flatMap((n) => ['rsp', 'ssp'].flatMap((reg) => ['canonical', 'aligned'].map((what) => [`host-control-registers.fred-${reg}${n}-${what}`, fromBundle(loadFred)]))),
  ),
};

// --- A 32-bit host: the processor outside IA-32e mode at the VMLAUNCH (set IA32_EFER.LMA = 0), "host address-space size" 0.

function host32(ctx: ProviderContext, fields: Partial<Record<FieldName, bigint>> = {}): Perturbation | undefined {
  const exit = (ctx.values.get('PRIMARY_VM_EXIT_CONTROLS') as bigint) & ~bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE);
  const entry = (ctx.values.get('VM_ENTRY_CONTROLS') as bigint) & ~bit(ENTRY_CONTROL.IA32E_MODE_GUEST);
  const changes = bundle(ctx, {}, { PRIMARY_VM_EXIT_CONTROLS: exit, VM_ENTRY_CONTROLS: entry, ...fields });
  return changes === undefined ? undefined : { changes, before: [{ kind: 'set', what: 'efer.lma', value: 0 }] };
}

function on32BitHost(breakTo: (ctx: ProviderContext) => Partial<Record<FieldName, bigint>>[], passingToo = true): PerturbationProvider {
  return {
    passing: (ctx) => (passingToo ? [host32(ctx)].flatMap((p) => p ?? []) : []),
    failing: (ctx) => breakTo(ctx).flatMap((fields) => host32(ctx, fields) ?? []),
  };
}

const ADDRESS_SPACE: ProviderTable = {
  'address-space-size.ia32e-guest-needs-ia32e-host-processor': on32BitHost((ctx) => [{ VM_ENTRY_CONTROLS: (ctx.values.get('VM_ENTRY_CONTROLS') as bigint) | bit(ENTRY_CONTROL.IA32E_MODE_GUEST) }]),
  'address-space-size.host-size-zero-outside-ia32e': on32BitHost((ctx) => [{ PRIMARY_VM_EXIT_CONTROLS: ctx.values.get('PRIMARY_VM_EXIT_CONTROLS') as bigint }]),
  'address-space-size.ia32e-guest-needs-64-bit-host': on32BitHost(() => []),
  'address-space-size.pcide-needs-64-bit-host': on32BitHost((ctx) => [{ HOST_CR4: (ctx.values.get('HOST_CR4') as bigint) | bit(CR4_BIT.PCIDE) }]),
  'address-space-size.host-rip-32-bit': on32BitHost((ctx) => [{ HOST_RIP: (ctx.values.get('HOST_RIP') as bigint) | bit(32) }]),
  'address-space-size.host-pae-for-64-bit-host': {
    failing: (ctx) => [{ changes: [{ field: 'HOST_CR4', value: (ctx.values.get('HOST_CR4') as bigint) & ~bit(CR4_BIT.PAE) }] }],
  },
  'host-segment-registers.ss-selector-nonzero-outside-64-bit': on32BitHost(() => [{ HOST_SS_SELECTOR: 0n }]),
};

// --- The VM-entry MSR-load area (§27.4 "Loading MSRs"): one 16-byte entry at a page of its own.

const IA32_FS_BASE = 0xc000_0100n;
const IA32_GS_BASE = 0xc000_0101n;
const IA32_SMM_MONITOR_CTL = 0x9bn;
const IA32_EFER = 0xc000_0080n;
const IA32_SYSENTER_CS = 0x174n;

/** A one-entry VM-entry MSR-load area: MSR `msr`, reserved bits `reserved`, data `data`. */
function msrEntry(ctx: ProviderContext, msr: bigint, data = 0n, reserved = 0n): Perturbation | undefined {
  const changes = bundle(ctx, {}, { VM_ENTRY_MSR_LOAD_COUNT: 1n, VM_ENTRY_MSR_LOAD_ADDRESS: BUNDLE_PAGES.entryMsrLoad });
  if (changes === undefined) return undefined;
  const at = BUNDLE_PAGES.entryMsrLoad;
  const words = [msr, reserved, data & 0xffff_ffffn, data >> 32n];
  return { changes, before: words.map((value, i) => ({ kind: 'write-memory' as const, address: at + BigInt(i * 4), value })) };
}

function msrEntries(...entries: [bigint, bigint?, bigint?][]): (ctx: ProviderContext) => Perturbation[] {
  return (ctx) => entries.flatMap(([msr, data, reserved]) => msrEntry(ctx, msr, data, reserved) ?? []);
}

const MSR_LOAD: ProviderTable = {
  // An MSR every processor has and accepts 0 in (IA32_SYSENTER_CS): each entry check passes or may fail.
  'msr-load': { passing: msrEntries([IA32_SYSENTER_CS]) },
  'msr-load.not-fs-base': { failing: msrEntries([IA32_FS_BASE]) },
  'msr-load.not-gs-base': { failing: msrEntries([IA32_GS_BASE]) },
  'msr-load.not-x2apic-range': { failing: msrEntries([0x808n], [0x8ffn]) },
  'msr-load.not-smm-only': { failing: msrEntries([IA32_SMM_MONITOR_CTL]) },
  // IA32_EFER with a reserved bit set: WRMSR would be #GP; the model lets a processor refuse it.
  'msr-load.not-model-specific': { failing: msrEntries([IA32_EFER, bit(3)]) },
  'msr-load.reserved-zero': { failing: msrEntries([IA32_SYSENTER_CS, 0n, 1n]) },
  'msr-load.wrmsr-would-succeed': { failing: msrEntries([BigInt(MSR.IA32_VMX_BASIC)], [BigInt(MSR.IA32_FEATURE_CONTROL)]) },
};

/** Providers for the event-injection, host-state, address-space-size and MSR-load checks. */
export const HOST_PERTURBATIONS: ProviderTable = { ...EVENT_INJECTION, ...HOST_STATE, ...ADDRESS_SPACE, ...MSR_LOAD };
