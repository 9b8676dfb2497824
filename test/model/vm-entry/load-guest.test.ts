/**
 * Guest-state loading on a successful VM entry, from SDM Vol. 3C, December 2023, §27.3.2 "Loading
 * Guest State" (CR0 except ET, NW, CD and reserved bits; CR4; IA32_EFER.LMA from "IA-32e mode
 * guest"; CS.L; CPL = SS.DPL; RFLAGS), §27.7.1 "Interruptibility State" (MOV-SS blocking for one
 * instruction), §27.7.2 "Activity State", §27.6 "Event Injection", and §31.3 VMLAUNCH/VMRESUME
 * (VMLAUNCH makes the VMCS launched); then the existing non-root rules: VMREAD in compatibility
 * mode #UD, in 64-bit mode a VM exit (§31.3 VMREAD).
 */
import { describe, expect, it } from 'vitest';
import type { ModelState } from '../../../model/index.ts';
import { cpuOf } from '../../../model/state.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import { afterSuccessfulEntry, loadGuestState } from '../../../model/vm-entry/load-guest.ts';
import { environmentOf } from '../../../model/vm-entry/view.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { ARITHMETIC_FLAGS } from '../../../spec/observations.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { exit, expectNotModelled, expectOnly, hex, RULES_HIT, ud } from '../helpers.ts';
import { DELIVERY_FIELDS, handlerOf, withDeliveryMemory } from '../event-delivery/setup.ts';
import { currentView, ENTRY_64, GUEST_64 } from './entry-fixtures.ts';
import { vmcsWith } from './helpers.ts';

const vmreadExitReason = { kind: 'vmread', cpu: 0, encoding: '0x4402' } as const;

function load(fields: Partial<Record<FieldName, bigint>>): { state: ModelState; flags: number; rule: string } {
  const state = vmcsWith(fields);
  const loaded = loadGuestState(state, 0, currentView(state));
  if (loaded.kind !== 'loaded') throw new Error(`missing ${loaded.kind === 'unknown' ? loaded.missing.join(', ') : ''}`);
  RULES_HIT.add(loaded.rule.id);
  return { state: loaded.state, flags: loaded.flags, rule: loaded.rule.id };
}

