/**
 * Checks on the fields of VM-entry event injection (the VM-entry interruption-information field,
 * exception error code and instruction length), in the order of the event-injection bullet of
 * SDM Vol. 3C (December 2023) §27.2.1.3 "VM-Entry Control Fields" (2016: §26.2.1.3, read by the
 * catalogue with the 2008-era §22.2.1.3 for the instruction-length item). They apply only when
 * the valid bit (bit 31) of the interruption-information field is 1. A failure is
 * VMfailValid(7). Each rule is named by its catalogue id; the condition in words and the citation
 * are in spec/entry-checks/event-injection.ts.
 *
 * Decisions where the catalogue notes freedom or a later edition:
 * - Deliver-error-code bit. The 2016 text is one "if and only if"; later editions (December 2023,
 *   Vol. 3D A.1 "Basic VMX Information") drop the two vector-based directions on processors that
 *   report IA32_VMX_BASIC[56] = 1. The model applies `error-code-required` and
 *   `error-code-forbidden` only where IA32_VMX_BASIC[56] = 0; the guest counts as in protected
 *   mode when "unrestricted guest" is 0 or guest CR0.PE is 1, as the 2016 text says.
 * - Error-code bits 31:15. The 2008 and 2016 editions print "bits 31:15 ... are 0"; Intel
 *   confirmed that text wrong (kvm-unit-tests commit "x86: nVMX: Fix wrong reserved bits of
 *   error-code", 2019: only bits 31:16 are checked), and KVM and Bochs check 31:16. So a set bit
 *   in 31:16 fails for certain, and bit 15 alone may fail or not (`may-fail`, check.ts): both
 *   behaviours are ones a processor following one of the texts shows.
 * - Instruction length 0 is allowed exactly when IA32_VMX_MISC[30] = 1 (Vol. 3D A.6
 *   "Miscellaneous Data").
 * - FRED. No profile here supports FRED (derived.ts `fredSupported`), so the three FRED checks
 *   never apply, `other-event-vector` always does, and bit 13 is reserved like bits 30:12.
 */
