/**
 * Host control-register, MSR and SSP checks at VM entry. Expected outcomes from SDM Vol. 3C
 * §27.2.2 "Checks on Host Control Registers, MSRs, and SSP" (December 2023; 2016 §26.2.2 "Checks on
 * Host Control Registers and MSRs", page 26-7, for the MSR fields; 2008-era Vol. 3B §22.2.2, page
 * 22-8, for CR0, CR4 and CR3), and §27.2 for the consequence: a host-state failure is
 * VMfailValid(8). The CET, PKRS and FRED conditions are the catalogue's (corroborated by Bochs and
 * KVM, spec/entry-checks/host-control-registers.ts). Canonical means bits 63:47 equal with 48-bit
 * linear addresses, bits 63:56 equal with 57-bit ones (Vol. 1 "Canonical Addressing").
 */
import { describe, expect, it } from 'vitest';
import { EXIT_CONTROL, SECONDARY_EXIT_CONTROL } from '../../../spec/control-bits.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Profile } from '../../../spec/profile.ts';
import { createProfile } from '../../../spec/profile.ts';
import { CR0, CR4, IA32_EFER, IA32_S_CET } from '../../../spec/registers.ts';
import { maximal, skylake } from '../helpers.ts';
import {
  bit,
  CANONICAL_57_ONLY,
  CANONICAL_HIGH,
  EXIT_64,
  expectCatalogueOrder,
  expectHostFailure,
  expectHostMayFail,
  expectHostPass,
  hostVmcs,
  NON_CANONICAL,
  VALID,
} from './host-state.ts';

const G = 'host-control-registers';
const exitWith = (...bits: number[]): bigint => bits.reduce((value, b) => value | bit(b), EXIT_64);

it('implements every catalogue entry of the group, in the catalogue (SDM) order', () => {
  expectCatalogueOrder('host-control-registers');
});

describe('host CR0 and CR4 against IA32_VMX_CR0/CR4_FIXED0/FIXED1 (§27.2.2: "not set any bit to a value not supported in VMX operation")', () => {
  it('host CR0 without PE, which IA32_VMX_CR0_FIXED0 reports as fixed to 1 (0x80000021 on skylake), fails', () => {
    expect(skylake().cr0Fixed0 & CR0.PE).toBe(CR0.PE);
    expectHostFailure(hostVmcs({ HOST_CR0: VALID.HOST_CR0 & ~CR0.PE }), `${G}.cr0-fixed-0`);
    expectHostPass(hostVmcs({}), `${G}.cr0-fixed-0`);
  });

  it('host CR0 with bit 32 set, which IA32_VMX_CR0_FIXED1 (0xffffffff) reports as fixed to 0, fails', () => {
    expectHostFailure(hostVmcs({ HOST_CR0: VALID.HOST_CR0 | bit(32) }), `${G}.cr0-fixed-1`);
    expectHostPass(hostVmcs({ HOST_CR0: VALID.HOST_CR0 | CR0.WP }), `${G}.cr0-fixed-1`);
  });

  it('CR0.CD against a FIXED1 that clears it: the section footnote exempts NW and CD, not read here, so the check may fail', () => {
    const data = skylake().data;
    const profile = createProfile({ ...data, msrs: { ...data.msrs, IA32_VMX_CR0_FIXED1: '0xbfffffff' } });
    expectHostMayFail({ HOST_CR0: VALID.HOST_CR0 | CR0.CD }, `${G}.cr0-fixed-1`, profile);
    expectHostFailure(hostVmcs({ HOST_CR0: VALID.HOST_CR0 | CR0.CD | bit(32) }, profile), `${G}.cr0-fixed-1`);
  });

  it('host CR4 without VMXE (IA32_VMX_CR4_FIXED0 = 0x2000) fails', () => {
    expectHostFailure(hostVmcs({ HOST_CR4: CR4.PAE }), `${G}.cr4-fixed-0`);
    expectHostPass(hostVmcs({}), `${G}.cr4-fixed-0`);
  });

  it('host CR4 with bit 12, which IA32_VMX_CR4_FIXED1 (0x3767ff on skylake) reports as fixed to 0, fails', () => {
    expectHostFailure(hostVmcs({ HOST_CR4: VALID.HOST_CR4 | bit(12) }), `${G}.cr4-fixed-1`);
    expectHostPass(hostVmcs({ HOST_CR4: VALID.HOST_CR4 | CR4.PCIDE }), `${G}.cr4-fixed-1`);
  });

  it('host CR4.CET = 1 needs host CR0.WP = 1 (maximal allows CR4.CET)', () => {
    const cet = VALID.HOST_CR4 | CR4.CET;
    expectHostFailure(hostVmcs({ HOST_CR4: cet }, maximal()), `${G}.cr4-cet-needs-cr0-wp`);
    expectHostPass(hostVmcs({ HOST_CR4: cet, HOST_CR0: VALID.HOST_CR0 | CR0.WP }, maximal()), `${G}.cr4-cet-needs-cr0-wp`);
  });
});

