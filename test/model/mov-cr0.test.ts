/**
 * MOV to CR0, expectations from the SDM text (December 2023): Vol. 2B "MOV—Move to/from Control
 * Registers" (Description; Protected-, Real-Address-, Virtual-8086-, Compatibility- and 64-Bit-Mode
 * Exceptions), Vol. 3A §2.5 "Control Registers", §4.1.2 "Paging-Mode Enabling", §4.4.1 "PDPTE
 * Registers", §10.8.5 "Initializing IA-32e Mode", §10.9 "Mode Switching", Vol. 3C §24.8
 * "Restrictions on VMX Operation". kvm-unit-tests' VMXON tests write CR0 this way before VMXON.
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../model/index.ts';
import type { ModelState } from '../../model/index.ts';
import type { Profile } from '../../spec/profile.ts';
import {
  CF,
  expectNotModelled,
  expectOnly,
  expectStep,
  fresh,
  gp,
  hex,
  inRoot,
  layRegion,
  maximal,
  ok,
  patchCpu,
  skylake,
  store,
  succeed,
  ud,
  VMXON_0,
  withCurrent,
} from './helpers.ts';

const movCr0 = (value: bigint, cpu = 0) => ({ kind: 'mov-cr0', cpu, value: hex(value) }) as const;
const vmxon = { kind: 'vmxon', cpu: 0, pointer: hex(VMXON_0) } as const;
/** The initial CR0: PG, NE, ET, PE. */
const CR0 = 0x8000_0031n;
const PG = 1n << 31n;
const WP = 1n << 16n;
const CD = 1n << 30n;
/** Reserved CR0 bits 31:0 (§2.5, Figure 2-7): 15:6, 17, 28:19. */
const RESERVED_LOW = [...range(6, 15), 17, ...range(19, 28)];
/** Compatibility mode: IA-32e mode with CS.L = 0. */
const compat = (): ModelState => patchCpu(fresh(), 0, { csL: 0 });
/** Protected mode with PAE paging: PG = 1, CR4.PAE = 1, IA32_EFER.LME = LMA = 0. */
const paePaged = (): ModelState => patchCpu(fresh(), 0, { csL: 0, eferLma: 0, eferLme: 0 });
/** Protected mode, paging off, CR4.PAE = 1, IA32_EFER.LME = 1: ready to activate IA-32e mode. */
const readyForIa32e = (): ModelState => patchCpu(fresh(), 0, { csL: 0, eferLma: 0, cr0: 0x31n });

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('MOV to CR0: who may execute it', () => {
  it('is not modelled in VMX non-root operation (VM exits are another area)', () => {
    expectNotModelled(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), movCr0(CR0), 'mov-cr0.non-root');
  });

  it('raises #GP(0) in virtual-8086 mode and at CPL > 0, flags untouched (Virtual-8086/Protected-Mode Exceptions)', () => {
    expectOnly(patchCpu(fresh(), 0, { rflagsVm: 1, flags: CF }), movCr0(CR0), gp(CF), 'mov-cr0.gp-virtual-8086');
    expectOnly(patchCpu(fresh(), 0, { rflagsVm: 1, cpl: 3 }), movCr0(0x8000_0030n), gp(), 'mov-cr0.gp-virtual-8086');
    expectOnly(patchCpu(fresh(), 0, { cpl: 3 }), movCr0(CR0), gp(), 'mov-cr0.gp-cpl');
    expectOnly(patchCpu(inRoot(), 0, { cpl: 1 }), movCr0(CR0 & ~0x20n), gp(), 'mov-cr0.gp-cpl');
  });
});