import {
  CR4_FRED_BIT,
  ERROR_CODE_VECTORS,
  EXCEPTION_ERROR_CODE,
  EXCEPTION_VECTOR,
  INTERRUPTION_INFO,
  INTERRUPTION_INFO_RESERVED_MASK,
  INTERRUPTION_TYPE,
  MAX_INSTRUCTION_LENGTH,
  OTHER_EVENT_VECTOR,
} from '../../../spec/control-field-formats.ts';
import { PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { bitOf } from '../../non-root.ts';
import { check, mayFail } from '../check.ts';
import type { EntryRule, Fields } from '../check.ts';
import { errorCodeCheckRelaxed, fredSupported, interruption, protectedModeGuest, zeroLengthInjectionAllowed } from '../derived.ts';
import type { Interruption } from '../derived.ts';

const INFO = 'VM_ENTRY_INTERRUPTION_INFORMATION';
const T = INTERRUPTION_TYPE;

/** The interruption-information field, decoded, when its valid bit is 1 (else `undefined`). */
function injecting(f: Fields<typeof INFO>): Interruption | undefined {
  const event = interruption(f[INFO]);
  return event.valid ? event : undefined;
}

/** Applies when an event is injected and `test` holds of it. */
function whenInjecting(test: (event: Interruption) => boolean): { fields: readonly [typeof INFO]; test(f: Fields<typeof INFO>): boolean } {
  return {
    fields: [INFO],
    test: (f) => {
      const event = injecting(f);
      return event !== undefined && test(event);
    },
  };
}

/** Applies when an event is injected (the valid bit is 1). */
const INJECTING = whenInjecting(() => true);

const isErrorCodeVector = (vector: bigint): boolean => ERROR_CODE_VECTORS.includes(vector);
const FRED_OTHER_EVENT_VECTORS: readonly bigint[] = Object.values(OTHER_EVENT_VECTOR);
const SOFTWARE_EVENTS: readonly bigint[] = [T.SOFTWARE_INTERRUPT, T.PRIVILEGED_SOFTWARE_EXCEPTION, T.SOFTWARE_EXCEPTION];

/** The event-injection checks, in SDM order. */
export const EVENT_INJECTION_RULES: readonly EntryRule[] = [
  check('event-injection.type-not-reserved', {
    when: INJECTING,
    fields: [INFO],
    holds: (f) => interruption(f[INFO]).type !== T.RESERVED,
  }),
  check('event-injection.other-event-needs-mtf-support', {
    when: whenInjecting((event) => event.type === T.OTHER_EVENT),
    fields: [],
    holds: (_f, env) => env.profile.supportsControl('primary', PRIMARY_CONTROL.MONITOR_TRAP_FLAG),
  }),
  check('event-injection.nmi-vector', {
    when: whenInjecting((event) => event.type === T.NMI),
    fields: [INFO],
    holds: (f) => interruption(f[INFO]).vector === EXCEPTION_VECTOR.NMI,
  }),
  check('event-injection.hardware-exception-vector', {
    when: whenInjecting((event) => event.type === T.HARDWARE_EXCEPTION),
    fields: [INFO],
    holds: (f) => interruption(f[INFO]).vector <= EXCEPTION_VECTOR.LAST_EXCEPTION,
  }),
  check('event-injection.other-event-vector', {
    // On a FRED processor this applies only when guest CR4.FRED = 0; no profile here has FRED.
    when: { fields: [INFO], test: (f, env) => injecting(f)?.type === T.OTHER_EVENT && !fredSupported(env.profile) },
    fields: [INFO],
    holds: (f) => interruption(f[INFO]).vector === OTHER_EVENT_VECTOR.PENDING_MTF,
  }),
  check('event-injection.fred-other-event-vector', {
    when: { fields: [INFO], test: (f, env) => injecting(f)?.type === T.OTHER_EVENT && fredSupported(env.profile) },
    fields: [INFO, 'GUEST_CR4'],
    holds: (f) => !bitOf(f.GUEST_CR4, CR4_FRED_BIT) || FRED_OTHER_EVENT_VECTORS.includes(interruption(f[INFO]).vector),
  }),
  check('event-injection.error-code-only-for-hardware-exceptions', {
    when: whenInjecting((event) => event.deliverErrorCode),
    fields: [INFO],
    holds: (f) => interruption(f[INFO]).type === T.HARDWARE_EXCEPTION,
  }),
  check('event-injection.error-code-only-in-protected-mode', {
    when: whenInjecting((event) => event.deliverErrorCode),
    fields: ['SECONDARY_PROCESSOR_BASED_CONTROLS', 'GUEST_CR0'],
    holds: (f) => protectedModeGuest(f.SECONDARY_PROCESSOR_BASED_CONTROLS, f.GUEST_CR0),
  }),
  // Applies only where IA32_VMX_BASIC[56] = 0: with it set, any vector may go with or without an error code.
  check('event-injection.error-code-required', {
    when: {
      fields: [INFO],
      test: (f, env) => {
        const event = injecting(f);
        return event?.type === T.HARDWARE_EXCEPTION && isErrorCodeVector(event.vector) && !errorCodeCheckRelaxed(env.profile);
      },
    },
    fields: [INFO, 'SECONDARY_PROCESSOR_BASED_CONTROLS', 'GUEST_CR0'],
    holds: (f) => interruption(f[INFO]).deliverErrorCode || !protectedModeGuest(f.SECONDARY_PROCESSOR_BASED_CONTROLS, f.GUEST_CR0),
  }),
  // Like the previous check, only where IA32_VMX_BASIC[56] = 0.
  check('event-injection.error-code-forbidden', {
    when: {
      fields: [INFO],
      test: (f, env) => {
        const event = injecting(f);
        return event?.type === T.HARDWARE_EXCEPTION && !isErrorCodeVector(event.vector) && !errorCodeCheckRelaxed(env.profile);
      },
    },
    fields: [INFO],
    holds: (f) => !interruption(f[INFO]).deliverErrorCode,
  }),
  check('event-injection.reserved-bits', {
    // Bit 13 is defined on FRED processors (next check); no profile here has FRED, so it is reserved.
    when: INJECTING,
    fields: [INFO],
    holds: (f) => (f[INFO] & INTERRUPTION_INFO_RESERVED_MASK) === 0n,
  }),
  check('event-injection.fred-nested-exception-bit', {
    when: { fields: [INFO], test: (f, env) => injecting(f) !== undefined && fredSupported(env.profile) },
    fields: [INFO],
    holds: (f) => !bitOf(f[INFO], INTERRUPTION_INFO.FRED_NESTED_EXCEPTION) || interruption(f[INFO]).type === T.HARDWARE_EXCEPTION,
  }),
  check('event-injection.error-code-reserved-bits', {
    when: whenInjecting((event) => event.deliverErrorCode),
    fields: ['VM_ENTRY_EXCEPTION_ERROR_CODE'],
    // Bits 31:16 fail for certain; bit 15 alone may fail or not (the printed 31:15 against Intel's
    // 2019 statement and the processors' 31:16): a may-fail, so VMfailValid(7) and going on are both allowed.
    holds: (f) => {
      if (f.VM_ENTRY_EXCEPTION_ERROR_CODE >> BigInt(EXCEPTION_ERROR_CODE.RESERVED_LOW) !== 0n) return false;
      if (bitOf(f.VM_ENTRY_EXCEPTION_ERROR_CODE, EXCEPTION_ERROR_CODE.DISPUTED)) {
        return mayFail('error-code bit 15: the 2008 and 2016 SDM texts reserve bits 31:15, processors and later statements only 31:16');
      }
      return true;
    },
  }),
  check('event-injection.instruction-length', {
    when: whenInjecting((event) => SOFTWARE_EVENTS.includes(event.type)),
    fields: ['VM_ENTRY_INSTRUCTION_LENGTH'],
    holds: (f, env) => {
      const length = f.VM_ENTRY_INSTRUCTION_LENGTH;
      return length <= MAX_INSTRUCTION_LENGTH && (length >= 1n || zeroLengthInjectionAllowed(env.profile));
    },
  }),
  check('event-injection.fred-instruction-length', {
    when: { fields: [INFO], test: (f, env) => injecting(f)?.type === T.OTHER_EVENT && fredSupported(env.profile) },
    fields: [INFO, 'VM_ENTRY_INSTRUCTION_LENGTH', 'GUEST_CR4'],
    holds: (f) => {
      const vector = interruption(f[INFO]).vector;
      const syscallOrSysenter = vector === OTHER_EVENT_VECTOR.SYSCALL || vector === OTHER_EVENT_VECTOR.SYSENTER;
      return !bitOf(f.GUEST_CR4, CR4_FRED_BIT) || !syscallOrSysenter || f.VM_ENTRY_INSTRUCTION_LENGTH <= MAX_INSTRUCTION_LENGTH;
    },
  }),
];
