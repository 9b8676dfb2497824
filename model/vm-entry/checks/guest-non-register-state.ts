/**
 * Checks on the guest non-register state, in the order of SDM Vol. 3C (December 2023) §27.3.1.5
 * "Checks on Guest Non-Register State" (2016: §26.3.1.5, and the c.2009 §22.3.1.5, the editions
 * the catalogue read): activity state, interruptibility state, pending debug exceptions, VMCS
 * link pointer, then UINV (corroborated in Bochs). A failure is a VM-entry failure, exit reason
 * 33, qualification 0, except 3 for an NMI injected under blocking by STI and 4 for the VMCS link
 * pointer (the catalogue carries each check's qualification). Each rule is named by its catalogue
 * id; the condition in words and the citation are in spec/entry-checks/guest-non-register-state.ts.
 *
 * Freedom the SDM leaves and facts the profile lacks make a check `may-fail`: an NMI injected
 * under blocking by STI fails only "on some processors"; enclave interruption needs SGX, which the
 * profile does not record. The model assumes no SMM (state.ts) unless the environment says so.
 */
import { ENTRY_CONTROL, PIN_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import {
  ACTIVITY_STATE,
  CR4,
  DEBUGCTL,
  INTERRUPTIBILITY_RESERVED,
  INTERRUPTION_TYPE,
  LINK_POINTER_UNUSED,
  PENDING_DEBUG,
  PENDING_DEBUG_RESERVED,
  RFLAGS,
  SHADOW_VMCS_INDICATOR,
  VECTOR,
} from '../../../spec/guest-state-bits.ts';
import { VMX_MISC } from '../../../spec/capability-msrs.ts';
import { bitOf } from '../../non-root.ts';
import { withinPhysicalWidth } from '../addresses.ts';
import { check, mayFail, unknown } from '../check.ts';
import type { CheckEnvironment, EntryRule, Holds } from '../check.ts';
import {
  blockingByMovSs,
  blockingByNmi,
  blockingBySmi,
  blockingBySti,
  dplOf,
  enclaveInterruption,
  ia32eModeGuest,
  injectedEvent,
  injects,
  inSmm,
  secondaryControl,
} from '../guest-facts.ts';

/** IA32_VMX_MISC bit saying activity state `state` (1..3) is supported. */
const ACTIVITY_SUPPORT_BIT: Readonly<Record<string, number>> = {
  [String(ACTIVITY_STATE.HLT)]: VMX_MISC.ACTIVITY_HLT,
  [String(ACTIVITY_STATE.SHUTDOWN)]: VMX_MISC.ACTIVITY_SHUTDOWN,
  [String(ACTIVITY_STATE.WAIT_FOR_SIPI)]: VMX_MISC.ACTIVITY_WAIT_FOR_SIPI,
};

/** True when the processor supports activity state `state` (active always; others per IA32_VMX_MISC). */
function activitySupported(state: bigint, env: CheckEnvironment): boolean {
  if (state === ACTIVITY_STATE.ACTIVE) return true;
  const support = ACTIVITY_SUPPORT_BIT[String(state)];
  return support !== undefined && bitOf(BigInt(env.profile.data.msrs.IA32_VMX_MISC), support);
}

/** True when the event `info` injects may be injected into a guest in HLT. */
function injectableInHlt(info: bigint): boolean {
  const event = injectedEvent(info);
  if (event === undefined) return true;
  switch (event.type) {
    case INTERRUPTION_TYPE.EXTERNAL_INTERRUPT:
    case INTERRUPTION_TYPE.NMI:
      return true;
    case INTERRUPTION_TYPE.HARDWARE_EXCEPTION:
      return event.vector === VECTOR.DB || event.vector === VECTOR.MC;
    case INTERRUPTION_TYPE.OTHER_EVENT:
      return event.vector === VECTOR.PENDING_MTF;
    default:
      return false;
  }
}

/** True when the event `info` injects may be injected into a guest in shutdown. */
function injectableInShutdown(info: bigint): boolean {
  const event = injectedEvent(info);
  if (event === undefined) return true;
  return event.type === INTERRUPTION_TYPE.NMI || (event.type === INTERRUPTION_TYPE.HARDWARE_EXCEPTION && event.vector === VECTOR.MC);
}

/** The pending-debug BS rules apply under blocking by STI or MOV SS, or in HLT. */
const blockingOrHlt = {
  fields: ['GUEST_INTERRUPTIBILITY_STATE', 'GUEST_ACTIVITY_STATE'] as const,
  test: (f: { GUEST_INTERRUPTIBILITY_STATE: bigint; GUEST_ACTIVITY_STATE: bigint }) =>
    blockingBySti(f.GUEST_INTERRUPTIBILITY_STATE) || blockingByMovSs(f.GUEST_INTERRUPTIBILITY_STATE) || f.GUEST_ACTIVITY_STATE === ACTIVITY_STATE.HLT,
};

/** True when a single step is pending: RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0. */
const singleStepPending = (f: { GUEST_RFLAGS: bigint; GUEST_IA32_DEBUGCTL: bigint }): boolean =>
  bitOf(f.GUEST_RFLAGS, RFLAGS.TF) && !bitOf(f.GUEST_IA32_DEBUGCTL, DEBUGCTL.BTF);

/** The link-pointer checks apply when the pointer is in use. */
const linkInUse = {
  fields: ['VMCS_LINK_POINTER'] as const,
  test: (f: { VMCS_LINK_POINTER: bigint }) => f.VMCS_LINK_POINTER !== LINK_POINTER_UNUSED,
};

/** The first 32 bits of the region the link pointer references (read from its 4-byte-aligned address). */
function linkHeader(pointer: bigint, env: CheckEnvironment): number | undefined {
  return env.readMemory32(pointer & ~3n);
}

const ACTIVITY: EntryRule[] = [
  check('guest-non-register-state.activity-state-supported', {
    fields: ['GUEST_ACTIVITY_STATE'],
    holds: (f, env) => activitySupported(f.GUEST_ACTIVITY_STATE, env),
  }),
  check('guest-non-register-state.activity-hlt-requires-ss-dpl-0', {
    fields: ['GUEST_ACTIVITY_STATE', 'GUEST_SS_ACCESS_RIGHTS'],
    holds: (f) => f.GUEST_ACTIVITY_STATE !== ACTIVITY_STATE.HLT || dplOf(f.GUEST_SS_ACCESS_RIGHTS) === 0n,
  }),
  check('guest-non-register-state.activity-active-when-blocking', {
    fields: ['GUEST_ACTIVITY_STATE', 'GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) =>
      !(blockingBySti(f.GUEST_INTERRUPTIBILITY_STATE) || blockingByMovSs(f.GUEST_INTERRUPTIBILITY_STATE)) ||
      f.GUEST_ACTIVITY_STATE === ACTIVITY_STATE.ACTIVE,
  }),
  check('guest-non-register-state.injection-in-hlt', {
    when: { fields: ['GUEST_ACTIVITY_STATE'], test: (f) => f.GUEST_ACTIVITY_STATE === ACTIVITY_STATE.HLT },
    fields: ['VM_ENTRY_INTERRUPTION_INFORMATION'],
    holds: (f) => injectableInHlt(f.VM_ENTRY_INTERRUPTION_INFORMATION),
  }),
  check('guest-non-register-state.injection-in-shutdown', {
    when: { fields: ['GUEST_ACTIVITY_STATE'], test: (f) => f.GUEST_ACTIVITY_STATE === ACTIVITY_STATE.SHUTDOWN },
    fields: ['VM_ENTRY_INTERRUPTION_INFORMATION'],
    holds: (f) => injectableInShutdown(f.VM_ENTRY_INTERRUPTION_INFORMATION),
  }),
  check('guest-non-register-state.injection-in-wait-for-sipi', {
    when: { fields: ['GUEST_ACTIVITY_STATE'], test: (f) => f.GUEST_ACTIVITY_STATE === ACTIVITY_STATE.WAIT_FOR_SIPI },
    fields: ['VM_ENTRY_INTERRUPTION_INFORMATION'],
    holds: (f) => injectedEvent(f.VM_ENTRY_INTERRUPTION_INFORMATION) === undefined,
  }),
  check('guest-non-register-state.wait-for-sipi-not-entering-smm', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.ENTRY_TO_SMM) },
    fields: ['GUEST_ACTIVITY_STATE'],
    holds: (f) => f.GUEST_ACTIVITY_STATE !== ACTIVITY_STATE.WAIT_FOR_SIPI,
  }),
];