describe('host CR3 (bits 63:52 and bits at or above the physical-address width must be 0)', () => {
  it('bit 46 (the width on skylake) set fails; the highest address below it passes', () => {
    expect(skylake().data.physicalAddressWidth).toBe(46);
    expectHostFailure(hostVmcs({ HOST_CR3: bit(46) }), `${G}.cr3-width`);
    expectHostFailure(hostVmcs({ HOST_CR3: bit(63) }), `${G}.cr3-width`);
    expectHostPass(hostVmcs({ HOST_CR3: bit(46) - 0x1000n }), `${G}.cr3-width`);
  });
});

describe.each(['ESP', 'EIP'] as const)('host IA32_SYSENTER_%s must be canonical', (register) => {
  const field = `HOST_IA32_SYSENTER_${register}` as const;
  const id = `${G}.sysenter-${register.toLowerCase()}-canonical`;

  it('not canonical with 57 bits either: fails', () => {
    expectHostFailure(hostVmcs({ [field]: NON_CANONICAL }), id);
  });

  it('canonical with 48 bits: passes', () => {
    expectHostPass(hostVmcs({ [field]: CANONICAL_HIGH }), id);
  });

  it('canonical with 57 bits only: may fail (the profile does not record the linear-address width)', () => {
    expectHostMayFail({ [field]: CANONICAL_57_ONLY }, id);
  });
});

describe('host MSRs the VM-exit controls load', () => {
  it('IA32_PERF_GLOBAL_CTRL: reserved bits depend on the counters (CPUID leaf 0AH), not in the profile: 0 passes, a set bit may fail', () => {
    const exit = exitWith(EXIT_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL);
    const id = `${G}.perf-global-ctrl-reserved`;
    expectHostPass(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_PERF_GLOBAL_CTRL: 0n }), id);
    expectHostMayFail({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_PERF_GLOBAL_CTRL: bit(40) }, id);
    expectHostPass(hostVmcs({ HOST_IA32_PERF_GLOBAL_CTRL: bit(40) }), id, 'not-applicable');
  });

  it('IA32_PAT: each byte must be 0, 1, 4, 5, 6 or 7; a byte of 2, 3 or 8 fails', () => {
    const exit = exitWith(EXIT_CONTROL.LOAD_IA32_PAT);
    const id = `${G}.pat-memory-types`;
    expectHostPass(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_PAT: 0x0007_0406_0501_0400n }), id);
    expectHostFailure(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_PAT: 0x0007_0406_0007_0402n }), id);
    expectHostFailure(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_PAT: 0x0307_0406_0007_0406n }), id);
    expectHostFailure(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_PAT: 0x0807_0406_0007_0406n }), id);
    expectHostPass(hostVmcs({ HOST_IA32_PAT: 0x02n }), id, 'not-applicable');
  });

  describe('IA32_EFER ("load IA32_EFER" = 1)', () => {
    const exit = exitWith(EXIT_CONTROL.LOAD_IA32_EFER);
    const efer64 = IA32_EFER.SCE | IA32_EFER.LME | IA32_EFER.LMA;

    it('a reserved bit (bit 1) fails; SCE, LME and LMA pass; NXE may fail (execute-disable support is not in the profile)', () => {
      const id = `${G}.efer-reserved`;
      expectHostFailure(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_EFER: efer64 | bit(1) }), id);
      expectHostPass(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_EFER: efer64 }), id);
      expectHostMayFail({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_EFER: efer64 | IA32_EFER.NXE }, id);
      expectHostPass(hostVmcs({ HOST_IA32_EFER: bit(1) }), id, 'not-applicable');
    });

    it('LMA must equal "host address-space size": LMA = 0 with a 64-bit host fails', () => {
      const id = `${G}.efer-lma-matches-address-space-size`;
      expectHostFailure(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_EFER: IA32_EFER.LME }), id);
      expectHostPass(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_EFER: efer64 }), id);
      expectHostPass(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit & ~bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE), HOST_IA32_EFER: 0n }), id);
    });

    it('LME must equal "host address-space size": LME = 0 with a 64-bit host fails', () => {
      const id = `${G}.efer-lme-matches-address-space-size`;
      expectHostFailure(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_EFER: IA32_EFER.LMA }), id);
      expectHostPass(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_EFER: efer64 }), id);
    });
  });
});

