/**
 * Event-injection checks at VM entry. Expected outcomes from the event-injection bullet of SDM
 * Vol. 3C §26.2.1.3 "VM-Entry Control Fields" (2016, page 26-6; December 2023 §27.2.1.3), the
 * 2008-era §22.2.1.3 (page 22-7) for the instruction length, Vol. 3D A.1 (IA32_VMX_BASIC[56]) and
 * A.6 (IA32_VMX_MISC[30]) as the profiles report them, and the catalogue's notes where later text
 * or Intel's statements decide (the error-code bit 15, the FRED checks). A failure is
 * VMfailValid(7). Every check applies only with the valid bit (31) of the interruption-information
 * field set.
 */
import { describe, expect, it } from 'vitest';
import { SECONDARY_CONTROL as S, PRIMARY_CONTROL as P } from '../../../spec/control-bits.ts';
import { CR4_FRED_BIT, INTERRUPTION_TYPE as T } from '../../../spec/control-field-formats.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import type { FieldName } from '../../../spec/fields.ts';
import type { ModelState } from '../../../model/index.ts';
import { evaluate } from '../../../model/vm-entry/check.ts';
import { EVENT_INJECTION_RULES } from '../../../model/vm-entry/checks/event-injection.ts';
import { core2, expectNotModelled, expectStep, failValid, maximal, RULES_HIT, skylake } from '../helpers.ts';
import type { Profile } from '../../../spec/profile.ts';
import { CONTROLS_OK, checkResult, expectCheck, expectMayFailOrGoOn, expectPastControlsAndHost, vmcsWith } from './helpers.ts';

const launch = { kind: 'vmlaunch', cpu: 0 } as const;
const bit = (n: number): bigint => 1n << BigInt(n);
type Fields = Partial<Record<FieldName, bigint>>;

const fails = (state: ModelState, ruleId: string): void => {
  expectStep(state, launch, failValid(VM_ERROR.ENTRY_INVALID_CONTROLS), ruleId);
};

/** A valid interruption-information field: type, vector, and the deliver-error-code bit. */
const inject = (type: bigint, vector: bigint, deliverErrorCode = false): bigint =>
  bit(31) | (type << 8n) | vector | (deliverErrorCode ? bit(11) : 0n);

const GP = 13n;
const UD = 6n;
const CR0_PE = 1n;
const PROTECTED_CR0 = 0x8000_0031n; // PG, NE, ET, PE

/** Skylake controls with `info` injected (and `extra` fields). */
const injecting = (info: bigint, extra: Fields = {}, profile: Profile = skylake()): ModelState =>
  vmcsWith({ ...CONTROLS_OK, VM_ENTRY_INTERRUPTION_INFORMATION: info, GUEST_CR0: PROTECTED_CR0, ...extra }, profile);

/** Core 2 controls (no secondary controls, no "monitor trap flag", IA32_VMX_MISC[30] = 0). */
const CORE2_CONTROLS: Fields = { ...CONTROLS_OK, PRIMARY_PROCESSOR_BASED_CONTROLS: 0x0401_e172n, PRIMARY_VM_EXIT_CONTROLS: 0x36dffn, VM_ENTRY_CONTROLS: 0x11ffn };

/** "Unrestricted guest" (with EPT, which it needs). */
const UNRESTRICTED: Fields = {
  PRIMARY_PROCESSOR_BASED_CONTROLS: CONTROLS_OK.PRIMARY_PROCESSOR_BASED_CONTROLS | bit(P.ACTIVATE_SECONDARY_CONTROLS),
  SECONDARY_PROCESSOR_BASED_CONTROLS: bit(S.UNRESTRICTED_GUEST) | bit(S.ENABLE_EPT),
  EPT_POINTER: 0x5_001en,
};

/**
 * One event-injection rule, for the FRED checks no profile reaches through VMLAUNCH: their
 * predicates are tested directly, and that counts as reaching their decision points.
 */
function fredRule(id: string): (typeof EVENT_INJECTION_RULES)[number] {
  const found = EVENT_INJECTION_RULES.find((each) => each.id === id);
  if (found === undefined) throw new Error(`test bug: ${id}`);
  RULES_HIT.add(id);
  return found;
}