/** A `when` over the interruption-information field: the entry injects an event of `type`. */
const injecting = (type: bigint) => ({
  fields: ['VM_ENTRY_INTERRUPTION_INFORMATION'] as const,
  test: (f: { VM_ENTRY_INTERRUPTION_INFORMATION: bigint }) => injects(f.VM_ENTRY_INTERRUPTION_INFORMATION, type),
});
const injectingNmi = injecting(INTERRUPTION_TYPE.NMI);
const injectingExternalInterrupt = injecting(INTERRUPTION_TYPE.EXTERNAL_INTERRUPT);

/** Enclave interruption (bit 4) exists only with SGX, which the profile does not record. */
function enclaveBitAllowed(interruptibility: bigint): Holds {
  return enclaveInterruption(interruptibility) ? mayFail('enclave interruption (bit 4) is reserved unless the processor supports SGX, which the profile does not record') : true;
}

const INTERRUPTIBILITY: EntryRule[] = [
  check('guest-non-register-state.interruptibility-reserved', {
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => (f.GUEST_INTERRUPTIBILITY_STATE & INTERRUPTIBILITY_RESERVED) === 0n && enclaveBitAllowed(f.GUEST_INTERRUPTIBILITY_STATE),
  }),
  check('guest-non-register-state.sti-and-mov-ss-exclusive', {
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => !(blockingBySti(f.GUEST_INTERRUPTIBILITY_STATE) && blockingByMovSs(f.GUEST_INTERRUPTIBILITY_STATE)),
  }),
  check('guest-non-register-state.sti-blocking-requires-if', {
    fields: ['GUEST_INTERRUPTIBILITY_STATE', 'GUEST_RFLAGS'],
    holds: (f) => bitOf(f.GUEST_RFLAGS, RFLAGS.IF) || !blockingBySti(f.GUEST_INTERRUPTIBILITY_STATE),
  }),
  check('guest-non-register-state.sti-blocking-vs-external-interrupt', {
    when: injectingExternalInterrupt,
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => !blockingBySti(f.GUEST_INTERRUPTIBILITY_STATE),
  }),
  check('guest-non-register-state.mov-ss-blocking-vs-external-interrupt', {
    when: injectingExternalInterrupt,
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => !blockingByMovSs(f.GUEST_INTERRUPTIBILITY_STATE),
  }),
  check('guest-non-register-state.mov-ss-blocking-vs-nmi', {
    when: injectingNmi,
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => !blockingByMovSs(f.GUEST_INTERRUPTIBILITY_STATE),
  }),
  check('guest-non-register-state.smi-blocking-outside-smm', {
    when: { fields: [], test: (_f, env) => !inSmm(env) },
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => !blockingBySmi(f.GUEST_INTERRUPTIBILITY_STATE),
  }),
  check('guest-non-register-state.smi-blocking-entering-smm', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.ENTRY_TO_SMM) },
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => blockingBySmi(f.GUEST_INTERRUPTIBILITY_STATE),
  }),
  check('guest-non-register-state.sti-blocking-vs-nmi', {
    when: injectingNmi,
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) =>
      !blockingBySti(f.GUEST_INTERRUPTIBILITY_STATE) || mayFail('some processors require blocking by STI to be 0 when injecting an NMI; others accept the entry'),
  }),
  check('guest-non-register-state.nmi-blocking-vs-virtual-nmi', {
    when: {
      fields: ['PIN_BASED_CONTROLS', 'VM_ENTRY_INTERRUPTION_INFORMATION'],
      test: (f) => bitOf(f.PIN_BASED_CONTROLS, PIN_CONTROL.VIRTUAL_NMIS) && injectingNmi.test(f),
    },
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => !blockingByNmi(f.GUEST_INTERRUPTIBILITY_STATE),
  }),
  check('guest-non-register-state.enclave-interruption-vs-mov-ss', {
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => !(enclaveInterruption(f.GUEST_INTERRUPTIBILITY_STATE) && blockingByMovSs(f.GUEST_INTERRUPTIBILITY_STATE)),
  }),
  check('guest-non-register-state.enclave-interruption-requires-sgx', {
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => enclaveBitAllowed(f.GUEST_INTERRUPTIBILITY_STATE),
  }),
  check('guest-non-register-state.sti-blocking-fred', {
    when: {
      fields: ['VM_ENTRY_CONTROLS', 'GUEST_CR4'],
      test: (f) => ia32eModeGuest(f.VM_ENTRY_CONTROLS) && bitOf(f.GUEST_CR4, CR4.FRED),
    },
    fields: ['GUEST_SS_ACCESS_RIGHTS', 'GUEST_INTERRUPTIBILITY_STATE'],
    holds: (f) => dplOf(f.GUEST_SS_ACCESS_RIGHTS) !== 3n || !blockingBySti(f.GUEST_INTERRUPTIBILITY_STATE),
  }),
];