describe('MOV to CR0: reserved bits and ET (Description)', () => {
  it('raises #GP(0) in 64-bit mode for each of bits 63:32, in and out of VMX operation ("reserved bits in CR0[63:32]")', () => {
    for (let position = 32n; position < 64n; position++) {
      expectOnly(fresh(), movCr0(CR0 | (1n << position)), gp(), 'mov-cr0.gp-reserved-high-bits');
    }
    expectOnly(inRoot(), movCr0(CR0 | (1n << 32n)), gp(), 'mov-cr0.gp-reserved-high-bits');
  });

  it('ignores bits 63:32 outside 64-bit mode: the source is 32 bits and CR0[63:32] become 0', () => {
    const after = expectOnly(compat(), movCr0(CR0 | (1n << 32n) | 8n), ok(), 'mov-cr0.ok');
    expect(after.cpus[0]?.cr0).toBe(CR0 | 8n);
    expectOnly(compat(), movCr0((1n << 32n) | 0x8000_0030n), gp(), 'mov-cr0.gp-pg-without-pe');
  });

  it('ignores each reserved bit of 31:0 ("attempting to set any reserved bits in CR0[31:0] is ignored"): CR0 keeps it 0', () => {
    for (const position of RESERVED_LOW) {
      const after = expectOnly(fresh(), movCr0(CR0 | (1n << BigInt(position))), ok(), 'mov-cr0.ignores-reserved-bits');
      expect(after.cpus[0]?.cr0).toBe(CR0);
    }
    const root = expectOnly(inRoot(), movCr0(CR0 | 0x40n), ok(), 'mov-cr0.ignores-reserved-bits');
    expect(root.cpus[0]?.cr0).toBe(CR0);
  });

  it('leaves ET set when the value clears it ("CR0.ET remains set after any load of CR0"); VMXON then succeeds', () => {
    const after = expectOnly(layRegion(fresh(), VMXON_0), movCr0(CR0 & ~0x10n), ok(), 'mov-cr0.ignores-reserved-bits');
    expect(after.cpus[0]?.cr0).toBe(CR0);
    expectOnly(after, vmxon, succeed(), 'vmxon.success');
    expectOnly(inRoot(), movCr0(CR0 & ~0x10n), ok(), 'mov-cr0.ignores-reserved-bits');
  });

  it('keeps VMXON working after reserved bits 31:0 were written (kvm-unit-tests: CR0 reserved bits before VMXON)', () => {
    const after = expectOnly(layRegion(fresh(), VMXON_0), movCr0(CR0 | 0x1ff8_0000n), ok(), 'mov-cr0.ignores-reserved-bits');
    expectOnly(after, vmxon, succeed(), 'vmxon.success');
  });
});

describe('MOV to CR0: invalid values (exceptions by mode)', () => {
  it('raises #GP(0) for PG without PE and NW without CD, in any mode', () => {
    expectOnly(fresh(), movCr0(0x8000_0030n), gp(), 'mov-cr0.gp-pg-without-pe');
    expectOnly(patchCpu(readyForIa32e(), 0, { cr0: 0x30n }), movCr0(0x8000_0030n), gp(), 'mov-cr0.gp-pg-without-pe');
    expectOnly(fresh(), movCr0(CR0 | (1n << 29n)), gp(), 'mov-cr0.gp-nw-without-cd');
    expectOnly(inRoot(), movCr0(CR0 | (1n << 29n)), gp(), 'mov-cr0.gp-nw-without-cd');
    expectOnly(fresh(), movCr0(CR0 | (3n << 29n)), ok(), 'mov-cr0.ok');
  });

  it('raises #GP(0) for clearing PG in 64-bit mode ("attempting to clear CR0.PG")', () => {
    expectOnly(fresh(), movCr0(0x31n), gp(), 'mov-cr0.gp-clear-pg-64-bit-mode');
    expectOnly(inRoot(), movCr0(0x31n), gp(), 'mov-cr0.gp-clear-pg-64-bit-mode');
  });

  it('raises #GP(0) for clearing PG while CR4.PCIDE = 1 (Compatibility-Mode Exceptions)', () => {
    expectOnly(patchCpu(compat(), 0, { cr4: 0x2_2020n }), movCr0(0x31n), gp(), 'mov-cr0.gp-clear-pg-pcide');
  });

  it('raises #GP(0) for clearing WP while CR4.CET = 1 (§2.5: CET "must be clear before CR0.WP can be cleared")', () => {
    const cet = patchCpu(fresh(maximal()), 0, { cr0: CR0 | WP, cr4: 0x80_2020n });
    expectOnly(cet, movCr0(CR0), gp(), 'mov-cr0.gp-clear-wp-cet');
    expectOnly(cet, movCr0(CR0 | WP | CD), ok(), 'mov-cr0.ok');
  });
});

