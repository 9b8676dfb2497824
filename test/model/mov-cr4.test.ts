/**
 * MOV to CR4, expectations from the SDM text (December 2023): Vol. 2B "MOV—Move to/from Control
 * Registers" (Description; exceptions by mode), Vol. 3A §2.5 "Control Registers" (LA57, PCIDE,
 * CET), §4.4.1 "PDPTE Registers", Vol. 3C §24.8 "Restrictions on VMX Operation" and the VMXON
 * page (§31.3). kvm-unit-tests flips each CR4 bit but VMXE before VMXON; so do these tests.
 */
import { describe, expect, it } from 'vitest';
import type { ModelState } from '../../model/index.ts';
import type { Profile } from '../../spec/profile.ts';
import {
  CF,
  expectNotModelled,
  expectOnly,
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
  VMXON_0,
  withCurrent,
} from './helpers.ts';

const movCr4 = (value: bigint, cpu = 0) => ({ kind: 'mov-cr4', cpu, value: hex(value) }) as const;
const vmxon = { kind: 'vmxon', cpu: 0, pointer: hex(VMXON_0) } as const;
/** The initial CR4: VMXE and PAE. */
const CR4 = 0x2020n;
const PCIDE = 1n << 17n;
const LA57 = 1n << 12n;
const CET = 1n << 23n;
/** Protected mode with PAE paging (PG = 1, PAE = 1, IA32_EFER.LME = LMA = 0), CR3 = 0x3000. */
const paePaged = (profile: Profile = skylake()): ModelState =>
  patchCpu(fresh(profile), 0, { csL: 0, eferLma: 0, eferLme: 0, cr3: 0x3000n });

describe('MOV to CR4: who may execute it', () => {
  it('is not modelled in VMX non-root operation (VM exits are another area)', () => {
    expectNotModelled(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), movCr4(CR4), 'mov-cr4.non-root');
  });

  it('raises #GP(0) in virtual-8086 mode and at CPL > 0, before any value check, flags untouched', () => {
    expectOnly(patchCpu(fresh(), 0, { rflagsVm: 1, flags: CF }), movCr4(CR4), gp(CF), 'mov-cr4.gp-virtual-8086');
    expectOnly(patchCpu(inRoot(), 0, { rflagsVm: 1, cpl: 3 }), movCr4(0n), gp(), 'mov-cr4.gp-virtual-8086');
    expectOnly(patchCpu(fresh(), 0, { cpl: 1 }), movCr4(CR4), gp(), 'mov-cr4.gp-cpl');
  });
});

describe('MOV to CR4: reserved bits ("attempting to set any reserved bits in CR4 results in #GP(0)")', () => {
  it('raises #GP(0) for each bit the processor does not support (skylake: IA32_VMX_CR4_FIXED1 = 0x3767FF)', () => {
    for (const position of [11, 12, 15, 19, 22, 23, 24, 25, 31]) {
      expectOnly(fresh(), movCr4(CR4 | (1n << BigInt(position))), gp(), 'mov-cr4.gp-reserved-bits');
    }
  });

  it('raises #GP(0) for bits 63:32 in 64-bit mode, and ignores them outside it (32-bit source)', () => {
    expectOnly(fresh(), movCr4(CR4 | (1n << 32n)), gp(), 'mov-cr4.gp-reserved-bits');
    expectOnly(inRoot(), movCr4(CR4 | (1n << 63n)), gp(), 'mov-cr4.gp-reserved-bits');
    const after = expectOnly(patchCpu(fresh(), 0, { csL: 0 }), movCr4(CR4 | (1n << 40n)), ok(), 'mov-cr4.ok');
    expect(after.cpus[0]?.cr4).toBe(CR4);
  });

  it('takes the CPUID-dependent bits the profile supports: SMXE on skylake, not on a profile without SMX', () => {
    expectOnly(fresh(), movCr4(CR4 | (1n << 14n)), ok(), 'mov-cr4.ok');
    const noSmx: Profile = { ...skylake(), cr4Supported: 0x3727ffn };
    expectOnly(fresh(noSmx), movCr4(CR4 | (1n << 14n)), gp(), 'mov-cr4.gp-reserved-bits');
  });

  it('kvm-unit-tests style: each CR4 bit 0-31 but VMXE flipped on skylake outside VMX operation, then VMXON', () => {
    const supported = 0x3767ffn;
    for (let position = 0n; position < 32n; position++) {
      if (position === 13n) continue;
      const value = CR4 ^ (1n << position);
      const start = layRegion(fresh(), VMXON_0);
      if ((value & ~supported) !== 0n) {
        expectOnly(start, movCr4(value), gp(), 'mov-cr4.gp-reserved-bits');
      } else if (position === 5n) {
        expectOnly(start, movCr4(value), gp(), 'mov-cr4.gp-clear-pae-ia32e');
      } else {
        // Supported bits are allowed by IA32_VMX_CR4_FIXED1 (the default of cr4Supported): VMXON succeeds.
        const after = expectOnly(start, movCr4(value), ok(), 'mov-cr4.ok');
        expectOnly(after, vmxon, succeed(), 'vmxon.success');
      }
    }
  });
});

