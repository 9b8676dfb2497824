/**
 * The decision points of event delivery through the guest IDT, and the outcome type every
 * delivery step returns: a value, or a stop naming the rule at which the model stops following
 * the event (a fault during delivery, or a feature the model does not follow).
 *
 * A stop is never an architectural outcome the model picks: it is "not modelled". The nested
 * exception a fault during delivery raises would go through the exception bitmap (a VM exit with
 * IDT-vectoring information, or delivery of the nested exception, or #DF, or a triple fault: SDM
 * Vol. 3C, December 2023, §27.6.1.2 "VM Exits During Event Injection"; Vol. 3A §6.15 "Exception
 * and Interrupt Reference", Interrupt 8); following it is the next step for the model.
 */
import { sdm } from '../../spec/citation.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';

const I = 'event delivery';
const IA32E = sdm('6.14', 'Exception and Interrupt Handling in 64-bit Mode', '3A');
const HANDLING = sdm('6.12', 'Exception and Interrupt Handling', '3A');
const PAGING_ACCESS = sdm('4.6', 'Access Rights', '3A');

/** The decision points of event delivery. */
export const EVENT_DELIVERY_RULES = {
  ia32e: rule('event-delivery.ia32e', I, IA32E, 'IA-32e mode: the 16-byte interrupt or trap gate, the 64-bit code segment, the stack (TSS RSPn on a privilege change, IST when the gate names one) aligned to 16 bytes, SS:RSP, RFLAGS, CS:RIP and the error code pushed as 8-byte values; the guest goes on at the handler'),
  protectedMode: rule('event-delivery.protected-mode', I, HANDLING, 'protected mode: the 8-byte 32-bit interrupt or trap gate, the code segment, a stack switch from the 32-bit TSS on a privilege change (SS:ESP pushed), EFLAGS, CS, EIP and the error code pushed as 4-byte values; the guest goes on at the handler'),
  realAddress: rule('event-delivery.real-address-mode', I, sdm('21.1.4', 'Interrupt and Exception Handling', '3B'), 'real-address mode: the 4-byte IVT entry at IDTR base + 4 × vector, FLAGS, CS and IP pushed as 2-byte values, IF, TF and AC cleared; the guest goes on at the handler'),

  nestedGp: rule('event-delivery.nested-gp', I, HANDLING, 'delivery raises #GP (the gate beyond the IDT limit or of a wrong type, a software interrupt through a gate with DPL < CPL, a bad handler code segment or offset): the nested exception is not modelled'),
  nestedNp: rule('event-delivery.nested-np', I, HANDLING, 'delivery raises #NP (the gate or the handler code segment not present): the nested exception is not modelled'),
  nestedStack: rule('event-delivery.nested-ss-ts', I, HANDLING, 'delivery raises #SS or #TS (the new stack pointer beyond the TSS limit, a bad stack segment, a push beyond the stack limit or non-canonical): the nested exception is not modelled'),
  nestedPf: rule('event-delivery.nested-pf', I, PAGING_ACCESS, 'an access of the delivery (IDT, GDT, TSS, stack) page-faults (entry not present, reserved bit set, access rights): the nested page fault is not modelled'),
  eptViolation: rule('event-delivery.ept-violation', I, sdm('29.3.3', 'EPT-Induced VM Exits'), 'an access of the delivery causes an EPT violation (a VM exit with IDT-vectoring information): not modelled'),
  eptMisconfiguration: rule('event-delivery.ept-misconfiguration', I, sdm('29.3.3', 'EPT-Induced VM Exits'), 'an access of the delivery meets an EPT misconfiguration (a VM exit with IDT-vectoring information): not modelled'),

  virtual8086: rule('event-delivery.virtual-8086', I, sdm('21.3', 'Interrupt and Exception Handling in Virtual-8086 Mode', '3B'), 'the guest is in virtual-8086 mode (RFLAGS.VM = 1): delivery to a protected-mode handler or through VME redirection is not modelled'),
  taskGate: rule('event-delivery.task-gate', I, sdm('6.12.2', 'Interrupt Tasks', '3A'), 'the IDT entry is a task gate: the task switch is not modelled'),
  gate16: rule('event-delivery.16-bit-gate', I, HANDLING, 'the IDT entry is a 16-bit interrupt or trap gate (outside IA-32e mode): 16-bit delivery is not modelled'),
  ldt: rule('event-delivery.ldt-selector', I, sdm('3.4.2', 'Segment Selectors', '3A'), 'a selector the delivery loads references the LDT (TI = 1): not modelled'),
  fiveLevel: rule('event-delivery.five-level-paging', I, sdm('4.5', '4-Level Paging and 5-Level Paging', '3A'), 'the guest uses 5-level paging (CR4.LA57 = 1) or EPT with a 5-level walk: not modelled'),
  feature: rule('event-delivery.feature-not-modelled', I, PAGING_ACCESS, 'the delivery depends on a feature the model does not follow: CET shadow stacks (CR4.CET), protection keys (CR4.PKE/PKS), 1-GByte guest pages (support not in the profile), XD set with IA32_EFER.NXE unknown, page-modification logging, sub-page write permissions, the APIC-access page, an expand-down stack segment, a 16-bit TSS'),
  stateUnknown: rule('event-delivery.state-unknown', I, HANDLING, 'a register the delivery reads (IDTR, GDTR, TR, CS, SS, RSP, RFLAGS, RIP, the PAE PDPTEs) is unknown to the model: the handler state cannot be built'),
  returnAddressUnknown: rule('event-delivery.return-address-unknown', I, sdm('6.5', 'Exception Classifications', '3A'), 'the exception operation does not say what the pushed RIP or RF would be: #BP and #OF are traps (RIP after an instruction of unknown length), #DB may be a fault or a trap, #DF and #MC are aborts'),
} as const;

/** A delivery step that cannot go on: the rule naming why. */
export interface Stop {
  readonly stop: Rule;
}

/** A stop at `rule`. */
export function stopAt(rule: Rule): Stop {
  return { stop: rule };
}

/** True when `value` is a {@link Stop}. */
export function isStop(value: unknown): value is Stop {
  return typeof value === 'object' && value !== null && 'stop' in value;
}

/** The rules at which delivery stops (each is not modelled). */
export const DELIVERY_STOP_RULES: ReadonlySet<Rule> = new Set(
  Object.values(EVENT_DELIVERY_RULES).filter((each) => each !== EVENT_DELIVERY_RULES.ia32e && each !== EVENT_DELIVERY_RULES.protectedMode && each !== EVENT_DELIVERY_RULES.realAddress),
);
