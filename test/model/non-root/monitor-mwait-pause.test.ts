/**
 * MONITOR, MWAIT and PAUSE, from SDM Vol. 3C, December 2023, §26.1.1 "Relative Priority of Faults
 * and VM Exits" (#UD first), §26.1.3 "Instructions That Cause VM Exits Conditionally" ("MONITOR
 * exiting", "MWAIT exiting", "PAUSE exiting", "PAUSE-loop exiting" at CPL 0 after PLE_Window),
 * Appendix C (reasons 36, 39, 40) and the Vol. 2B pages (MONITOR and MWAIT only at CPL 0).
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { exit, expectOnly, expectStep, fresh, ok, patchCpu, ud } from '../helpers.ts';
import { bit, guestControls, RIP, ripOf } from './guest-setup.ts';

const monitor = { kind: 'monitor', cpu: 0 } as const;
const mwait = { kind: 'mwait', cpu: 0 } as const;
const pause = { kind: 'pause', cpu: 0 } as const;

describe('MONITOR and MWAIT', () => {
  it('#UD at CPL 3, before their exits', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.MONITOR_EXITING), undefined, { cpl: 3 }), monitor, ud(), 'monitor.ud-cpl');
    expectOnly(guestControls(bit(PRIMARY_CONTROL.MWAIT_EXITING), undefined, { cpl: 3 }), mwait, ud(), 'mwait.ud-cpl');
  });
  it('exit with "MONITOR exiting" (39) and "MWAIT exiting" (36)', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.MONITOR_EXITING)), monitor, exit(EXIT_REASON.MONITOR), 'monitor.vm-exit');
    expectOnly(guestControls(bit(PRIMARY_CONTROL.MWAIT_EXITING)), mwait, exit(EXIT_REASON.MWAIT), 'mwait.vm-exit');
  });
  it('complete otherwise, RIP past their 3 bytes', () => {
    expect(ripOf(expectOnly(guestControls(bit(PRIMARY_CONTROL.MWAIT_EXITING)), monitor, ok(), 'monitor.ok'))).toBe(RIP + 3n);
    expectOnly(fresh(), mwait, ok(), 'mwait.ok');
  });
});

describe('PAUSE', () => {
  const loopExiting = bit(SECONDARY_CONTROL.PAUSE_LOOP_EXITING);
  it('exits with "PAUSE exiting" (reason 40), at any CPL', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.PAUSE_EXITING), undefined, { cpl: 3 }), pause, exit(EXIT_REASON.PAUSE), 'pause.vm-exit');
  });
  it('with "PAUSE-loop exiting" at CPL 0: exit or not, as timing decides', () => {
    expectStep(guestControls(0n, loopExiting), pause, exit(EXIT_REASON.PAUSE), 'pause.loop-exiting');
    const after = expectStep(guestControls(0n, loopExiting), pause, ok(), 'pause.loop-exiting');
    expect(ripOf(after)).toBe(RIP + 2n);
  });
  it('"PAUSE-loop exiting" does not apply at CPL 3; outside VMX PAUSE completes', () => {
    expectOnly(guestControls(0n, loopExiting, { cpl: 3 }), pause, ok(), 'pause.ok');
    expectOnly(patchCpu(fresh(), 0, { cpl: 3 }), pause, ok(), 'pause.ok');
  });
});