describe('MOV to CR4: PCIDE, PAE, LA57, CET (exceptions by mode; §2.5)', () => {
  it('raises #GP(0) for setting PCIDE outside IA-32e mode ("write 1 to CR4.PCIDE"), in protected and real-address mode', () => {
    expectOnly(paePaged(), movCr4(CR4 | PCIDE), gp(), 'mov-cr4.gp-pcide-outside-ia32e');
    expectOnly(patchCpu(paePaged(), 0, { cr0: 0x30n }), movCr4(CR4 | PCIDE), gp(), 'mov-cr4.gp-pcide-outside-ia32e');
  });

  it('raises #GP(0) for changing PCIDE from 0 to 1 while CR3[11:0] is not 0, in 64-bit and compatibility mode', () => {
    let state = expectOnly(fresh(), { kind: 'set', cpu: 0, what: 'cr3', value: 0x1005 }, ok(), 'set.ok');
    expectOnly(state, movCr4(CR4 | PCIDE), gp(), 'mov-cr4.gp-pcide-cr3-low-bits');
    expectOnly(patchCpu(state, 0, { csL: 0 }), movCr4(CR4 | PCIDE), gp(), 'mov-cr4.gp-pcide-cr3-low-bits');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'cr3', value: 0x1000 }, ok(), 'set.ok');
    const on = expectOnly(state, movCr4(CR4 | PCIDE), ok(), 'mov-cr4.ok');
    // Keeping PCIDE = 1 is no change from 0 to 1, whatever CR3[11:0] holds.
    expectOnly(patchCpu(on, 0, { cr3: 0x1005n }), movCr4(CR4 | PCIDE | 0x80n), ok(), 'mov-cr4.ok');
  });

  it('raises #GP(0) for clearing PAE in IA-32e mode (64-bit and compatibility), not outside it', () => {
    expectOnly(fresh(), movCr4(0x2000n), gp(), 'mov-cr4.gp-clear-pae-ia32e');
    expectOnly(patchCpu(fresh(), 0, { csL: 0 }), movCr4(0x2000n), gp(), 'mov-cr4.gp-clear-pae-ia32e');
    expectOnly(inRoot(), movCr4(0n), gp(), 'mov-cr4.gp-clear-pae-ia32e');
    expectOnly(patchCpu(fresh(), 0, { csL: 0, eferLma: 0 }), movCr4(0x2000n), ok(), 'mov-cr4.ok');
  });

  it('raises #GP(0) for changing LA57 in IA-32e mode ("this bit cannot be modified in IA-32e mode"), setting or clearing', () => {
    expectOnly(fresh(maximal()), movCr4(CR4 | LA57), gp(), 'mov-cr4.gp-la57-change-ia32e');
    expectOnly(patchCpu(fresh(maximal()), 0, { csL: 0, cr4: CR4 | LA57 }), movCr4(CR4), gp(), 'mov-cr4.gp-la57-change-ia32e');
    expectOnly(patchCpu(fresh(maximal()), 0, { csL: 0, eferLma: 0, cr0: 0x31n }), movCr4(CR4 | LA57), ok(), 'mov-cr4.ok');
  });

  it('raises #GP(0) for setting CET while CR0.WP = 0 (§2.5: CET "can be set only if CR0.WP is set")', () => {
    expectOnly(fresh(maximal()), movCr4(CR4 | CET), gp(), 'mov-cr4.gp-cet-without-wp');
    const wp = patchCpu(fresh(maximal()), 0, { cr0: 0x8001_0031n });
    const after = expectOnly(wp, movCr4(CR4 | CET), ok(), 'mov-cr4.ok');
    expectOnly(after, { kind: 'mov-cr0', cpu: 0, value: hex(0x8000_0031n) }, gp(), 'mov-cr0.gp-clear-wp-cet');
  });
});