describe('CET state ("load CET state" = 1; maximal)', () => {
  const exit = exitWith(EXIT_CONTROL.LOAD_CET_STATE);
  const cet = { PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_S_CET: 0n, HOST_SSP: 0n, HOST_IA32_INTERRUPT_SSP_TABLE_ADDR: 0n };
  const with_ = (fields: Record<string, bigint>) => hostVmcs({ ...cet, ...fields }, maximal());

  it('IA32_S_CET must be canonical, and with a 32-bit host have bits 63:32 clear', () => {
    const id = `${G}.s-cet-canonical`;
    expectHostFailure(with_({ HOST_IA32_S_CET: NON_CANONICAL }), id);
    expectHostPass(with_({ HOST_IA32_S_CET: CANONICAL_HIGH }), id);
    expectHostMayFail({ ...cet, HOST_IA32_S_CET: CANONICAL_57_ONLY }, id, maximal());
    const exit32 = exit & ~bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE);
    expectHostFailure(with_({ PRIMARY_VM_EXIT_CONTROLS: exit32, HOST_IA32_S_CET: bit(32) }), id);
    expectHostPass(with_({ PRIMARY_VM_EXIT_CONTROLS: exit32, HOST_IA32_S_CET: 0xffff_f000n }), id);
  });

  it('IA32_S_CET bits 9:6 are reserved', () => {
    expectHostFailure(with_({ HOST_IA32_S_CET: bit(6) }), `${G}.s-cet-reserved`);
    expectHostFailure(with_({ HOST_IA32_S_CET: bit(9) }), `${G}.s-cet-reserved`);
    expectHostPass(with_({ HOST_IA32_S_CET: bit(5) | bit(10) }), `${G}.s-cet-reserved`);
  });

  it('IA32_S_CET SUPPRESS and TRACKER not both 1', () => {
    const id = `${G}.s-cet-suppress-and-tracker`;
    expectHostFailure(with_({ HOST_IA32_S_CET: IA32_S_CET.SUPPRESS | IA32_S_CET.TRACKER }), id);
    expectHostPass(with_({ HOST_IA32_S_CET: IA32_S_CET.TRACKER }), id);
  });

  it('SSP must be canonical (bits 63:32 clear with a 32-bit host)', () => {
    const id = `${G}.ssp-canonical`;
    expectHostFailure(with_({ HOST_SSP: NON_CANONICAL }), id);
    expectHostPass(with_({ HOST_SSP: CANONICAL_HIGH }), id);
    expectHostFailure(with_({ PRIMARY_VM_EXIT_CONTROLS: exit & ~bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE), HOST_SSP: CANONICAL_HIGH }), id);
  });

  it('SSP bits 1:0 must be 0', () => {
    expectHostFailure(with_({ HOST_SSP: 0x1002n }), `${G}.ssp-aligned`);
    expectHostPass(with_({ HOST_SSP: 0x1004n }), `${G}.ssp-aligned`);
  });

  it('IA32_INTERRUPT_SSP_TABLE_ADDR must be canonical', () => {
    const id = `${G}.interrupt-ssp-table-canonical`;
    expectHostFailure(with_({ HOST_IA32_INTERRUPT_SSP_TABLE_ADDR: NON_CANONICAL }), id);
    expectHostPass(with_({ HOST_IA32_INTERRUPT_SSP_TABLE_ADDR: CANONICAL_HIGH }), id);
  });

  it('without "load CET state" the CET fields are not checked', () => {
    expectHostPass(hostVmcs({ HOST_IA32_S_CET: bit(6) }, maximal()), `${G}.s-cet-reserved`, 'not-applicable');
  });
});

describe('PKRS ("load PKRS" = 1; maximal)', () => {
  it('bits 63:32 of IA32_PKRS must be 0', () => {
    const exit = exitWith(EXIT_CONTROL.LOAD_PKRS);
    expectHostFailure(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_PKRS: bit(32) }, maximal()), `${G}.pkrs-reserved`);
    expectHostPass(hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: exit, HOST_IA32_PKRS: 0xffff_ffffn }, maximal()), `${G}.pkrs-reserved`);
  });
});

/**
 * A processor with FRED: maximal, plus the "load FRED" secondary VM-exit control and the FRED
 * host-state fields. No shipped profile models FRED (spec/field-requirements.ts), so the tests
 * make one.
 */
