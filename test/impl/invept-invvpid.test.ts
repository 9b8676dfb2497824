/**
 * INVEPT and INVVPID, from SDM Vol. 3C, December 2023, §31.3 "INVEPT—Invalidate Translations
 * Derived from EPT" and "INVVPID—Invalidate Translations Based on VPID", with the EPTP checks of
 * §27.2.1.1 "VM-Execution Control Fields" and the capability bits of Vol. 3D Appendix A.10
 * "VPID and EPT Capabilities".
 */
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../spec/operations.ts';
import { CORE2, FAIL_INVALID, failValid, GP, hex, MAXIMAL, Rig, SKYLAKE, SUCCEED, UD, variant } from './fixtures.ts';

/** A valid EPTP: write-back (6), 4-level walk (3 << 3), table at 0x5000. */
const EPTP_WB_4 = 0x5000 | (3 << 3) | 6;

const invept = (type: number | bigint, eptp: number | bigint, extra: Partial<Operation> = {}): Operation =>
  ({ kind: 'invept', cpu: 0, type: hex(type), descriptor: [hex(eptp), '0x0'], ...extra }) as Operation;
const invvpid = (type: number | bigint, vpid: number | bigint, address: bigint = 0n): Operation => ({
  kind: 'invvpid',
  cpu: 0,
  type: hex(type),
  descriptor: [hex(vpid), hex(address)],
});

const withCap = (name: string, cap: bigint) =>
  variant(SKYLAKE, name, { msrs: { IA32_VMX_EPT_VPID_CAP: hex(cap) } });
const SKYLAKE_CAP = BigInt(SKYLAKE.msrs.IA32_VMX_EPT_VPID_CAP as string);