describe('MOV to CR4: PDPTEs when PAE paging follows (§4.4.1)', () => {
  const bad = (): ModelState => store(store(paePaged(), 0x3010n, 1), 0x3014n, 1 << 20);

  it('raises #GP(0) when the write changes PAE, PGE, PSE or SMEP and a present PDPTE sets a reserved bit', () => {
    const thirtyTwoBit = patchCpu(bad(), 0, { cr4: 0x2000n });
    expectOnly(thirtyTwoBit, movCr4(CR4), gp(), 'mov-cr4.gp-pdpte-reserved');
    for (const position of [4n, 7n, 20n]) {
      expectOnly(bad(), movCr4(CR4 | (1n << position)), gp(), 'mov-cr4.gp-pdpte-reserved');
    }
  });

  it('loads no PDPTEs for a change of another bit, for paging off, or when PAE is cleared (32-bit paging follows)', () => {
    expectOnly(bad(), movCr4(CR4 | (1n << 9n)), ok(), 'mov-cr4.ok');
    expectOnly(patchCpu(bad(), 0, { cr0: 0x31n }), movCr4(CR4 | (1n << 7n)), ok(), 'mov-cr4.ok');
    expectOnly(bad(), movCr4(0x2000n), ok(), 'mov-cr4.ok');
  });

  it('accepts a table whose present entries are clean', () => {
    const clean = store(store(paePaged(), 0x3000n, 0x5001), 0x3004n, 0x3fff);
    expectOnly(patchCpu(clean, 0, { cr4: 0x2000n }), movCr4(CR4), ok(), 'mov-cr4.ok');
  });
});

describe('MOV to CR4: VMX fixed bits (§24.8) and VMXON', () => {
  it('raises #GP(0) in VMX operation for clearing VMXE; outside VMX operation VMXE may be cleared, and VMXON is then #UD', () => {
    expectOnly(inRoot(), movCr4(0x20n), gp(), 'mov-cr4.gp-vmx-fixed-bits');
    const cleared = expectOnly(layRegion(fresh(), VMXON_0), movCr4(0x20n), ok(), 'mov-cr4.ok');
    expect(cleared.cpus[0]?.cr4).toBe(0x20n);
    expectOnly(cleared, vmxon, { kind: 'fault', vector: 'UD', flags: 0 }, 'vmxon.ud-cr4-vmxe-clear');
  });

  it('reaches VMXON #GP(0) for CR4 only through a profile that supports a bit IA32_VMX_CR4_FIXED1 forbids', () => {
    const wider: Profile = { ...skylake(), cr4Supported: 0x7767ffn };
    expectOnly(inRoot(wider), movCr4(CR4 | (1n << 22n)), gp(), 'mov-cr4.gp-vmx-fixed-bits');
    const pke = expectOnly(layRegion(fresh(wider), VMXON_0), movCr4(CR4 | (1n << 22n)), ok(), 'mov-cr4.ok');
    expectOnly(pke, vmxon, gp(), 'vmxon.gp-cr4-fixed-bits');
  });

  it('reaches VMXON #GP(0) for CR4 on a profile whose IA32_VMX_CR4_FIXED0 requires PAE, once PAE is cleared outside IA-32e mode', () => {
    const paeFixed: Profile = { ...skylake(), cr4Fixed0: 0x2020n };
    let state = layRegion(patchCpu(fresh(paeFixed), 0, { csL: 0 }), VMXON_0);
    state = expectOnly(state, { kind: 'mov-cr0', cpu: 0, value: hex(0x31n) }, ok(), 'mov-cr0.leaves-ia32e-mode');
    state = expectOnly(state, movCr4(0x2000n), ok(), 'mov-cr4.ok');
    state = expectOnly(state, { kind: 'set', cpu: 0, what: 'efer.lme', value: 0 }, ok(), 'set.ok');
    state = expectOnly(state, { kind: 'mov-cr0', cpu: 0, value: hex(0x8000_0031n) }, ok(), 'mov-cr0.mode-switch');
    expectOnly(state, vmxon, gp(), 'vmxon.gp-cr4-fixed-bits');
  });

  it('loads CR4 in VMX operation when the fixed bits allow it, flags untouched', () => {
    const after = expectOnly(patchCpu(inRoot(), 0, { flags: CF }), movCr4(CR4 | 0x80n), ok(CF), 'mov-cr4.ok');
    expect(after.cpus[0]?.cr4).toBe(CR4 | 0x80n);
  });
});