function withFred(): Profile {
  const base = maximal();
  const fredFields = new Set<number>([
    FIELD.HOST_IA32_FRED_CONFIG,
    FIELD.HOST_IA32_FRED_RSP1, FIELD.HOST_IA32_FRED_RSP2, FIELD.HOST_IA32_FRED_RSP3,
    FIELD.HOST_IA32_FRED_SSP1, FIELD.HOST_IA32_FRED_SSP2, FIELD.HOST_IA32_FRED_SSP3,
  ]);
  const loadFred = { mustBeOne: 0n, mayBeOne: bit(SECONDARY_EXIT_CONTROL.LOAD_FRED) };
  return {
    ...base,
    controls: { ...base.controls, 'secondary-exit': loadFred },
    supportsControl: (set, b) => (set === 'secondary-exit' ? b === SECONDARY_EXIT_CONTROL.LOAD_FRED : base.supportsControl(set, b)),
    fieldExists: (encoding) => fredFields.has(encoding) || base.fieldExists(encoding),
  };
}

describe('FRED state (secondary VM-exit control "load FRED" = 1)', () => {
  const fred = {
    PRIMARY_VM_EXIT_CONTROLS: exitWith(EXIT_CONTROL.ACTIVATE_SECONDARY_CONTROLS),
    SECONDARY_VM_EXIT_CONTROLS: bit(SECONDARY_EXIT_CONTROL.LOAD_FRED),
    HOST_IA32_FRED_CONFIG: 0n,
    HOST_IA32_FRED_RSP1: 0x1000n, HOST_IA32_FRED_RSP2: 0x2000n, HOST_IA32_FRED_RSP3: CANONICAL_HIGH,
    HOST_IA32_FRED_SSP1: 0x1008n, HOST_IA32_FRED_SSP2: 0x2008n, HOST_IA32_FRED_SSP3: CANONICAL_HIGH,
  };
  const with_ = (fields: Record<string, bigint>) => hostVmcs({ ...fred, ...fields }, withFred());

  it('IA32_FRED_CONFIG bits 2, 5:4 and 11 are reserved', () => {
    const id = `${G}.fred-config-reserved`;
    for (const n of [2, 4, 5, 11]) expectHostFailure(with_({ HOST_IA32_FRED_CONFIG: bit(n) }), id);
    expectHostPass(with_({ HOST_IA32_FRED_CONFIG: bit(3) | CANONICAL_HIGH }), id);
  });

  describe.each([
    ['rsp1', 'HOST_IA32_FRED_RSP1', 0x1020n],
    ['rsp2', 'HOST_IA32_FRED_RSP2', 0x1001n],
    ['rsp3', 'HOST_IA32_FRED_RSP3', 0x1010n],
    ['ssp1', 'HOST_IA32_FRED_SSP1', 0x1004n],
    ['ssp2', 'HOST_IA32_FRED_SSP2', 0x1002n],
    ['ssp3', 'HOST_IA32_FRED_SSP3', 0x1001n],
  ] as const)('IA32_FRED_%s', (name, field, misaligned) => {
    it('must be canonical', () => {
      expectHostFailure(with_({ [field]: NON_CANONICAL }), `${G}.fred-${name}-canonical`);
      expectHostPass(with_({ [field]: CANONICAL_HIGH }), `${G}.fred-${name}-canonical`);
    });

    it(`must be aligned (RSPn: 64 bytes, SSPn: 8 bytes): ${misaligned.toString(16)}H fails`, () => {
      expectHostFailure(with_({ [field]: misaligned }), `${G}.fred-${name}-aligned`);
      expectHostPass(with_({ [field]: 0x4000n }), `${G}.fred-${name}-aligned`);
    });
  });

  it('with "load FRED" = 0 the FRED fields are not checked', () => {
    expectHostPass(with_({ SECONDARY_VM_EXIT_CONTROLS: 0n, HOST_IA32_FRED_CONFIG: bit(2) }), `${G}.fred-config-reserved`);
  });

  it('on a processor without FRED the checks do not apply (setting "load FRED" is a control failure, VMfailValid(7))', () => {
    const state = hostVmcs({ PRIMARY_VM_EXIT_CONTROLS: fred.PRIMARY_VM_EXIT_CONTROLS, SECONDARY_VM_EXIT_CONTROLS: fred.SECONDARY_VM_EXIT_CONTROLS }, maximal());
    expectHostPass(state, `${G}.fred-config-reserved`, 'not-applicable');
    expectHostPass(state, `${G}.fred-rsp1-canonical`, 'not-applicable');
  });
});