describe('event injection (VMfailValid(7))', () => {
  it('valid bit 0: nothing is injected and nothing is checked, even a reserved type', () => {
    expectPastControlsAndHost(injecting(T.RESERVED << 8n), launch);
  });

  it('interruption type 1 is reserved on all processors; an external interrupt (type 0) is not', () => {
    fails(injecting(inject(T.RESERVED, 0x20n)), 'event-injection.type-not-reserved');
    expectPastControlsAndHost(injecting(inject(T.EXTERNAL_INTERRUPT, 0x20n)), launch);
  });

  it('type 7 (other event) is reserved without the 1-setting of "monitor trap flag" (core2 lacks it, skylake has it)', () => {
    fails(vmcsWith({ ...CORE2_CONTROLS, VM_ENTRY_INTERRUPTION_INFORMATION: inject(T.OTHER_EVENT, 0n) }, core2()), 'event-injection.other-event-needs-mtf-support');
    expectCheck(injecting(inject(T.OTHER_EVENT, 0n)), 'event-injection.other-event-needs-mtf-support', 'pass');
  });

  it('an NMI has vector 2', () => {
    fails(injecting(inject(T.NMI, 3n)), 'event-injection.nmi-vector');
    expectCheck(injecting(inject(T.NMI, 2n)), 'event-injection.nmi-vector', 'pass');
  });

  it('a hardware exception has a vector of at most 31', () => {
    fails(injecting(inject(T.HARDWARE_EXCEPTION, 32n)), 'event-injection.hardware-exception-vector');
    expectCheck(injecting(inject(T.HARDWARE_EXCEPTION, 31n)), 'event-injection.hardware-exception-vector', 'pass');
  });

  it('an other event has vector 0 (pending MTF VM exit) on a processor without FRED', () => {
    fails(injecting(inject(T.OTHER_EVENT, 1n)), 'event-injection.other-event-vector');
    expectCheck(injecting(inject(T.OTHER_EVENT, 0n)), 'event-injection.other-event-vector', 'pass');
  });

  describe('the deliver-error-code bit (bit 11)', () => {
    it('is 0 unless the type is hardware exception: an external interrupt with it fails', () => {
      fails(injecting(inject(T.EXTERNAL_INTERRUPT, 0x20n, true)), 'event-injection.error-code-only-for-hardware-exceptions');
      expectCheck(injecting(inject(T.HARDWARE_EXCEPTION, GP, true)), 'event-injection.error-code-only-for-hardware-exceptions', 'pass');
    });

    it('is 0 with "unrestricted guest" = 1 and guest CR0.PE = 0; passes with CR0.PE = 1 or "unrestricted guest" = 0', () => {
      fails(injecting(inject(T.HARDWARE_EXCEPTION, GP, true), { ...UNRESTRICTED, GUEST_CR0: 0x30n }), 'event-injection.error-code-only-in-protected-mode');
      expectCheck(injecting(inject(T.HARDWARE_EXCEPTION, GP, true), { ...UNRESTRICTED, GUEST_CR0: 0x30n | CR0_PE }), 'event-injection.error-code-only-in-protected-mode', 'pass');
      expectCheck(injecting(inject(T.HARDWARE_EXCEPTION, GP, true), { GUEST_CR0: 0x30n }), 'event-injection.error-code-only-in-protected-mode', 'pass');
    });

    it('is 1 for #GP (13) in protected mode when IA32_VMX_BASIC[56] = 0 (skylake)', () => {
      fails(injecting(inject(T.HARDWARE_EXCEPTION, GP)), 'event-injection.error-code-required');
      expectCheck(injecting(inject(T.HARDWARE_EXCEPTION, GP, true)), 'event-injection.error-code-required', 'pass');
    });

    it('need not be 1 for #GP in real mode under "unrestricted guest" (no error code is pushed there)', () => {
      expectCheck(injecting(inject(T.HARDWARE_EXCEPTION, GP), { ...UNRESTRICTED, GUEST_CR0: 0x30n }), 'event-injection.error-code-required', 'pass');
    });

    it('is 0 for #UD (6), which delivers no error code, when IA32_VMX_BASIC[56] = 0 (skylake)', () => {
      fails(injecting(inject(T.HARDWARE_EXCEPTION, UD, true), { VM_ENTRY_EXCEPTION_ERROR_CODE: 0n }), 'event-injection.error-code-forbidden');
      expectCheck(injecting(inject(T.HARDWARE_EXCEPTION, UD)), 'event-injection.error-code-forbidden', 'pass');
    });

    it('with IA32_VMX_BASIC[56] = 1 (maximal) either setting is allowed for any vector', () => {
      const udWithCode = injecting(inject(T.HARDWARE_EXCEPTION, UD, true), { VM_ENTRY_EXCEPTION_ERROR_CODE: 0n }, maximal());
      expectCheck(udWithCode, 'event-injection.error-code-forbidden', 'not-applicable');
      expectPastControlsAndHost(udWithCode, launch);
      expectCheck(injecting(inject(T.HARDWARE_EXCEPTION, GP), {}, maximal()), 'event-injection.error-code-required', 'not-applicable');
    });
  });

  it('bits 30:12 are reserved: bit 12 or bit 30 set fails', () => {
    fails(injecting(inject(T.EXTERNAL_INTERRUPT, 0x20n) | bit(12)), 'event-injection.reserved-bits');
    fails(injecting(inject(T.EXTERNAL_INTERRUPT, 0x20n) | bit(30)), 'event-injection.reserved-bits');
    expectCheck(injecting(inject(T.EXTERNAL_INTERRUPT, 0x20n)), 'event-injection.reserved-bits', 'pass');
  });

  describe('the VM-entry exception error code (deliver-error-code = 1)', () => {
    const gpWithCode = (code: bigint): ModelState => injecting(inject(T.HARDWARE_EXCEPTION, GP, true), { VM_ENTRY_EXCEPTION_ERROR_CODE: code });

    it('bits 31:16 must be 0 (every text and processor agrees): bit 16 or bit 31 fails', () => {
      fails(gpWithCode(bit(16)), 'event-injection.error-code-reserved-bits');
      fails(gpWithCode(bit(31)), 'event-injection.error-code-reserved-bits');
      expectCheck(gpWithCode(0x7ff8n), 'event-injection.error-code-reserved-bits', 'pass');
    });

    it('bit 15: printed as reserved (2008, 2016), not checked by processors (Intel, 2019): the entry may fail or go on', () => {
      expectCheck(gpWithCode(bit(15)), 'event-injection.error-code-reserved-bits', 'may-fail');
      expectMayFailOrGoOn(gpWithCode(bit(15)), launch, 7, 'event-injection.error-code-reserved-bits');
      const result = checkResult(gpWithCode(bit(15)), 'event-injection.error-code-reserved-bits');
      expect(result.kind === 'may-fail' ? result.why : '', 'the reason names the disputed bit').toMatch(/bit 15/);
    });

    it('bit 15 with another control failing: VMfailValid(7), from the check that fails for certain', () => {
      const state = injecting(inject(T.HARDWARE_EXCEPTION, GP, true) | bit(12), { VM_ENTRY_EXCEPTION_ERROR_CODE: bit(15) });
      fails(state, 'event-injection.reserved-bits');
    });

    it('is not checked without the deliver-error-code bit', () => {
      expectCheck(injecting(inject(T.HARDWARE_EXCEPTION, UD), { VM_ENTRY_EXCEPTION_ERROR_CODE: bit(31) }), 'event-injection.error-code-reserved-bits', 'not-applicable');
    });
  });

  describe('the VM-entry instruction length (software interrupts and exceptions)', () => {
    const software = (type: bigint, length: bigint, profile: Profile = skylake(), base: Fields = CONTROLS_OK): ModelState =>
      vmcsWith({ ...base, VM_ENTRY_INTERRUPTION_INFORMATION: inject(type, 3n), VM_ENTRY_INSTRUCTION_LENGTH: length }, profile);

    it.each([T.SOFTWARE_INTERRUPT, T.PRIVILEGED_SOFTWARE_EXCEPTION, T.SOFTWARE_EXCEPTION])('type %s: 16 fails, 15 passes', (type) => {
      fails(software(type, 16n), 'event-injection.instruction-length');
      expectCheck(software(type, 15n), 'event-injection.instruction-length', 'pass');
    });

    it('length 0 fails where IA32_VMX_MISC[30] = 0 (core2) and passes where it is 1 (skylake)', () => {
      fails(software(T.SOFTWARE_INTERRUPT, 0n, core2(), CORE2_CONTROLS), 'event-injection.instruction-length');
      expectCheck(software(T.SOFTWARE_INTERRUPT, 0n), 'event-injection.instruction-length', 'pass');
      // §27.2.1.3: the length must be in the range 0-15, 0 only with IA32_VMX_MISC[30] = 1: lengths 1 to 15 pass there too.
      for (const length of [1n, 2n, 15n]) expectCheck(software(T.SOFTWARE_INTERRUPT, length, core2(), CORE2_CONTROLS), 'event-injection.instruction-length', 'pass');
    });

    it('is not checked for a hardware exception', () => {
      expectCheck(injecting(inject(T.HARDWARE_EXCEPTION, UD), { VM_ENTRY_INSTRUCTION_LENGTH: 16n }), 'event-injection.instruction-length', 'not-applicable');
    });
  });

  describe('FRED variants (no profile here supports FRED: they never apply)', () => {
    const fredGuest = bit(CR4_FRED_BIT);
    const env = { profile: skylake(), readMemory32: () => 0 };
    const view = (fields: Fields): { get: (name: FieldName) => bigint | undefined } => ({ get: (name) => fields[name] });

    it.each([
      ['event-injection.fred-other-event-vector', inject(T.OTHER_EVENT, 1n)],
      ['event-injection.fred-nested-exception-bit', inject(T.EXTERNAL_INTERRUPT, 0x20n) | bit(13)],
      ['event-injection.fred-instruction-length', inject(T.OTHER_EVENT, 1n)],
    ])('%s does not apply on skylake, maximal or core2', (id, info) => {
      for (const profile of [skylake(), maximal(), core2()]) {
        expect(evaluate(fredRule(id), view({ VM_ENTRY_INTERRUPTION_INFORMATION: info }), { ...env, profile })).toEqual({ kind: 'not-applicable' });
      }
    });

    it('other event in a FRED guest (FRED extension): vectors 0-2 pass, 3 fails', () => {
      const holds = (vector: bigint): unknown => fredRule('event-injection.fred-other-event-vector').holds({ VM_ENTRY_INTERRUPTION_INFORMATION: inject(T.OTHER_EVENT, vector), GUEST_CR4: fredGuest } as never, env);
      expect([0n, 1n, 2n, 3n].map(holds)).toEqual([true, true, true, false]);
    });

    it('nested-exception bit 13 only for a hardware exception', () => {
      const holds = (type: bigint): unknown => fredRule('event-injection.fred-nested-exception-bit').holds({ VM_ENTRY_INTERRUPTION_INFORMATION: inject(type, 6n) | bit(13) } as never, env);
      expect([holds(T.HARDWARE_EXCEPTION), holds(T.EXTERNAL_INTERRUPT)]).toEqual([true, false]);
    });

    it('SYSCALL or SYSENTER in a FRED guest: instruction length at most 15', () => {
      const holds = (length: bigint): unknown =>
        fredRule('event-injection.fred-instruction-length').holds({ VM_ENTRY_INTERRUPTION_INFORMATION: inject(T.OTHER_EVENT, 2n), VM_ENTRY_INSTRUCTION_LENGTH: length, GUEST_CR4: fredGuest } as never, env);
      expect([holds(15n), holds(16n)]).toEqual([true, false]);
    });

    it('the FRED length check covers SYSCALL (vector 1) and SYSENTER (2) only, and only in a FRED guest (CR4.FRED = 1)', () => {
      const holds = (vector: bigint, cr4: bigint): unknown =>
        fredRule('event-injection.fred-instruction-length').holds({ VM_ENTRY_INTERRUPTION_INFORMATION: inject(T.OTHER_EVENT, vector), VM_ENTRY_INSTRUCTION_LENGTH: 16n, GUEST_CR4: cr4 } as never, env);
      expect([0n, 1n, 2n].map((vector) => holds(vector, fredGuest))).toEqual([true, false, false]);
      expect([0n, 1n, 2n].map((vector) => holds(vector, 0n))).toEqual([true, true, true]);
    });
  });
});
