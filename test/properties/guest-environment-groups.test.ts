import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { evaluate } from '../../model/vm-entry/check.ts';
import { runDifferential } from '../../properties/differential.ts';
import { eventGroupOperations } from '../../properties/generators/event-steps.ts';
import { entryDeliveredVectors, userSegmentFields, VALID_GATE } from '../../properties/generators/guest-environment.ts';
import { vmEntrySteps } from '../../properties/generators/vm-entry-steps.ts';
import { exitGroupPlan, guestFaultVectors, vmExitSteps } from '../../properties/generators/vm-exit-steps.ts';
import { buildMemory, buildVmcs, memoryReader, supportedOptions, type BuildOptions } from '../../properties/generators/vmcs-builder.ts';
import { builtEnvironment, modelledRules, viewWith } from '../../properties/generators/vmcs-perturb.ts';
import { FIELD } from '../../spec/fields.ts';
import { GUEST_LAYOUT } from '../../spec/guest-layout.ts';
import { toHex } from '../../spec/hex.ts';
import type { Operation } from '../../spec/operations.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { accessRightsOf, descriptorAt, gateAt, wordsOf, type Words } from './guest-environment-decoder.ts';

const skylake = loadProfile('skylake');
const OPTIONS = supportedOptions(skylake);

/** The write-memory steps of `ops` before index `end`, as memory. */
function memoryBefore(ops: readonly Operation[], end: number): Words {
  return wordsOf(ops.slice(0, end).flatMap((op) => (op.kind === 'write-memory' ? [{ address: BigInt(op.address), value: BigInt(op.value) }] : [])));
}

const inRange = (op: Operation, low: bigint, high: bigint): boolean => op.kind === 'write-memory' && BigInt(op.address) >= low && BigInt(op.address) < high;
/** A store into the IDTs or the vector table. */
const isGateWrite = (op: Operation): boolean => inRange(op, GUEST_LAYOUT.idt64, GUEST_LAYOUT.stackPage);
/** A store into the environment's own pages (not the guest CR3 page the builder also writes). */
const isEnvironmentWrite = (op: Operation): boolean => inRange(op, GUEST_LAYOUT.pdpt, GUEST_LAYOUT.eptPd + 0x1000n) || inRange(op, GUEST_LAYOUT.eptPml4, GUEST_LAYOUT.eptPml4 + 0x1000n);
const INFO = toHex(BigInt(FIELD.VM_ENTRY_INTERRUPTION_INFORMATION));

/** Whether `m` holds a gate (an interrupt or trap gate, present or perturbed) or a vector-table entry for `vector` in one of the layout's tables. */
function gateWritten(m: Words, vector: number): boolean {
  const v = BigInt(vector);
  const gate = (g: { type: number; offset: bigint }) => (g.type === 0xe || g.type === 0xf) && g.offset === GUEST_LAYOUT.handlers + 16n * v;
  return gate(gateAt(m, GUEST_LAYOUT.idt64 + 16n * v, true)) || gate(gateAt(m, GUEST_LAYOUT.idt32 + 8n * v, false)) || m(GUEST_LAYOUT.ivt + 4n * v) !== 0n;
}

