/**
 * RDRAND, RDSEED and INVPCID, from the SDM text (December 2023): Vol. 2B "RDRAND—Read Random
 * Number" and "RDSEED—Read Random SEED" (#UD without the CPUID feature; CF = 1 with a random value
 * or CF = 0 with the destination zeroed, OF/SF/ZF/AF/PF cleared), Vol. 2A "INVPCID—Invalidate
 * Process-Context Identifier" (#UD without the feature, #GP(0) at CPL > 0 and in virtual-8086 mode,
 * type > 3, descriptor bits 63:12, non-canonical address for type 0, PCID without CR4.PCIDE for
 * types 0 and 1), Vol. 3C §26.1.3 "Instructions That Cause VM Exits Conditionally" (RDRAND and
 * RDSEED exiting; INVPCID with "enable INVPCID" and "INVLPG exiting" both 1), §26.3 "Changes to
 * Instruction Behavior in VMX Non-Root Operation" (#UD with "enable INVPCID" = 0), §26.1.1
 * "Relative Priority of Faults and VM Exits" (#UD and privilege faults first), Appendix C
 * (reasons 57, 58, 61).
 */
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../../spec/profile.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import type { Operation } from '../../../spec/operations.ts';
import { exit, expectNotModelled, expectOnly, expectStep, fresh, gp, hex, ok, patchCpu, skylake, ud, withCurrent } from '../helpers.ts';
import { bit, guestControls, outcomes, RIP, ripOf } from './guest-setup.ts';

const without = (flag: keyof Profile['cpuid']): Profile => {
  const p = skylake();
  return { ...p, cpuid: { ...p.cpuid, [flag]: false } };
};
const rdrand = (gpr = 2, size: 16 | 32 | 64 = 32): Operation => ({ kind: 'rdrand', cpu: 0, gpr, size });
const rdseed = (gpr = 2, size: 16 | 32 | 64 = 32): Operation => ({ kind: 'rdseed', cpu: 0, gpr, size });
const invpcid = (type: bigint, low: bigint, address = 0x1000n): Operation => ({ kind: 'invpcid', cpu: 0, type: hex(type), descriptor: [hex(low), hex(address)] });
const INVPCID_ENABLED = bit(SECONDARY_CONTROL.ENABLE_INVPCID);

describe('RDRAND and RDSEED', () => {
  it('#UD on a processor without the feature, before any VM exit', () => {
    expectOnly(fresh(without('rdrand')), rdrand(), ud(), 'rdrand.ud-unsupported');
    expectOnly(fresh(without('rdseed')), rdseed(), ud(), 'rdseed.ud-unsupported');
  });
  it('outside a VM exit the SDM allows two outcomes: CF = 1 with any value, or CF = 0 with the destination 0; the other flags cleared', () => {
    const state = patchCpu(fresh(), 0, { flags: 0x8d5 });
    expect(outcomes(state, rdrand())).toEqual([
      { expected: { kind: 'ok', flags: 1 }, rule: 'rdrand.random-value' },
      { expected: { kind: 'ok', flags: 0, value: '0x0' }, rule: 'rdrand.no-value' },
    ]);
    expect(outcomes(state, rdseed(9, 64)).map((o) => o.rule)).toEqual(['rdseed.random-value', 'rdseed.no-value']);
  });
  it('exits with "RDRAND exiting" / "RDSEED exiting" = 1 (reasons 57, 61), at any privilege level', () => {
    expectOnly(guestControls(0n, bit(SECONDARY_CONTROL.RDRAND_EXITING), { cpl: 3 }), rdrand(), exit(EXIT_REASON.RDRAND), 'rdrand.vm-exit');
    expectOnly(guestControls(0n, bit(SECONDARY_CONTROL.RDSEED_EXITING)), rdseed(), exit(EXIT_REASON.RDSEED), 'rdseed.vm-exit');
  });
  it('completes in a guest without the exiting control, RIP past its 3 bytes (REX.W makes 4)', () => {
    const state = guestControls(0n, bit(SECONDARY_CONTROL.RDSEED_EXITING));
    const branches = outcomes(state, rdrand());
    expect(branches.map((b) => b.rule)).toEqual(['rdrand.random-value', 'rdrand.no-value']);
    expect(ripOf(expectStep(guestControls(0n, 0n), rdrand(0, 32), ok(1), 'rdrand.random-value'))).toBe(RIP + 3n);
    expect(ripOf(expectStep(guestControls(0n, 0n), rdrand(0, 64), { kind: 'ok', flags: 0, value: '0x0' }, 'rdrand.no-value'))).toBe(RIP + 4n);
  });
  it('is not modelled in a guest whose controls are unknown', () => {
    expectNotModelled(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), rdrand(), 'non-root.controls-unknown');
  });
});