describe('guest-state loading', () => {
  it('64-bit guest: non-root, IA-32e mode with CS.L = 1, CPL 0, flags from guest RFLAGS (CF, ZF)', () => {
    const { state, flags, rule } = load(GUEST_64);
    expect(rule).toBe('vm-entry.guest-runs');
    expect(flags).toBe(ARITHMETIC_FLAGS.CF | ARITHMETIC_FLAGS.ZF);
    expect(cpuOf(state, 0)).toMatchObject({ vmx: 'non-root', eferLma: 1, csL: 1, cpl: 0, rflagsVm: 0, flags, movSsBlocking: 0 });
    expect(hex(cpuOf(state, 0).cr4)).toBe('0x20a0');
  });

  it('CR0: ET, NW, CD and the reserved bits keep their values; the rest comes from the field', () => {
    const { state } = load({ ...GUEST_64, GUEST_CR0: 0xc005_0023n });
    expect(hex(cpuOf(state, 0).cr0)).toBe('0x80050033');
  });

  it('a guest VMREAD in 64-bit mode is a VM exit (VMCS shadowing 0)', () => {
    const { state } = load(GUEST_64);
    expectOnly(state, vmreadExitReason, exit(EXIT_REASON.VMREAD), 'vmread.vm-exit-shadowing-off');
  });

  it('a guest VMREAD in compatibility mode (IA-32e mode guest, CS.L = 0) is #UD', () => {
    const { state, flags } = load({ ...GUEST_64, GUEST_CS_ACCESS_RIGHTS: 0xc09bn, EXCEPTION_BITMAP: 0n });
    expect(cpuOf(state, 0)).toMatchObject({ eferLma: 1, csL: 0 });
    expectOnly(state, vmreadExitReason, ud(flags), 'vmread.ud-compatibility-mode');
  });

  it('a 32-bit guest: LMA 0; CPL from SS.DPL (3); RFLAGS.VM from bit 17', () => {
    const { state } = load({ ...GUEST_64, VM_ENTRY_CONTROLS: ENTRY_64 & ~(1n << 9n), GUEST_SS_ACCESS_RIGHTS: 0xc0f3n, GUEST_RFLAGS: 0x2_0002n });
    expect(cpuOf(state, 0)).toMatchObject({ eferLma: 0, cpl: 3, rflagsVm: 1, flags: 0 });
  });

  it('MOV-SS blocking from the interruptibility state, for the guest\'s first instruction only', () => {
    const { state } = load({ ...GUEST_64, GUEST_INTERRUPTIBILITY_STATE: 2n });
    expect(cpuOf(state, 0).movSsBlocking).toBe(1);
    const next = expectOnly(state, vmreadExitReason, exit(EXIT_REASON.VMREAD), 'vmread.vm-exit-shadowing-off');
    expect(cpuOf(next, 0).movSsBlocking).toBe(0);
  });

  it('an inactive activity state (HLT): the entry completes, and the processor executes no later instruction (§27.7.2: it waits for an event the contract does not have)', () => {
    const { state, rule } = load({ ...GUEST_64, GUEST_ACTIVITY_STATE: 1n });
    expect(rule).toBe('vm-entry.guest-inactive');
    expect(cpuOf(state, 0).activity).toBe('hlt');
    const after = expectOnly(state, vmreadExitReason, { kind: 'inactive', activity: 'hlt', flags: cpuOf(state, 0).flags }, 'activity.inactive-guest');
    expect(after).toBe(state);
  });

  it('an injected event (#DE, hardware exception) is reported and delivered through the guest IDT: the processor goes on at the handler', () => {
    const state = withDeliveryMemory(vmcsWith({ ...GUEST_64, ...DELIVERY_FIELDS, GUEST_RIP: 0x4000n, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0300n }));
    const loaded = loadGuestState(state, 0, currentView(state));
    expect(loaded).toMatchObject({ kind: 'loaded', injected: { vector: 0, type: 3 } });
    if (loaded.kind === 'loaded') RULES_HIT.add(loaded.rule.id);
    expect(loaded.kind === 'loaded' && loaded.rule.id).toBe('vm-entry.injected-event-delivered');
    if (loaded.kind === 'loaded') expect(cpuOf(loaded.state, 0).rip).toBe(handlerOf(0));
  });

  it('an injected event whose delivery the model does not follow (a gate beyond the IDT limit: #GP) leaves the processor untracked under that rule', () => {
    const state = withDeliveryMemory(vmcsWith({ ...GUEST_64, ...DELIVERY_FIELDS, GUEST_RIP: 0x4000n, GUEST_IDTR_LIMIT: 0xfn, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0320n }));
    const loaded = loadGuestState(state, 0, currentView(state));
    expect(loaded.kind === 'loaded' && loaded.rule.id).toBe('event-delivery.nested-gp');
    if (loaded.kind === 'loaded') expect(cpuOf(loaded.state, 0).untracked?.id).toBe('event-delivery.nested-gp');
  });

  it('virtual-interrupt delivery may deliver a virtual interrupt through the guest IDT before the first instruction (§27.7.5): the entry completes, the processor is then not followed', () => {
    const { state, rule } = load({ ...GUEST_64, PRIMARY_PROCESSOR_BASED_CONTROLS: 1n << 31n, SECONDARY_PROCESSOR_BASED_CONTROLS: 1n << 9n });
    expect(rule).toBe('vm-entry.virtual-interrupt-delivery');
    expectNotModelled(state, vmreadExitReason, 'vm-entry.virtual-interrupt-delivery');
  });

  it('a field never written: nothing is loaded', () => {
    const state = vmcsWith({ ...GUEST_64, PRIMARY_PROCESSOR_BASED_CONTROLS: 1n << 31n });
    expect(loadGuestState(state, 0, currentView(state))).toEqual({ kind: 'unknown', missing: ['SECONDARY_PROCESSOR_BASED_CONTROLS'] });
  });

  it('VMLAUNCH makes the VMCS launched, VMRESUME leaves it', () => {
    const content = currentVmcs(vmcsWith({}), 0)?.content;
    if (content === undefined) throw new Error('no VMCS');
    expect(afterSuccessfulEntry(content, 'VMLAUNCH').launch).toBe('launched');
    expect(afterSuccessfulEntry(content, 'VMRESUME').launch).toBe('clear');
  });
});