const PENDING_DEBUG_EXCEPTIONS: EntryRule[] = [
  check('guest-non-register-state.pending-debug-reserved', {
    fields: ['GUEST_PENDING_DEBUG_EXCEPTIONS'],
    holds: (f) => (f.GUEST_PENDING_DEBUG_EXCEPTIONS & PENDING_DEBUG_RESERVED) === 0n,
  }),
  check('guest-non-register-state.pending-debug-bs-set', {
    when: blockingOrHlt,
    fields: ['GUEST_PENDING_DEBUG_EXCEPTIONS', 'GUEST_RFLAGS', 'GUEST_IA32_DEBUGCTL'],
    holds: (f) => !singleStepPending(f) || bitOf(f.GUEST_PENDING_DEBUG_EXCEPTIONS, PENDING_DEBUG.BS),
  }),
  check('guest-non-register-state.pending-debug-bs-clear', {
    when: blockingOrHlt,
    fields: ['GUEST_PENDING_DEBUG_EXCEPTIONS', 'GUEST_RFLAGS', 'GUEST_IA32_DEBUGCTL'],
    holds: (f) => singleStepPending(f) || !bitOf(f.GUEST_PENDING_DEBUG_EXCEPTIONS, PENDING_DEBUG.BS),
  }),
];

const LINK_POINTER: EntryRule[] = [
  check('guest-non-register-state.link-pointer-aligned', {
    when: linkInUse,
    fields: ['VMCS_LINK_POINTER'],
    holds: (f) => (f.VMCS_LINK_POINTER & 0xfffn) === 0n,
  }),
  check('guest-non-register-state.link-pointer-physical-width', {
    when: linkInUse,
    fields: ['VMCS_LINK_POINTER'],
    holds: (f, env) => withinPhysicalWidth(f.VMCS_LINK_POINTER, env),
  }),
  check('guest-non-register-state.link-pointer-revision', {
    when: linkInUse,
    fields: ['VMCS_LINK_POINTER'],
    holds: (f, env) => {
      const header = linkHeader(f.VMCS_LINK_POINTER, env);
      if (header === undefined) return unknown('the first 32 bits of the region the VMCS link pointer references');
      return (header & 0x7fff_ffff) === env.profile.revisionId;
    },
  }),
  check('guest-non-register-state.link-pointer-shadow-indicator', {
    when: linkInUse,
    fields: ['VMCS_LINK_POINTER', 'PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f, env) => {
      const header = linkHeader(f.VMCS_LINK_POINTER, env);
      if (header === undefined) return unknown('the first 32 bits of the region the VMCS link pointer references');
      const shadowing = secondaryControl(f.PRIMARY_PROCESSOR_BASED_CONTROLS, f.SECONDARY_PROCESSOR_BASED_CONTROLS, SECONDARY_CONTROL.VMCS_SHADOWING);
      return bitOf(BigInt(header), SHADOW_VMCS_INDICATOR) === shadowing;
    },
  }),
  check('guest-non-register-state.link-pointer-not-current-vmcs', {
    when: {
      fields: ['VMCS_LINK_POINTER', 'VM_ENTRY_CONTROLS'],
      test: (f, env) => linkInUse.test(f) && (!inSmm(env) || bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.ENTRY_TO_SMM)),
    },
    fields: ['VMCS_LINK_POINTER'],
    holds: (f, env) =>
      env.currentVmcsPointer === undefined ? unknown('the current-VMCS pointer') : f.VMCS_LINK_POINTER !== env.currentVmcsPointer,
  }),
  check('guest-non-register-state.link-pointer-not-executive-vmcs', {
    when: {
      fields: ['VMCS_LINK_POINTER', 'VM_ENTRY_CONTROLS'],
      test: (f, env) => linkInUse.test(f) && inSmm(env) && !bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.ENTRY_TO_SMM),
    },
    fields: ['VMCS_LINK_POINTER', 'EXECUTIVE_VMCS_POINTER'],
    holds: (f) => f.VMCS_LINK_POINTER !== f.EXECUTIVE_VMCS_POINTER,
  }),
];

const LATER_ADDITIONS: EntryRule[] = [
  check('guest-non-register-state.uinv-high-zero', {
    when: { fields: ['VM_ENTRY_CONTROLS'], test: (f) => bitOf(f.VM_ENTRY_CONTROLS, ENTRY_CONTROL.LOAD_UINV) },
    fields: ['GUEST_UINV'],
    holds: (f) => (f.GUEST_UINV & 0xff00n) === 0n,
  }),
];

/** The guest non-register-state checks, in SDM order. */
export const GUEST_NON_REGISTER_STATE_RULES: readonly EntryRule[] = [
  ...ACTIVITY,
  ...INTERRUPTIBILITY,
  ...PENDING_DEBUG_EXCEPTIONS,
  ...LINK_POINTER,
  ...LATER_ADDITIONS,
];