describe('the step groups lay out the environment where a delivery may happen', () => {
  it('VM-exit groups: an injected event finds its gate, and the guest\'s own faults find theirs before the VMLAUNCH', () => {
    let injections = 0;
    for (const ops of fc.sample(vmExitSteps(skylake, 0), { seed: 11, numRuns: 150 })) {
      for (const [i, op] of ops.entries()) {
        if (op.kind !== 'vmwrite' || op.encoding !== INFO || (BigInt(op.value) & 0x8000_0000n) === 0n) continue;
        injections += 1;
        const vector = BigInt(op.value) & 0xffn;
        expect(gateAt(memoryBefore(ops, i), GUEST_LAYOUT.idt64 + 16n * vector, true).offset).toBe(GUEST_LAYOUT.handlers + 16n * vector);
      }
    }
    expect(injections).toBeGreaterThan(3);
    for (const plan of fc.sample(exitGroupPlan(skylake, 0), { seed: 12, numRuns: 60 })) {
      const first = plan.rounds[0]?.op as Operation;
      for (const vector of guestFaultVectors(plan.setup, first)) expect(((plan.setup.exceptionBitmap >>> vector) & 1) === 0 || vector === 14).toBe(true);
    }
  });

  it('event groups: a pending debug exception that does not exit finds the #DB gate', () => {
    const options = OPTIONS.find((o) => o.guest === '64-bit' && !o.ept) as BuildOptions;
    const draw = {
      interruptWindow: false, interruptsEnabled: false, nmiWindow: false, virtualNmiBlocking: false, mtf: false, pendingMtf: false, timer: false,
      timerValue: 0n, tpr: false, virtualizeApicAccesses: false, threshold: 0n, vtpr: 0, pendingDebug: 0x4000n, debugExits: false, blocking: 'none' as const,
      activity: 0n, clearAfter: false, guestOps: ['pause' as const], gates: [VALID_GATE], user: false,
    };
    const ops = eventGroupOperations(skylake, 0, options, draw);
    const launch = ops.findIndex((op) => op.kind === 'vmlaunch');
    expect(gateAt(memoryBefore(ops, launch), GUEST_LAYOUT.idt64 + 16n, true)).toMatchObject({ p: 1, offset: GUEST_LAYOUT.handlers + 16n });
    const exiting = eventGroupOperations(skylake, 0, options, { ...draw, debugExits: true });
    expect(exiting.some((op) => isGateWrite(op) || isEnvironmentWrite(op))).toBe(false);
  });

  it('event groups at CPL 3: HLT\'s #GP finds its gate, and the user segments the VMCS loads are in the GDT', () => {
    for (const options of [OPTIONS.find((o) => o.guest === '64-bit' && !o.ept), OPTIONS.find((o) => o.guest === '32-bit' && !o.ept)] as BuildOptions[]) {
      const draw = {
        interruptWindow: false, interruptsEnabled: false, nmiWindow: false, virtualNmiBlocking: false, mtf: false, pendingMtf: false, timer: false,
        timerValue: 0n, tpr: false, virtualizeApicAccesses: false, threshold: 0n, vtpr: 0, pendingDebug: 0n, debugExits: true, blocking: 'none' as const,
        activity: 0n, clearAfter: false, guestOps: ['hlt' as const], gates: [VALID_GATE], user: true,
      };
      const ops = eventGroupOperations(skylake, 0, options, draw);
      const launch = ops.findIndex((op) => op.kind === 'vmlaunch');
      const m = memoryBefore(ops, launch);
      const written = new Map(ops.slice(0, launch).flatMap((op) => (op.kind === 'vmwrite' ? [[Number(op.encoding), BigInt(op.value)] as const] : [])));
      const gdtr = written.get(FIELD.GUEST_GDTR_BASE) as bigint;
      for (const seg of ['CS', 'SS'] as const) {
        const selector = written.get(FIELD[`GUEST_${seg}_SELECTOR`]) as bigint;
        expect(selector & 3n).toBe(3n);
        expect(accessRightsOf(descriptorAt(m, gdtr + (selector & ~7n)))).toBe(written.get(FIELD[`GUEST_${seg}_ACCESS_RIGHTS`]));
      }
      expect(gateWritten(m, 13)).toBe(true);
      const values = new Map(buildVmcs(skylake, options));
      for (const [field, value] of userSegmentFields(options.guest)) values.set(field, value);
      const env = { ...builtEnvironment(skylake), readMemory32: memoryReader(buildMemory(skylake, options)) };
      const failing = modelledRules().map((rule) => ({ id: rule.id, kind: evaluate(rule, viewWith(values), env).kind })).filter((r) => r.kind !== 'pass' && r.kind !== 'not-applicable');
      expect(failing, options.guest).toEqual([]);
      const quiet = eventGroupOperations(skylake, 0, options, { ...draw, guestOps: ['pause'] });
      expect(quiet.some(isGateWrite)).toBe(false);
    }
  });

  it('VM-entry groups: the vectors an entry delivers are the injected event\'s (NMI: 2; other event: none) and a pending #DB\'s', () => {
    const values = (entries: [string, bigint][]) => new Map(entries) as Parameters<typeof entryDeliveredVectors>[0];
    expect(entryDeliveredVectors(values([['VM_ENTRY_INTERRUPTION_INFORMATION', 0x8000_0b0dn]]))).toEqual([13]);
    expect(entryDeliveredVectors(values([['VM_ENTRY_INTERRUPTION_INFORMATION', 0x8000_0202n]]))).toEqual([2]);
    expect(entryDeliveredVectors(values([['VM_ENTRY_INTERRUPTION_INFORMATION', 0x8000_0700n]]))).toEqual([]);
    expect(entryDeliveredVectors(values([['VM_ENTRY_INTERRUPTION_INFORMATION', 0x0000_0b0dn]]))).toEqual([]);
    expect(entryDeliveredVectors(values([['GUEST_PENDING_DEBUG_EXCEPTIONS', 0x4000n]]))).toEqual([1]);
    expect(entryDeliveredVectors(values([['GUEST_PENDING_DEBUG_EXCEPTIONS', 0x4000n], ['EXCEPTION_BITMAP', 2n]]))).toEqual([]);
  });

  it('VM-entry groups: every entry that injects an event finds its gate in memory; groups that deliver nothing write no environment', () => {
    let delivering = 0;
    let quiet = 0;
    for (const ops of fc.sample(vmEntrySteps(skylake, 0), { seed: 13, numRuns: 120 })) {
      if (!ops.some(isGateWrite)) {
        quiet += 1;
        expect(ops.some(isEnvironmentWrite)).toBe(false);
      }
      const outcome = runDifferential(createImplEngine({ profile: skylake.data, logicalProcessors: 1 }), skylake, 1, ops);
      for (const record of outcome.steps) {
        const injected = record.observation?.kind === 'vmentry' ? record.observation.injected : undefined;
        if (injected === undefined || injected.type === 7) continue;
        expect(gateWritten(memoryBefore(ops, record.index), injected.vector), `vector ${injected.vector}`).toBe(true);
        delivering += 1;
      }
    }
    expect(delivering).toBeGreaterThan(0);
    expect(quiet).toBeGreaterThan(delivering);
  });
});