describe('INVPCID', () => {
  it('#UD without the feature; #GP(0) in virtual-8086 mode (the page lists #GP(0) there)', () => {
    expectOnly(fresh(without('invpcid')), invpcid(0n, 0n), ud(), 'invpcid.ud-unsupported');
    expectOnly(patchCpu(fresh(), 0, { rflagsVm: 1, eferLma: 0, csL: 0 }), invpcid(0n, 0n), gp(), 'invpcid.gp-cpl');
  });
  it('#UD in a guest with "enable INVPCID" = 0, even with "INVLPG exiting" = 1', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.INVLPG_EXITING), 0n), invpcid(0n, 0n), ud(), 'invpcid.ud-not-enabled');
  });
  it('#GP(0) at CPL 3 before the VM exit', () => {
    expectOnly(patchCpu(fresh(), 0, { cpl: 3 }), invpcid(0n, 0n), gp(), 'invpcid.gp-cpl');
    expectOnly(guestControls(bit(PRIMARY_CONTROL.INVLPG_EXITING), INVPCID_ENABLED, { cpl: 3 }), invpcid(0n, 0n), gp(), 'invpcid.gp-cpl');
  });
  it('exits with "enable INVPCID" and "INVLPG exiting" both 1 (reason 58), before the type and descriptor checks', () => {
    expectOnly(guestControls(bit(PRIMARY_CONTROL.INVLPG_EXITING), INVPCID_ENABLED), invpcid(7n, 0x1000n), exit(EXIT_REASON.INVPCID), 'invpcid.vm-exit');
  });
  it('#GP(0) for type > 3 (64-bit register in 64-bit mode), descriptor bits 63:12, a non-canonical type-0 address, a PCID without CR4.PCIDE', () => {
    expectOnly(fresh(), invpcid(4n, 0n), gp(), 'invpcid.gp-type');
    expectOnly(fresh(), invpcid(0x1_0000_0000n, 0n), gp(), 'invpcid.gp-type');
    expectOnly(fresh(), invpcid(1n, 0x1000n), gp(), 'invpcid.gp-descriptor-reserved');
    expectOnly(fresh(), invpcid(0n, 0n, 0x8000_0000_0000n), gp(), 'invpcid.gp-non-canonical');
    expectOnly(fresh(), invpcid(1n, 5n), gp(), 'invpcid.gp-pcid-without-pcide');
  });
  it('outside 64-bit mode only the low 32 bits of the type register count', () => {
    expectOnly(patchCpu(fresh(), 0, { eferLma: 0, eferLme: 0, csL: 0, cr0: 0x31n }), invpcid(0x1_0000_0002n, 0n), ok(), 'invpcid.ok');
  });
  it('types 2 and 3 ignore the PCID and the address; completes in a guest with "INVLPG exiting" = 0, RIP past its 5 bytes', () => {
    expectOnly(fresh(), invpcid(2n, 5n, 0x8000_0000_0000n), ok(), 'invpcid.ok');
    const after = expectOnly(guestControls(0n, INVPCID_ENABLED), invpcid(3n, 0n), ok(), 'invpcid.ok');
    expect(ripOf(after)).toBe(RIP + 5n);
  });
});
