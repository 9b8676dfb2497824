/**
 * Every decision point of the model is exercised by a unit test. The area test files are
 * imported here so that their tests run again in this file and record, through the shared
 * helpers, the rule of every outcome they checked; the last test compares that with RULES.
 */
import { describe, expect, it } from 'vitest';
import { RULES } from '../../model/index.ts';
import { RULES_HIT } from './helpers.ts';
import './conventions.test.ts';
import './non-root/cpuid-hlt-invd.test.ts';
import './non-root/timestamps.test.ts';
import './non-root/monitor-mwait-pause.test.ts';
import './non-root/control-registers.test.ts';
import './non-root/cr0-cr4-masks.test.ts';
import './non-root/debug-registers.test.ts';
import './non-root/msr-access.test.ts';
import './non-root/io.test.ts';
import './non-root/random-invpcid.test.ts';
import './non-root/descriptor-tables-getsec-xsaves.test.ts';
import './non-root/exceptions.test.ts';
import './non-root/unknown-controls.test.ts';
import './invept.test.ts';
import './invvpid.test.ts';
import './memory.test.ts';
import './mov-cr0.test.ts';
import './mov-cr4.test.ts';
import './processor-state-ops.test.ts';
import './state.test.ts';
import './verdict.test.ts';
import './vmcall.test.ts';
import './vmclear.test.ts';
import './vmfunc.test.ts';
import './vmlaunch-vmresume.test.ts';
import './vm-entry/address-space-size.test.ts';
import './vm-entry/assess.test.ts';
import './vm-entry/entry-controls.test.ts';
import './vm-entry/event-injection.test.ts';
import './vm-entry/entry-events.test.ts';
import './vm-entry/execution-controls.test.ts';
import './vm-entry/exit-controls.test.ts';
import './mov-ss.test.ts';
import './non-root/vmx-instructions-shadowing.test.ts';
import './non-root/vmx-instructions-vmfunc.test.ts';
import './vm-entry/failure.test.ts';
import './vm-entry/full-entry.test.ts';
import './vm-entry/guest-control-registers.test.ts';
import './vm-entry/guest-descriptor-tables.test.ts';
import './vm-entry/guest-non-register-state.test.ts';
import './vm-entry/guest-pdptes.test.ts';
import './vm-entry/guest-rip-rflags.test.ts';
import './vm-entry/guest-segment-registers-access-rights.test.ts';
import './vm-entry/guest-segment-registers-selectors-bases.test.ts';
import './vm-entry/guest-segment-registers-system.test.ts';
import './vm-entry/host-control-registers.test.ts';
import './vm-entry/host-segment-registers.test.ts';
import './vm-entry/load-guest.test.ts';
import './vm-entry/msr-load.test.ts';
import './vmptrld.test.ts';
import './vmptrst.test.ts';
import './vmread.test.ts';
import './vmwrite.test.ts';
import './vmxoff.test.ts';
import './vmxon.test.ts';
import './vm-exit/vm-exit.test.ts';
import './vm-exit/areas-and-aborts.test.ts';
import './event-delivery/ia32e.test.ts';
import './event-delivery/translation.test.ts';
import './event-delivery/legacy-modes.test.ts';
import './event-delivery/wiring.test.ts';

describe('rule coverage of the unit tests', () => {
  it('reaches every rule in RULES', () => {
    const missing = RULES.map((rule) => rule.id).filter((id) => !RULES_HIT.has(id));
    expect(missing).toEqual([]);
  });

  it('reaches no rule that RULES does not list', () => {
    const known = new Set(RULES.map((rule) => rule.id));
    expect([...RULES_HIT].filter((id) => !known.has(id))).toEqual([]);
  });
});