describe('INVEPT', () => {
  it('raises #UD on a processor without EPT (Core 2), even in VMX root operation', () => {
    const rig = new Rig(CORE2).enterWithVmcs();
    expect(rig.step(invept(2, 0))).toEqual(UD());
  });

  it('raises #UD when EPT is supported but INVEPT is not (IA32_VMX_EPT_VPID_CAP[20] = 0)', () => {
    const rig = new Rig(withCap('no-invept', SKYLAKE_CAP & ~(1n << 20n) & ~(3n << 25n))).enterWithVmcs();
    expect(rig.step(invept(2, 0))).toEqual(UD());
  });

  it('raises #UD for a register descriptor operand, outside VMX operation and in compatibility mode', () => {
    const rig = new Rig();
    expect(rig.step(invept(2, 0))).toEqual(UD());
    rig.enterWithVmcs();
    expect(rig.step(invept(2, 0, { form: 'register' }))).toEqual(UD());
    rig.set('cs.l', 0);
    expect(rig.step(invept(2, 0))).toEqual(UD());
  });

  it('raises #GP(0) at CPL > 0', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('cpl', 3);
    expect(rig.step(invept(2, 0))).toEqual(GP());
  });

  it('succeeds for all-context invalidation whatever the descriptor', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invept(2, 0xffff_ffff_ffff_ffffn))).toEqual(SUCCEED);
  });

  it('succeeds for single-context invalidation with a valid EPTP', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invept(1, EPTP_WB_4))).toEqual(SUCCEED);
    expect(rig.step(invept(1, EPTP_WB_4 & ~7))).toEqual(SUCCEED); // UC, supported on Skylake
    expect(rig.step(invept(1, EPTP_WB_4 | (1 << 6)))).toEqual(SUCCEED); // A/D flags, supported
  });

  it('fails with error 28 for types other than 1 and 2', () => {
    const rig = new Rig().enterWithVmcs();
    for (const type of [0, 3, 4, 0xffff_ffff]) expect(rig.step(invept(type, EPTP_WB_4))).toEqual(failValid(28));
  });

  it('fails invalid for an unsupported type when no VMCS is current', () => {
    const rig = new Rig().enter();
    expect(rig.step(invept(0, EPTP_WB_4))).toEqual(FAIL_INVALID);
  });

  it('treats bits 63:32 of the type register as part of the type in 64-bit mode, and ignores them outside it', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invept((1n << 32n) | 2n, 0))).toEqual(failValid(28));
    rig.set('efer.lma', 0);
    expect(rig.step(invept((1n << 32n) | 2n, 0))).toEqual(SUCCEED);
  });

  it('fails with error 28 for a type IA32_VMX_EPT_VPID_CAP does not report', () => {
    const rig = new Rig(withCap('no-single', SKYLAKE_CAP & ~(1n << 25n))).enterWithVmcs();
    expect(rig.step(invept(1, EPTP_WB_4))).toEqual(failValid(28));
    expect(rig.step(invept(2, 0))).toEqual(SUCCEED);
    const noAll = new Rig(withCap('no-all', SKYLAKE_CAP & ~(1n << 26n))).enterWithVmcs();
    expect(noAll.step(invept(2, 0))).toEqual(failValid(28));
  });

  describe('single-context EPTP checks (error 28 when VM entry would reject the EPTP)', () => {
    const cases: [string, bigint][] = [
      ['memory type 1 (WC)', BigInt((EPTP_WB_4 & ~7) | 1)],
      ['memory type 7', BigInt(EPTP_WB_4 | 7)],
      ['a page-walk length of 2', BigInt((EPTP_WB_4 & ~0x38) | (1 << 3))],
      ['a page-walk length of 5 without 5-level EPT', BigInt((EPTP_WB_4 & ~0x38) | (4 << 3))],
      ['bit 7 (supervisor shadow stack) without support', BigInt(EPTP_WB_4 | (1 << 7))],
      ['reserved bit 8', BigInt(EPTP_WB_4 | (1 << 8))],
      ['reserved bit 11', BigInt(EPTP_WB_4 | (1 << 11))],
      ['a bit at the physical-address width (46)', BigInt(EPTP_WB_4) | (1n << 46n)],
      ['bit 63', BigInt(EPTP_WB_4) | (1n << 63n)],
    ];
    for (const [what, eptp] of cases) {
      it(`rejects ${what}`, () => {
        const rig = new Rig().enterWithVmcs();
        expect(rig.step(invept(1, eptp))).toEqual(failValid(28));
      });
    }

    it('accepts bits below the physical-address width', () => {
      const rig = new Rig().enterWithVmcs();
      expect(rig.step(invept(1, BigInt(EPTP_WB_4) | (1n << 45n)))).toEqual(SUCCEED);
    });

    it('accepts a 5-level walk and bit 7 where the processor supports them (maximal)', () => {
      const rig = new Rig(MAXIMAL).enterWithVmcs();
      expect(rig.step(invept(1, (EPTP_WB_4 & ~0x38) | (4 << 3)))).toEqual(SUCCEED);
      expect(rig.step(invept(1, EPTP_WB_4 | (1 << 7)))).toEqual(SUCCEED);
    });

    it('rejects UC when IA32_VMX_EPT_VPID_CAP[8] = 0, WB when bit 14 = 0, A/D when bit 21 = 0', () => {
      expect(new Rig(withCap('no-uc', SKYLAKE_CAP & ~(1n << 8n))).enterWithVmcs().step(invept(1, EPTP_WB_4 & ~7))).toEqual(
        failValid(28),
      );
      expect(new Rig(withCap('no-wb', SKYLAKE_CAP & ~(1n << 14n))).enterWithVmcs().step(invept(1, EPTP_WB_4))).toEqual(
        failValid(28),
      );
      expect(
        new Rig(withCap('no-ad', SKYLAKE_CAP & ~(1n << 21n))).enterWithVmcs().step(invept(1, EPTP_WB_4 | (1 << 6))),
      ).toEqual(failValid(28));
    });
  });
});