describe('MOV to CR0: IA-32e mode (§4.1.2, §10.8.5)', () => {
  it('raises #GP(0) for setting PG with IA32_EFER.LME = 1 and CR4.PAE = 0', () => {
    expectOnly(patchCpu(readyForIa32e(), 0, { cr4: 0x2000n }), movCr0(CR0), gp(), 'mov-cr0.gp-lme-without-pae');
  });

  it('raises #GP(0) for activating IA-32e mode with CS.L = 1 or TR referencing a 16-bit TSS', () => {
    expectOnly(patchCpu(readyForIa32e(), 0, { csL: 1 }), movCr0(CR0), gp(), 'mov-cr0.gp-ia32e-activation-cs-l');
    expectOnly(patchCpu(readyForIa32e(), 0, { tr16BitTss: true }), movCr0(CR0), gp(), 'mov-cr0.gp-ia32e-activation-cs-l');
  });

  it('activates IA-32e mode when PG is set with LME = 1 (LMA = 1, compatibility mode), also straight from real-address mode', () => {
    const on = expectOnly(readyForIa32e(), movCr0(CR0), ok(), 'mov-cr0.activates-ia32e-mode');
    expect(on.cpus[0]).toMatchObject({ cr0: CR0, eferLma: 1, csL: 0 });
    // In IA-32e mode PAE can no longer be cleared.
    expectOnly(on, { kind: 'mov-cr4', cpu: 0, value: hex(0x2000n) }, gp(), 'mov-cr4.gp-clear-pae-ia32e');
    const fromReal = expectOnly(patchCpu(readyForIa32e(), 0, { cr0: 0x30n }), movCr0(CR0), ok(), 'mov-cr0.activates-ia32e-mode');
    expect(fromReal.cpus[0]?.eferLma).toBe(1);
  });

  it('leaves IA-32e mode when PG is cleared in compatibility mode (§10.8.5.4): LMA = 0', () => {
    const off = expectOnly(compat(), movCr0(0x31n), ok(), 'mov-cr0.leaves-ia32e-mode');
    expect(off.cpus[0]).toMatchObject({ cr0: 0x31n, eferLma: 0, eferLme: 1 });
    // Setting PG again re-activates it (LME is still 1).
    expectOnly(off, movCr0(CR0), ok(), 'mov-cr0.activates-ia32e-mode');
  });
});

describe('MOV to CR0: PDPTEs when PAE paging follows (§4.4.1)', () => {
  /** Paging off, PAE = 1, LME = 0, CR3 = 0x3000 with PDPTE `index` = (lo, hi). */
  const withPdpte = (index: number, lo: number, hi = 0, profile: Profile = skylake()): ModelState => {
    const base = patchCpu(fresh(profile), 0, { csL: 0, eferLma: 0, eferLme: 0, cr0: 0x31n, cr3: 0x3000n });
    return store(store(base, 0x3000n + BigInt(index * 8), lo), 0x3000n + BigInt(index * 8 + 4), hi);
  };

  it('raises #GP(0) for setting PG when a present PDPTE sets bit 1, 2 or 5-8', () => {
    for (const position of [1, 2, 5, 6, 7, 8]) {
      expectOnly(withPdpte(position % 4, 1 | (1 << position)), movCr0(CR0), gp(), 'mov-cr0.gp-pdpte-reserved');
    }
  });

  it('raises #GP(0) for a present PDPTE with a bit at or above MAXPHYADDR (46 on skylake) and not below it', () => {
    expectOnly(withPdpte(3, 0x1001, 1 << 14), movCr0(CR0), gp(), 'mov-cr0.gp-pdpte-reserved');
    expectOnly(withPdpte(3, 0x1001, 0x8000_0000), movCr0(CR0), gp(), 'mov-cr0.gp-pdpte-reserved');
    expectOnly(withPdpte(3, 0x1001, 1 << 13), movCr0(CR0), ok(), 'mov-cr0.mode-switch');
  });

  it('ignores reserved bits of a PDPTE that is not present', () => {
    expectOnly(withPdpte(0, 0x1e6, 0xffff_ffff), movCr0(CR0), ok(), 'mov-cr0.mode-switch');
  });

  it('loads the PDPTEs when CD or NW changes under PAE paging, not when only WP changes', () => {
    const paged = store(patchCpu(paePaged(), 0, { cr3: 0x3000n }), 0x3000n, 0x3);
    expectOnly(paged, movCr0(CR0 | CD), gp(), 'mov-cr0.gp-pdpte-reserved');
    expectOnly(paged, movCr0(CR0 | WP), ok(), 'mov-cr0.ok');
  });

  it('loads no PDPTEs for 32-bit paging (PAE = 0)', () => {
    const legacy = store(patchCpu(paePaged(), 0, { cr0: 0x31n, cr4: 0x2000n }), 0n, 0x3);
    expectOnly(legacy, movCr0(CR0), ok(), 'mov-cr0.mode-switch');
  });
});

