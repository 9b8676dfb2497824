/**
 * XSAVES, XRSTORS, GETSEC and WBNOINVD, outside and inside VMX non-root operation. Expected values
 * from the SDM, December 2023: Vol. 2D "XSAVES", "XRSTORS" (#UD with CR4.OSXSAVE = 0 or without
 * the CPUID feature; #GP(0) at CPL > 0; #NM with CR0.TS = 1), "WBNOINVD" (the checks of WBINVD),
 * chapter 7 "GETSEC" (#UD with CR4.SMXE = 0); Vol. 3C §26.3 (#UD when "enable XSAVES/XRSTORS" is
 * 0; with it 1 a VM exit when EDX:EAX AND IA32_XSS AND the XSS-exiting bitmap is not 0), §26.1.2
 * (GETSEC exits unconditionally when CR4.SMXE = 1), §26.1.3 ("WBINVD exiting" covers WBNOINVD),
 * §26.1.1 (privilege-based faults before the exit; #NM is not one of the exceptions before it),
 * §28.2.5 (lengths); Vol. 3D Appendix C (GETSEC 11, WBINVD/WBNOINVD 54, XSAVES 63, XRSTORS 64);
 * Vol. 4 Table 2-2 (IA32_XSS is 0 after reset).
 */
import { handlerOf } from '../guest-environment.ts';
import { describe, expect, it } from 'vitest';
import { SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { FIELD } from '../../../spec/fields.ts';
import { GP, ok, Rig, SKYLAKE, UD, variant } from '../fixtures.ts';
import { exit, exitInformation, guest, GUEST_RIP, hostRead, secondary, SIXTY_FOUR } from './vmx-rig.ts';

/** CR4 with OSXSAVE (18) besides the initial PAE and VMXE. */
const CR4_OSXSAVE = '0x42020';
/** CR4 with SMXE (14). */
const CR4_SMXE = '0x6020';
const NM = { kind: 'fault', vector: 'NM', flags: 0 } as const;
const xsaves = { kind: 'xsaves', cpu: 0, mask: '0xffffffffffffffff' } as const;
const xrstors = { kind: 'xrstors', cpu: 0, mask: '0x1' } as const;

describe('XSAVES and XRSTORS', () => {
  it('outside a guest: #UD with CR4.OSXSAVE = 0 or without the feature, #GP(0) at CPL 3, #NM with CR0.TS = 1, else ok', () => {
    const rig = new Rig();
    expect(rig.run([xsaves, xrstors])).toEqual([UD(), UD()]);
    expect(rig.step({ kind: 'mov-cr4', cpu: 0, value: CR4_OSXSAVE })).toEqual(ok());
    expect(rig.run([xsaves, xrstors])).toEqual([ok(), ok()]);
    rig.set('cpl', 3);
    expect(rig.step(xsaves)).toEqual(GP());
    rig.set('cpl', 0);
    expect(rig.step({ kind: 'mov-cr0', cpu: 0, value: '0x80000039' })).toEqual(ok()); // TS (3)
    expect(rig.run([xsaves, xrstors])).toEqual([NM, NM]);
    const without = new Rig(variant(SKYLAKE, 'no-xsaves', { cpuid: { xsaves: false } }));
    expect(without.step({ kind: 'mov-cr4', cpu: 0, value: CR4_OSXSAVE })).toEqual(ok());
    expect(without.run([xsaves, xrstors])).toEqual([UD(), UD()]);
  });

  it('in a guest: #UD when "enable XSAVES/XRSTORS" is 0', () => {
    const rig = guest({ changes: { ...SIXTY_FOUR, GUEST_CR4: (valid) => valid | 0x4_0000n } });
    expect(rig.run([xsaves, xrstors])).toEqual([UD(), UD()]);
  });

  it('IA32_XSS (DA0H): WRMSR of supervisor components (PT 8, CET 11-12), #GP(0) for user components and reserved bits, #GP(0) without XSAVES', () => {
    const rig = new Rig();
    const wrmsr = (value: string) => rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0xda0', value });
    expect([wrmsr('0x100'), wrmsr('0x1800'), wrmsr('0x1'), wrmsr('0x200'), wrmsr('0x100000000')]).toEqual([ok(), ok(), GP(), GP(), GP()]);
    expect(rig.step({ kind: 'rdmsr', cpu: 0, ecx: '0xda0' })).toEqual(ok());
    const without = new Rig(variant(SKYLAKE, 'no-xsaves', { cpuid: { xsaves: false } }));
    expect(without.run([{ kind: 'wrmsr', cpu: 0, ecx: '0xda0', value: '0x100' }, { kind: 'rdmsr', cpu: 0, ecx: '0xda0' }])).toEqual([GP(), GP()]);
  });

  it('in a guest: a VM exit (63, 64) when EDX:EAX AND IA32_XSS AND the bitmap is not 0; information [RBX], length 3', () => {
    const changes = { ...SIXTY_FOUR, ...secondary(SECONDARY_CONTROL.ENABLE_XSAVES_XRSTORS), GUEST_CR4: (valid: bigint) => valid | 0x4_0000n, XSS_EXITING_BITMAP: 0x800n };
    const before = [{ kind: 'wrmsr', cpu: 0, ecx: '0xda0', value: '0x1800' }] as const;
    const rig = guest({ changes, before });
    expect(rig.step({ ...xsaves, mask: '0x1000' })).toEqual(ok()); // bit 12: in IA32_XSS, not in the bitmap
    expect(rig.step({ ...xsaves, mask: '0x800' })).toEqual(exit(63));
    const memory64 = (2 << 7) | (3 << 15) | (1 << 22) | (3 << 23);
    expect(exitInformation(rig)).toEqual({ reason: 63n, qualification: 0n, length: 3n, information: BigInt(memory64) });
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 3n);
    const restore = guest({ changes, before });
    // The exit comes before #NM: CR0.TS = 1 in the guest.
    const withTs = guest({ changes: { ...changes, GUEST_CR0: (valid: bigint) => valid | 0x8n }, before });
    expect(withTs.step({ ...xrstors, mask: '0xffffffffffffffff' })).toEqual(exit(64));
    expect(restore.step({ ...xrstors, mask: '0x1' })).toEqual(ok());
    const nm = guest({ changes: { ...changes, GUEST_CR0: (valid: bigint) => valid | 0x8n }, before });
    expect(nm.step({ ...xrstors, mask: '0x1' })).toEqual(NM);
  });

  it('in a guest with "enable XSAVES/XRSTORS" 1: no exit while IA32_XSS is 0, whatever the bitmap; completes', () => {
    const rig = guest({
      changes: { ...SIXTY_FOUR, ...secondary(SECONDARY_CONTROL.ENABLE_XSAVES_XRSTORS), GUEST_CR4: (valid) => valid | 0x4_0000n, XSS_EXITING_BITMAP: 0xffff_ffff_ffff_ffffn },
    });
    expect(rig.run([xsaves, xrstors])).toEqual([ok(), ok()]);
    rig.set('cpl', 3);
    expect(rig.step(xsaves)).toEqual(GP());
    expect(rig.step({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' })).toEqual(exit(10));
    // Two 3-byte instructions completed (0F C7 /5, 0F C7 /3), then the #GP(0) was delivered
    // through the guest IDT (test/impl/guest-environment.ts): CPUID is the handler's first instruction.
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(BigInt(handlerOf(13)));
  });
});

describe('GETSEC', () => {
  it('raises #UD with CR4.SMXE = 0, in a guest too', () => {
    expect(new Rig().step({ kind: 'getsec', cpu: 0 })).toEqual(UD());
    expect(guest({ changes: SIXTY_FOUR }).step({ kind: 'getsec', cpu: 0 })).toEqual(UD());
  });

  it('exits (11) in a guest with CR4.SMXE = 1, at any CPL and leaf: qualification 0, length 2', () => {
    const rig = guest({ changes: { ...SIXTY_FOUR, GUEST_CR4: (valid) => valid | 0x4000n } });
    rig.set('cpl', 3);
    expect(rig.step({ kind: 'getsec', cpu: 0, eax: '0x4' })).toEqual(exit(11));
    const seen = exitInformation(rig);
    expect([seen.reason, seen.qualification, seen.length]).toEqual([11n, 0n, 2n]);
  });

  it('outside a guest with CR4.SMXE = 1 its leaves are not modelled (unimplemented)', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'mov-cr4', cpu: 0, value: CR4_SMXE })).toEqual(ok());
    expect(rig.step({ kind: 'getsec', cpu: 0 }).kind).toBe('unimplemented');
  });
});

describe('WBNOINVD', () => {
  it('has the checks of WBINVD: #GP(0) at CPL 3, exit 54 with "WBINVD exiting" and length 3 (F3 0F 09)', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'wbinvd', cpu: 0, variant: 'wbnoinvd' })).toEqual(ok());
    rig.set('cpl', 3);
    expect(rig.step({ kind: 'wbinvd', cpu: 0, variant: 'wbnoinvd' })).toEqual(GP());
    const exiting = guest({ changes: { ...SIXTY_FOUR, ...secondary(SECONDARY_CONTROL.WBINVD_EXITING) } });
    expect(exiting.step({ kind: 'wbinvd', cpu: 0, variant: 'wbnoinvd' })).toEqual(exit(54));
    expect(exitInformation(exiting).length).toBe(3n);
    const plain = guest({ changes: SIXTY_FOUR });
    expect(plain.run([{ kind: 'wbinvd', cpu: 0, variant: 'wbnoinvd' }, { kind: 'wbinvd', cpu: 0 }, { kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' }])).toEqual([ok(), ok(), exit(10)]);
    expect(hostRead(plain, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 5n);
  });
});
