/**
 * Exceptions, from SDM Vol. 3C, December 2023, §26.2 "Other Causes of VM Exits" (the exception
 * bitmap; for #PF bit 14 is followed when PFEC & PFEC_MASK = PFEC_MATCH and reversed otherwise),
 * Appendix C (reason 0), and Vol. 3A §6.15 "Exception and Interrupt Reference" (which vectors push
 * an error code).
 */
import { describe, expect, it } from 'vitest';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { ExceptionOp } from '../../../spec/guest-operations.ts';
import type { Observation } from '../../../spec/observations.ts';
import { step } from '../../../model/index.ts';
import { cpuOf } from '../../../model/state.ts';
import { exit, expectNotModelled, expectOnly, expectUndefined, fresh, patchCpu, RULES_HIT, withCurrent } from '../helpers.ts';
import { bit, guestWith } from './guest-setup.ts';

const raise = (vector: number, more: Partial<ExceptionOp> = {}): ExceptionOp => ({ kind: 'exception', cpu: 0, vector, ...more });
const pageFault = (errorCode: number): ExceptionOp => raise(14, { errorCode: `0x${errorCode.toString(16)}`, address: '0xdead000' });
const fault = (vector: string, errorCode?: string): Observation =>
  errorCode === undefined ? ({ kind: 'fault', vector, flags: 0 } as Observation) : ({ kind: 'fault', vector, errorCode, flags: 0 } as Observation);
const pfControls = (bitmap: bigint, mask: bigint, match: bigint) =>
  guestWith([[FIELD.EXCEPTION_BITMAP, bitmap], [FIELD.PAGE_FAULT_ERROR_CODE_MASK, mask], [FIELD.PAGE_FAULT_ERROR_CODE_MATCH, match]]);

describe('exceptions', () => {
  it('are delivered outside VMX non-root operation, with their error code', () => {
    expectOnly(fresh(), pageFault(2), fault('PF', '0x2'), 'exception.delivered');
    expectOnly(withCurrent(), raise(6), fault('UD'), 'exception.delivered');
  });
  it('are delivered in a guest whose exception-bitmap bit is 0; a guest whose registers no VM entry loaded is not followed into its handler', () => {
    const after = expectOnly(guestWith([[FIELD.EXCEPTION_BITMAP, bit(14)]]), raise(13, { errorCode: '0x0' }), fault('GP', '0x0'), 'exception.delivered');
    expect(cpuOf(after, 0).untracked?.id).toBe('event-delivery.state-unknown');
    RULES_HIT.add('event-delivery.state-unknown');
  });
  it('exit (reason 0) when their bit is 1', () => {
    expectOnly(guestWith([[FIELD.EXCEPTION_BITMAP, bit(6)]]), raise(6), exit(EXIT_REASON.EXCEPTION_OR_NMI), 'exception.vm-exit');
  });
  it('#PF: bit 14 is followed when PFEC & mask = match', () => {
    expectOnly(pfControls(bit(14), 0n, 0n), pageFault(2), exit(EXIT_REASON.EXCEPTION_OR_NMI), 'exception.page-fault-vm-exit');
    expectOnly(pfControls(0n, 0n, 0n), pageFault(2), fault('PF', '0x2'), 'exception.delivered');
  });
  it('#PF: bit 14 is reversed when PFEC & mask differs from match', () => {
    expectOnly(pfControls(bit(14), 0x2n, 0x0n), pageFault(2), fault('PF', '0x2'), 'exception.delivered');
    expectOnly(pfControls(0n, 0x2n, 0x0n), pageFault(2), exit(EXIT_REASON.EXCEPTION_OR_NMI), 'exception.page-fault-vm-exit');
  });
  it('a guest whose exception bitmap was never written since the region was initialized: undefined (§25.11.3, unpredictable), for instruction faults too', () => {
    const unknown = patchCpu(withCurrent(), 0, { vmx: 'non-root' });
    expectUndefined(unknown, raise(6), 'exception.bitmap-unknown');
    expectUndefined(patchCpu(unknown, 0, { cpl: 3 }), { kind: 'invd', cpu: 0 }, 'exception.bitmap-unknown');
  });
  it('vector 2 (NMI) is not modelled', () => {
    expectNotModelled(guestWith(), raise(2), 'exception.nmi');
  });
  it('rejects reserved vectors and error codes that do not fit the vector', () => {
    expect(() => step(fresh(), raise(9))).toThrow(/architectural exception vector/);
    expect(() => step(fresh(), raise(13))).toThrow(/give errorCode/);
    expect(() => step(fresh(), raise(6, { errorCode: '0x0' }))).toThrow(/leave errorCode out/);
    expect(() => step(fresh(), raise(14, { errorCode: '0x0' }))).toThrow(/linear address/);
  });
});