describe('MOV to CR0: mode switches outside IA-32e mode (§10.9)', () => {
  it('follows the switch to real-address mode and back; VMXON is #UD in real-address mode and #GP(0) without paging', () => {
    const legacy = patchCpu(fresh(), 0, { eferLma: 0, csL: 0 });
    const unpaged = expectOnly(legacy, movCr0(0x31n), ok(), 'mov-cr0.mode-switch');
    const real = expectOnly(unpaged, movCr0(0x30n), ok(), 'mov-cr0.mode-switch');
    expect(real.cpus[0]?.cr0).toBe(0x30n);
    expectOnly(layRegion(real, VMXON_0), vmxon, ud(), 'vmxon.ud-real-mode');
    const protectedMode = expectOnly(real, movCr0(0x31n), ok(), 'mov-cr0.mode-switch');
    expectOnly(layRegion(protectedMode, VMXON_0), vmxon, gp(), 'vmxon.gp-cr0-fixed-bits');
  });

  it('the SDM protected-mode scenario: leave IA-32e mode, clear PAE, clear LME, enable 32-bit paging; then virtual-8086 mode', () => {
    let state = expectOnly(compat(), movCr0(0x31n), ok(), 'mov-cr0.leaves-ia32e-mode');
    state = expectOnly(state, { kind: 'mov-cr4', cpu: 0, value: hex(0x2000n) }, ok(), 'mov-cr4.ok');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'efer.lme', value: 0 }, ok(), 'set.ok');
    state = expectOnly(state, movCr0(CR0), ok(), 'mov-cr0.mode-switch');
    expect(state.cpus[0]).toMatchObject({ cr0: CR0, cr4: 0x2000n, eferLme: 0, eferLma: 0 });
    expectOnly(layRegion(state, VMXON_0), vmxon, succeed(), 'vmxon.success');
    const v86 = expectOnly(state, { kind: 'set', cpu: 0, what: 'rflags.vm', value: 1 }, ok(), 'set.ok');
    expectOnly(v86, movCr0(CR0), gp(), 'mov-cr0.gp-virtual-8086');
    expectOnly(layRegion(v86, VMXON_0), vmxon, ud(), 'vmxon.ud-virtual-8086');
  });
});

describe('MOV to CR0: VMX fixed bits (§24.8)', () => {
  it('raises #GP(0) in VMX operation for clearing PE, NE or PG (IA32_VMX_CR0_FIXED0), flags untouched', () => {
    expectOnly(patchCpu(inRoot(), 0, { flags: CF }), movCr0(CR0 & ~0x20n), gp(CF), 'mov-cr0.gp-vmx-fixed-bits');
    const root = patchCpu(inRoot(), 0, { eferLma: 0, csL: 0 });
    expectOnly(root, movCr0(0x31n), gp(), 'mov-cr0.gp-vmx-fixed-bits');
    expectOnly(patchCpu(root, 0, { cr0: 0x31n }), movCr0(0x30n), gp(), 'mov-cr0.gp-vmx-fixed-bits');
    expectOnly(inRoot(), movCr0(CR0 | (1n << 16n)), ok(), 'mov-cr0.ok');
  });

  it('allows #GP(0) or the write when the fixed bits and the bits the write ignores disagree (§24.8 does not say which counts)', () => {
    const base = skylake();
    const noBit6: Profile = { ...base, cr0Fixed1: 0xffff_ffbfn };
    const written = expectStep(inRoot(noBit6), movCr0(CR0 | 0x40n), ok(), 'mov-cr0.vmx-fixed-bits-ignored-bits');
    expect(written.cpus[0]?.cr0).toBe(CR0);
    expectStep(inRoot(noBit6), movCr0(CR0 | 0x40n), gp(), 'mov-cr0.vmx-fixed-bits-ignored-bits');
    const noEt: Profile = { ...base, cr0Fixed1: 0xffff_ffefn };
    const root = patchCpu(fresh(noEt), 0, { vmx: 'root', vmxonPointer: VMXON_0, cr0: CR0 & ~0x10n });
    const verdict = step(root, movCr0(CR0 & ~0x10n));
    expect(verdict.kind === 'defined' && verdict.branches.map((b) => b.expected.kind).sort()).toEqual(['fault', 'ok']);
  });
});