describe('INVVPID', () => {
  it('raises #UD on a processor without VPID (Core 2)', () => {
    const rig = new Rig(CORE2).enterWithVmcs();
    expect(rig.step(invvpid(2, 0))).toEqual(UD());
  });

  it('raises #UD when VPID is supported but INVVPID is not (IA32_VMX_EPT_VPID_CAP[32] = 0)', () => {
    const rig = new Rig(withCap('no-invvpid', SKYLAKE_CAP & ~(0xf01n << 32n))).enterWithVmcs();
    expect(rig.step(invvpid(2, 0))).toEqual(UD());
  });

  it('raises #UD for a register operand and outside VMX operation, #GP(0) at CPL > 0', () => {
    const rig = new Rig();
    expect(rig.step(invvpid(2, 0))).toEqual(UD());
    rig.enterWithVmcs();
    expect(rig.step({ ...invvpid(2, 0), form: 'register' } as Operation)).toEqual(UD());
    rig.set('cpl', 1);
    expect(rig.step(invvpid(2, 0))).toEqual(GP());
  });

  it('individual-address invalidation succeeds for a non-zero VPID and a canonical address', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invvpid(0, 1, 0x0000_7fff_ffff_f000n))).toEqual(SUCCEED);
    expect(rig.step(invvpid(0, 0xffff, 0xffff_8000_0000_0000n))).toEqual(SUCCEED);
  });

  it('individual-address invalidation fails with error 28 for VPID 0 or a non-canonical address', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invvpid(0, 0, 0x1000n))).toEqual(failValid(28));
    expect(rig.step(invvpid(0, 1, 0x0000_8000_0000_0000n))).toEqual(failValid(28));
    expect(rig.step(invvpid(0, 1, 0xffff_7fff_ffff_ffffn))).toEqual(failValid(28));
  });

  it('checks canonicality against 57 bits when CR4.LA57 = 1', () => {
    // LA57 cannot change in IA-32e mode (Vol. 3A §2.5): leave it, set LA57, re-activate, 64-bit mode.
    const rig = new Rig(MAXIMAL);
    rig.set('cs.l', 0);
    expect(rig.run(['0x31', '0x3020', '0x80000031'].map((value, i) => ({ kind: i === 1 ? 'mov-cr4' : 'mov-cr0', cpu: 0, value }) as const))).toEqual([
      { kind: 'ok', flags: 0 },
      { kind: 'ok', flags: 0 },
      { kind: 'ok', flags: 0 },
    ]);
    rig.set('cs.l', 1);
    rig.enterWithVmcs();
    expect(rig.step(invvpid(0, 1, 0x0000_8000_0000_0000n))).toEqual(SUCCEED);
    expect(rig.step(invvpid(0, 1, 0xff00_0000_0000_0000n))).toEqual(SUCCEED);
    expect(rig.step(invvpid(0, 1, 0x0100_0000_0000_0000n))).toEqual(failValid(28));
  });

  it('single-context invalidation needs a non-zero VPID', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invvpid(1, 0))).toEqual(failValid(28));
    expect(rig.step(invvpid(1, 7, 0x0000_8000_0000_0000n))).toEqual(SUCCEED);
  });

  it('all-context invalidation accepts VPID 0', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invvpid(2, 0, 0xdead_0000_0000_0000n))).toEqual(SUCCEED);
  });

  it('single-context invalidation retaining globals needs a non-zero VPID', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invvpid(3, 0))).toEqual(failValid(28));
    expect(rig.step(invvpid(3, 5))).toEqual(SUCCEED);
  });

  it('fails with error 28 when descriptor bits 63:16 are not zero, whatever the type', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invvpid(2, 0x1_0000))).toEqual(failValid(28));
    expect(rig.step(invvpid(2, 1n << 40n))).toEqual(failValid(28));
  });

  it('fails with error 28 for types above 3 and for bits 63:32 of the type in 64-bit mode', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invvpid(4, 1))).toEqual(failValid(28));
    expect(rig.step(invvpid(0xffff_ffff, 1))).toEqual(failValid(28));
    expect(rig.step(invvpid((1n << 32n) | 2n, 1))).toEqual(failValid(28));
    rig.set('efer.lma', 0);
    expect(rig.step(invvpid((1n << 32n) | 2n, 1))).toEqual(SUCCEED);
  });

  it('fails with error 28 for a type IA32_VMX_EPT_VPID_CAP does not report', () => {
    const rig = new Rig(withCap('no-individual', SKYLAKE_CAP & ~(1n << 40n))).enterWithVmcs();
    expect(rig.step(invvpid(0, 1, 0n))).toEqual(failValid(28));
    expect(rig.step(invvpid(1, 1))).toEqual(SUCCEED);
  });

  it('fails invalid when no VMCS is current', () => {
    const rig = new Rig().enter();
    expect(rig.step(invvpid(1, 0))).toEqual(FAIL_INVALID);
  });
});
