/**
 * VM-execution control checks at VM entry. Expected outcomes from SDM Vol. 3C §26.2.1.1
 * "VM-Execution Control Fields" (2016; December 2023 §27.2.1.1), the 2008-era §22.2.1.1 where the
 * 2016 pages are cut off, Vol. 3D §A.11 "VM Functions", and the capability MSRs of Appendix A as
 * the profiles report them. A failure is VMfailValid(7) (§26.2: "VM entry fails ... with error
 * number 7"); each failing case expects the check's rule, each passing case shows that the same
 * check no longer fails (it passes or does not apply).
 */
import { describe, expect, it } from 'vitest';
import { createProfile } from '../../../spec/profile.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import { EXIT_CONTROL, PIN_CONTROL, PRIMARY_CONTROL as P, SECONDARY_CONTROL as S, VMFUNC_CONTROL } from '../../../spec/control-bits.ts';
import { EPT_VPID_CAP } from '../../../spec/capability-msrs.ts';
import { judgeControlsAndHost } from '../../../model/vm-entry/controls-and-host.ts';
import { viewOf } from '../../../model/vm-entry/view.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import type { ModelState } from '../../../model/index.ts';
import { core2, expectNotModelled, expectStep, failValid, maximal, skylake, store } from '../helpers.ts';
import { CONTROLS_OK, expectCheck, expectNoFailure, expectPastControlsAndHost, vmcsWith } from './helpers.ts';

const launch = { kind: 'vmlaunch', cpu: 0 } as const;
const bit = (n: number): bigint => 1n << BigInt(n);
type Fields = Partial<Record<FieldName, bigint>>;

const fails = (state: ModelState, ruleId: string): void => {
  expectStep(state, launch, failValid(VM_ERROR.ENTRY_INVALID_CONTROLS), ruleId);
};

const PRIMARY_OK = CONTROLS_OK.PRIMARY_PROCESSOR_BASED_CONTROLS;
const WIDTH = 46; // skylake's physical-address width (IA32_VMX_BASIC[48] = 0)

/** Control fields with primary controls `primary` added to skylake's must-be-1 bits. */
const withPrimary = (primary: bigint, extra: Fields = {}): Fields => ({ ...CONTROLS_OK, PRIMARY_PROCESSOR_BASED_CONTROLS: PRIMARY_OK | primary, ...extra });

/** Control fields with "activate secondary controls" and secondary controls `secondary`. */
const withSecondary = (secondary: bigint, extra: Fields = {}, primary = 0n): Fields =>
  withPrimary(bit(P.ACTIVATE_SECONDARY_CONTROLS) | primary, { SECONDARY_PROCESSOR_BASED_CONTROLS: secondary, ...extra });

/** "Use TPR shadow" with a valid virtual-APIC page and TPR threshold 0. */
const TPR_SHADOW = bit(P.USE_TPR_SHADOW);
const TPR_FIELDS: Fields = { VIRTUAL_APIC_ADDRESS: 0x40000n, TPR_THRESHOLD: 0n };

/** An EPTP skylake accepts: write-back (6), 4-level walk (bits 5:3 = 3), table at 50000H. */
const EPTP_OK = 0x5_001en;
const EPT_FIELDS: Fields = { EPT_POINTER: EPTP_OK };

/** Posted interrupts with everything they need. */
const POSTED_PIN = CONTROLS_OK.PIN_BASED_CONTROLS | bit(PIN_CONTROL.PROCESS_POSTED_INTERRUPTS) | bit(PIN_CONTROL.EXTERNAL_INTERRUPT_EXITING);
const POSTED: Fields = {
  ...withSecondary(bit(S.VIRTUAL_INTERRUPT_DELIVERY), { ...TPR_FIELDS, PIN_BASED_CONTROLS: POSTED_PIN }, TPR_SHADOW),
  PRIMARY_VM_EXIT_CONTROLS: CONTROLS_OK.PRIMARY_VM_EXIT_CONTROLS | bit(EXIT_CONTROL.ACKNOWLEDGE_INTERRUPT_ON_EXIT),
  POSTED_INTERRUPT_NOTIFICATION_VECTOR: 0xf2n,
  POSTED_INTERRUPT_DESCRIPTOR_ADDRESS: 0x4_0040n,
};

describe('VM-execution control fields (VMfailValid(7))', () => {
  it('controls that pass every control check: nothing fails, what follows is not modelled yet', () => {
    expectPastControlsAndHost(vmcsWith(CONTROLS_OK), launch);
  });

  it('a processor without secondary controls (core2): the secondary field, which it lacks, is never read (§25.6.2, December 2023: they act as 0)', () => {
    const core2Controls = { ...CONTROLS_OK, PRIMARY_PROCESSOR_BASED_CONTROLS: 0x0401_e172n, PRIMARY_VM_EXIT_CONTROLS: 0x36dffn | (1n << 9n), VM_ENTRY_CONTROLS: 0x11ffn };
    expectPastControlsAndHost(vmcsWith(core2Controls, core2()), launch);
  });

  describe('reserved bits of the pin-based, primary, secondary and tertiary controls (Appendix A.3)', () => {
    it('pin-based: bit 1, must-be-1 in IA32_VMX_TRUE_PINBASED_CTLS, cleared fails', () => {
      fails(vmcsWith({ ...CONTROLS_OK, PIN_BASED_CONTROLS: 0x14n }), 'execution-controls.pin-based-must-be-1');
      expectNoFailure(vmcsWith(CONTROLS_OK), 'execution-controls.pin-based-must-be-1');
    });

    it('pin-based: bit 8, not allowed by bits 63:32, set fails; "virtual NMIs" (allowed) does not', () => {
      fails(vmcsWith({ ...CONTROLS_OK, PIN_BASED_CONTROLS: 0x16n | bit(8) }), 'execution-controls.pin-based-allowed-1');
      const nmis = 0x16n | bit(PIN_CONTROL.NMI_EXITING) | bit(PIN_CONTROL.VIRTUAL_NMIS);
      expectNoFailure(vmcsWith({ ...CONTROLS_OK, PIN_BASED_CONTROLS: nmis }), 'execution-controls.pin-based-allowed-1');
    });

    it('primary: bit 1, must-be-1 in the TRUE MSR, cleared fails', () => {
      fails(vmcsWith(withPrimary(0n, { PRIMARY_PROCESSOR_BASED_CONTROLS: PRIMARY_OK & ~bit(1) })), 'execution-controls.primary-must-be-1');
      expectNoFailure(vmcsWith(CONTROLS_OK), 'execution-controls.primary-must-be-1');
    });

    it('primary: bit 0, never allowed by skylake, set fails; "HLT exiting" does not', () => {
      fails(vmcsWith(withPrimary(bit(0))), 'execution-controls.primary-allowed-1');
      expectNoFailure(vmcsWith(withPrimary(bit(P.HLT_EXITING))), 'execution-controls.primary-allowed-1');
    });

    it('secondary: "enable ENCLS exiting" (bit 15), not allowed by IA32_VMX_PROCBASED_CTLS2, fails only while "activate secondary controls" is 1', () => {
      fails(vmcsWith(withSecondary(bit(S.ENABLE_ENCLS_EXITING))), 'execution-controls.secondary-allowed-1');
      expectNoFailure(vmcsWith(withSecondary(0n)), 'execution-controls.secondary-allowed-1');
      expectCheck(vmcsWith({ ...CONTROLS_OK, SECONDARY_PROCESSOR_BASED_CONTROLS: bit(S.ENABLE_ENCLS_EXITING) }), 'execution-controls.secondary-allowed-1', 'not-applicable');
    });

    it('tertiary (maximal: IA32_VMX_PROCBASED_CTLS3 = 9FH): bit 5 fails, bit 0 passes', () => {
      const tertiary = (value: bigint): ModelState => vmcsWith(withPrimary(bit(P.ACTIVATE_TERTIARY_CONTROLS), { TERTIARY_PROCESSOR_BASED_CONTROLS: value }), maximal());
      fails(tertiary(bit(5)), 'execution-controls.tertiary-allowed-1');
      expectCheck(tertiary(bit(0)), 'execution-controls.tertiary-allowed-1', 'pass');
    });
  });

  it('CR3-target count: at most 4 (IA32_VMX_MISC[24:16] = 4 on skylake)', () => {
    fails(vmcsWith({ ...CONTROLS_OK, CR3_TARGET_COUNT: 5n }), 'execution-controls.cr3-target-count');
    expectCheck(vmcsWith({ ...CONTROLS_OK, CR3_TARGET_COUNT: 4n }), 'execution-controls.cr3-target-count', 'pass');
  });

  /** Address checks: bits 11:0 must be 0; no bit at or above the physical-address width. */
  describe.each([
    ['I/O bitmap A', 'io-bitmap-a', 'IO_BITMAP_A_ADDRESS', withPrimary(bit(P.USE_IO_BITMAPS), { IO_BITMAP_B_ADDRESS: 0x6000n })],
    ['I/O bitmap B', 'io-bitmap-b', 'IO_BITMAP_B_ADDRESS', withPrimary(bit(P.USE_IO_BITMAPS), { IO_BITMAP_A_ADDRESS: 0x5000n })],
    ['MSR bitmap', 'msr-bitmap', 'MSR_BITMAPS_ADDRESS', withPrimary(bit(P.USE_MSR_BITMAPS))],
    ['virtual-APIC page', 'virtual-apic', 'VIRTUAL_APIC_ADDRESS', withPrimary(TPR_SHADOW, { TPR_THRESHOLD: 0n })],
    ['APIC-access page', 'apic-access', 'APIC_ACCESS_ADDRESS', withSecondary(bit(S.VIRTUALIZE_APIC_ACCESSES))],
    ['PML address', 'pml-address', 'PML_ADDRESS', withSecondary(bit(S.ENABLE_PML) | bit(S.ENABLE_EPT), EPT_FIELDS)],
    ['VMREAD bitmap', 'vmread-bitmap', 'VMREAD_BITMAP_ADDRESS', withSecondary(bit(S.VMCS_SHADOWING), { VMWRITE_BITMAP_ADDRESS: 0x6000n })],
    ['VMWRITE bitmap', 'vmwrite-bitmap', 'VMWRITE_BITMAP_ADDRESS', withSecondary(bit(S.VMCS_SHADOWING), { VMREAD_BITMAP_ADDRESS: 0x5000n })],
    ['#VE information', 've-information', 'VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS', withSecondary(bit(S.EPT_VIOLATION_VE) | bit(S.ENABLE_EPT), EPT_FIELDS)],
    ['EPTP list', 'eptp-list', 'EPTP_LIST_ADDRESS', withSecondary(bit(S.ENABLE_VM_FUNCTIONS) | bit(S.ENABLE_EPT), { ...EPT_FIELDS, VM_FUNCTION_CONTROLS: bit(VMFUNC_CONTROL.EPTP_SWITCHING) })],
  ] as const)('%s address', (_name, stem, field, fields) => {
    it('bit 0 set (not 4-KByte aligned) fails', () => {
      fails(vmcsWith({ ...fields, [field]: 0x7001n }), `execution-controls.${stem}-aligned`);
    });

    it(`bit ${WIDTH} set (beyond the physical-address width) fails`, () => {
      fails(vmcsWith({ ...fields, [field]: bit(WIDTH) }), `execution-controls.${stem}-width`);
    });

    it(`a 4-KByte-aligned address below bit ${WIDTH} passes both`, () => {
      const state = vmcsWith({ ...fields, [field]: bit(WIDTH) - 0x1000n });
      expectCheck(state, `execution-controls.${stem}-aligned`, 'pass');
      expectCheck(state, `execution-controls.${stem}-width`, 'pass');
    });
  });

  it('the sub-page-permission-table pointer (maximal, width 52): aligned and within the width', () => {
    const spp = (pointer: bigint): ModelState =>
      vmcsWith(withSecondary(bit(S.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT) | bit(S.ENABLE_EPT), { ...EPT_FIELDS, SUB_PAGE_PERMISSION_TABLE_POINTER: pointer }), maximal());
    fails(spp(0x7001n), 'execution-controls.sub-page-permission-table-aligned');
    fails(spp(bit(52)), 'execution-controls.sub-page-permission-table-width');
    expectCheck(spp(0x7000n), 'execution-controls.sub-page-permission-table-aligned', 'pass');
    expectCheck(spp(0x7000n), 'execution-controls.sub-page-permission-table-width', 'pass');
  });

  it('address checks do not apply while their control is 0 (the addresses are not used)', () => {
    const state = vmcsWith({ ...CONTROLS_OK, IO_BITMAP_A_ADDRESS: 0x7001n, MSR_BITMAPS_ADDRESS: bit(WIDTH) });
    expectCheck(state, 'execution-controls.io-bitmap-a-aligned', 'not-applicable');
    expectCheck(state, 'execution-controls.msr-bitmap-width', 'not-applicable');
  });

  describe('TPR threshold ("use TPR shadow" = 1)', () => {
    it('bits 31:4 must be 0: threshold 10H fails, 0FH does not', () => {
      fails(vmcsWith(withPrimary(TPR_SHADOW, { ...TPR_FIELDS, TPR_THRESHOLD: 0x10n })), 'execution-controls.tpr-threshold-reserved');
      expectCheck(vmcsWith(withPrimary(TPR_SHADOW, { ...TPR_FIELDS, TPR_THRESHOLD: 0xfn })), 'execution-controls.tpr-threshold-reserved', 'pass');
    });

    it('with "virtual-interrupt delivery" = 1 the threshold is not checked', () => {
      const vid = withSecondary(bit(S.VIRTUAL_INTERRUPT_DELIVERY), { ...TPR_FIELDS, TPR_THRESHOLD: 0x10n, PIN_BASED_CONTROLS: 0x17n }, TPR_SHADOW);
      expectCheck(vmcsWith(vid), 'execution-controls.tpr-threshold-reserved', 'not-applicable');
      expectCheck(vmcsWith(vid), 'execution-controls.tpr-threshold-vs-vtpr', 'not-applicable');
    });

    it('bits 3:0 must not exceed VTPR bits 7:4 (byte 80H of the virtual-APIC page)', () => {
      const state = vmcsWith(withPrimary(TPR_SHADOW, { ...TPR_FIELDS, TPR_THRESHOLD: 3n }));
      fails(store(state, 0x40080n, 0x20), 'execution-controls.tpr-threshold-vs-vtpr');
      expectCheck(store(state, 0x40080n, 0x30), 'execution-controls.tpr-threshold-vs-vtpr', 'pass');
      fails(state, 'execution-controls.tpr-threshold-vs-vtpr'); // memory never written reads 0: VTPR = 0
    });

    it('§27.2.1.1: only bits 3:0 of the threshold are compared with VTPR bits 7:4: threshold 10H with VTPR 0 passes the comparison (it fails the bits 31:4 check instead)', () => {
      const state = vmcsWith(withPrimary(TPR_SHADOW, { ...TPR_FIELDS, TPR_THRESHOLD: 0x10n }));
      expectCheck(state, 'execution-controls.tpr-threshold-vs-vtpr', 'pass');
      expectCheck(state, 'execution-controls.tpr-threshold-reserved', 'fail');
    });

    it('with "virtualize APIC accesses" = 1 the VTPR comparison does not apply', () => {
      const vaa = withSecondary(bit(S.VIRTUALIZE_APIC_ACCESSES), { ...TPR_FIELDS, TPR_THRESHOLD: 3n, APIC_ACCESS_ADDRESS: 0x9000n }, TPR_SHADOW);
      expectCheck(vmcsWith(vaa), 'execution-controls.tpr-threshold-vs-vtpr', 'not-applicable');
    });

    it('where memory is not known (explain), the VTPR comparison is undecided, never guessed', () => {
      const state = vmcsWith(withPrimary(TPR_SHADOW, { ...TPR_FIELDS, TPR_THRESHOLD: 3n }));
      const content = currentVmcs(state, 0)?.content;
      if (content === undefined) throw new Error('test bug');
      const { judged } = judgeControlsAndHost(viewOf(content), { profile: state.profile, readMemory32: () => undefined, inSmm: false });
      const result = judged.find((each) => each.rule.id === 'execution-controls.tpr-threshold-vs-vtpr')?.result;
      expect(result).toEqual({ kind: 'undecided', missing: ['VTPR, byte 80H of the virtual-APIC page'] });
    });
  });

  describe('APIC virtualization needs "use TPR shadow"', () => {
    it.each([
      ['virtualize x2APIC mode', S.VIRTUALIZE_X2APIC_MODE, 'execution-controls.x2apic-mode-needs-tpr-shadow'],
      ['APIC-register virtualization', S.APIC_REGISTER_VIRTUALIZATION, 'execution-controls.apic-register-virtualization-needs-tpr-shadow'],
      ['virtual-interrupt delivery', S.VIRTUAL_INTERRUPT_DELIVERY, 'execution-controls.virtual-interrupt-delivery-needs-tpr-shadow'],
    ])('"%s" = 1 with "use TPR shadow" = 0 fails; with it, passes', (_name, control, ruleId) => {
      const pin = { PIN_BASED_CONTROLS: 0x17n }; // external-interrupt exiting, for virtual-interrupt delivery
      fails(vmcsWith(withSecondary(bit(control), pin)), ruleId);
      expectCheck(vmcsWith(withSecondary(bit(control), { ...pin, ...TPR_FIELDS }, TPR_SHADOW)), ruleId, 'pass');
    });

    it('"virtualize x2APIC mode" and "virtualize APIC accesses" are not both 1', () => {
      const both = withSecondary(bit(S.VIRTUALIZE_X2APIC_MODE) | bit(S.VIRTUALIZE_APIC_ACCESSES), { ...TPR_FIELDS, APIC_ACCESS_ADDRESS: 0x9000n }, TPR_SHADOW);
      fails(vmcsWith(both), 'execution-controls.x2apic-mode-excludes-apic-accesses');
      expectCheck(vmcsWith(withSecondary(bit(S.VIRTUALIZE_X2APIC_MODE), TPR_FIELDS, TPR_SHADOW)), 'execution-controls.x2apic-mode-excludes-apic-accesses', 'pass');
    });

    it('"virtual-interrupt delivery" needs "external-interrupt exiting"', () => {
      const vid = (pin: bigint): ModelState => vmcsWith(withSecondary(bit(S.VIRTUAL_INTERRUPT_DELIVERY), { ...TPR_FIELDS, PIN_BASED_CONTROLS: pin }, TPR_SHADOW));
      fails(vid(0x16n), 'execution-controls.virtual-interrupt-delivery-needs-external-interrupt-exiting');
      expectCheck(vid(0x17n), 'execution-controls.virtual-interrupt-delivery-needs-external-interrupt-exiting', 'pass');
    });
  });

  describe('NMI controls', () => {
    it('"virtual NMIs" = 1 needs "NMI exiting" = 1', () => {
      fails(vmcsWith({ ...CONTROLS_OK, PIN_BASED_CONTROLS: 0x16n | bit(PIN_CONTROL.VIRTUAL_NMIS) }), 'execution-controls.virtual-nmis-need-nmi-exiting');
      const both = 0x16n | bit(PIN_CONTROL.VIRTUAL_NMIS) | bit(PIN_CONTROL.NMI_EXITING);
      expectCheck(vmcsWith({ ...CONTROLS_OK, PIN_BASED_CONTROLS: both }), 'execution-controls.virtual-nmis-need-nmi-exiting', 'pass');
    });

    it('"NMI-window exiting" = 1 needs "virtual NMIs" = 1', () => {
      fails(vmcsWith(withPrimary(bit(P.NMI_WINDOW_EXITING))), 'execution-controls.nmi-window-needs-virtual-nmis');
      const nmis = 0x16n | bit(PIN_CONTROL.VIRTUAL_NMIS) | bit(PIN_CONTROL.NMI_EXITING);
      expectCheck(vmcsWith(withPrimary(bit(P.NMI_WINDOW_EXITING), { PIN_BASED_CONTROLS: nmis })), 'execution-controls.nmi-window-needs-virtual-nmis', 'pass');
    });
  });

  describe('posted-interrupt processing', () => {
    it('all its conditions met: no posted-interrupt check fails', () => {
      expectPastControlsAndHost(vmcsWith(POSTED), launch);
    });

    it('needs "virtual-interrupt delivery" (here: secondary controls not activated, so it is 0)', () => {
      fails(vmcsWith({ ...POSTED, PRIMARY_PROCESSOR_BASED_CONTROLS: PRIMARY_OK | TPR_SHADOW }), 'execution-controls.posted-interrupts-need-virtual-interrupt-delivery');
      expectCheck(vmcsWith(POSTED), 'execution-controls.posted-interrupts-need-virtual-interrupt-delivery', 'pass');
    });

    it('needs "acknowledge interrupt on exit"', () => {
      fails(vmcsWith({ ...POSTED, PRIMARY_VM_EXIT_CONTROLS: CONTROLS_OK.PRIMARY_VM_EXIT_CONTROLS }), 'execution-controls.posted-interrupts-need-acknowledge-on-exit');
      expectCheck(vmcsWith(POSTED), 'execution-controls.posted-interrupts-need-acknowledge-on-exit', 'pass');
    });

    it('notification vector: bits 15:8 must be 0 (100H fails, FFH passes)', () => {
      fails(vmcsWith({ ...POSTED, POSTED_INTERRUPT_NOTIFICATION_VECTOR: 0x100n }), 'execution-controls.posted-interrupt-vector-range');
      expectCheck(vmcsWith({ ...POSTED, POSTED_INTERRUPT_NOTIFICATION_VECTOR: 0xffn }), 'execution-controls.posted-interrupt-vector-range', 'pass');
    });

    it('descriptor address: bits 5:0 must be 0 (bit 5 fails, bit 6 passes)', () => {
      fails(vmcsWith({ ...POSTED, POSTED_INTERRUPT_DESCRIPTOR_ADDRESS: 0x4_0020n }), 'execution-controls.posted-interrupt-descriptor-aligned');
      expectCheck(vmcsWith(POSTED), 'execution-controls.posted-interrupt-descriptor-aligned', 'pass');
    });

    it(`descriptor address: bit ${WIDTH} fails, an address below it passes`, () => {
      fails(vmcsWith({ ...POSTED, POSTED_INTERRUPT_DESCRIPTOR_ADDRESS: bit(WIDTH) }), 'execution-controls.posted-interrupt-descriptor-width');
      expectCheck(vmcsWith({ ...POSTED, POSTED_INTERRUPT_DESCRIPTOR_ADDRESS: bit(WIDTH) - 64n }), 'execution-controls.posted-interrupt-descriptor-width', 'pass');
    });
  });

  it('"enable VPID" = 1: the VPID must not be 0000H', () => {
    fails(vmcsWith(withSecondary(bit(S.ENABLE_VPID), { VPID: 0n })), 'execution-controls.vpid-nonzero');
    expectCheck(vmcsWith(withSecondary(bit(S.ENABLE_VPID), { VPID: 1n })), 'execution-controls.vpid-nonzero', 'pass');
  });
});

describe('the EPTP ("enable EPT" = 1)', () => {
  const ept = (eptp: bigint, profile = skylake()): ModelState => vmcsWith(withSecondary(bit(S.ENABLE_EPT), { EPT_POINTER: eptp }), profile);

  it('a write-back, 4-level EPTP passes every EPTP check', () => {
    expectPastControlsAndHost(ept(EPTP_OK), launch);
  });

  it('memory type: 1 is reserved (fails); UC (0) passes with IA32_VMX_EPT_VPID_CAP[8] = 1', () => {
    fails(ept(EPTP_OK - 6n + 1n), 'execution-controls.eptp-memory-type');
    expectCheck(ept(EPTP_OK - 6n), 'execution-controls.eptp-memory-type', 'pass');
  });

  it('page-walk length: bits 5:3 = 2 fail; 4 (5-level) needs IA32_VMX_EPT_VPID_CAP[7], 0 on skylake, 1 on maximal', () => {
    const walk = (minus1: bigint): bigint => (EPTP_OK & ~0x38n) | (minus1 << 3n);
    fails(ept(walk(2n)), 'execution-controls.eptp-walk-length');
    fails(ept(walk(4n)), 'execution-controls.eptp-walk-length');
    expectCheck(ept(walk(4n), maximal()), 'execution-controls.eptp-walk-length', 'pass');
  });

  it('§27.2.1.1: bits 5:3 must be 3 (4 levels) or 4 (5 levels): on maximal, which supports both, every other value fails', () => {
    const walk = (minus1: bigint): bigint => (EPTP_OK & ~0x38n) | (minus1 << 3n);
    for (const minus1 of [0n, 1n, 2n, 5n, 6n, 7n]) expectCheck(ept(walk(minus1), maximal()), 'execution-controls.eptp-walk-length', 'fail');
    expectCheck(ept(walk(3n), maximal()), 'execution-controls.eptp-walk-length', 'pass');
  });

  it('bit 6 (accessed and dirty flags) needs IA32_VMX_EPT_VPID_CAP[21]', () => {
    const data = skylake().data;
    const capability = BigInt(data.msrs.IA32_VMX_EPT_VPID_CAP ?? '0') & ~bit(EPT_VPID_CAP.ACCESSED_DIRTY_FLAGS);
    const noAccessedDirty = createProfile({ ...data, name: 'skylake-without-ad', msrs: { ...data.msrs, IA32_VMX_EPT_VPID_CAP: `0x${capability.toString(16)}` } });
    fails(ept(EPTP_OK | bit(6), noAccessedDirty), 'execution-controls.eptp-accessed-dirty');
    expectCheck(ept(EPTP_OK | bit(6)), 'execution-controls.eptp-accessed-dirty', 'pass');
  });

  it('bit 7 (supervisor shadow-stack control) needs IA32_VMX_EPT_VPID_CAP[23]: 0 on skylake, 1 on maximal', () => {
    fails(ept(EPTP_OK | bit(7)), 'execution-controls.eptp-supervisor-shadow-stack');
    expectCheck(ept(EPTP_OK | bit(7), maximal()), 'execution-controls.eptp-supervisor-shadow-stack', 'pass');
  });

  it('bits 11:8 are reserved', () => {
    fails(ept(EPTP_OK | bit(8)), 'execution-controls.eptp-reserved-low-bits');
    fails(ept(EPTP_OK | bit(11)), 'execution-controls.eptp-reserved-low-bits');
    expectCheck(ept(EPTP_OK), 'execution-controls.eptp-reserved-low-bits', 'pass');
  });

  it(`bits 63:N are 0, N = ${WIDTH}: bit ${WIDTH} fails, bit ${WIDTH - 1} passes`, () => {
    fails(ept(EPTP_OK | bit(WIDTH)), 'execution-controls.eptp-width');
    expectCheck(ept(EPTP_OK | bit(WIDTH - 1)), 'execution-controls.eptp-width', 'pass');
  });

  it('with "enable EPT" = 0 the EPTP is not checked (an invalid one does not fail)', () => {
    expectCheck(vmcsWith(withSecondary(0n, { EPT_POINTER: 1n })), 'execution-controls.eptp-memory-type', 'not-applicable');
  });
});

describe('controls that need "enable EPT"', () => {
  it.each([
    ['enable PML', S.ENABLE_PML, { PML_ADDRESS: 0x7000n }, 'execution-controls.pml-needs-ept', skylake],
    ['unrestricted guest', S.UNRESTRICTED_GUEST, {}, 'execution-controls.unrestricted-guest-needs-ept', skylake],
    ['mode-based execute control for EPT', S.MODE_BASED_EXECUTE_CONTROL_FOR_EPT, {}, 'execution-controls.mode-based-execute-needs-ept', skylake],
    ['sub-page write permissions for EPT', S.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT, { SUB_PAGE_PERMISSION_TABLE_POINTER: 0x7000n }, 'execution-controls.sub-page-permissions-need-ept', maximal],
  ] as const)('"%s" = 1 with "enable EPT" = 0 fails; with it, passes', (_name, control, extra, ruleId, profile) => {
    fails(vmcsWith(withSecondary(bit(control), extra), profile()), ruleId);
    expectCheck(vmcsWith(withSecondary(bit(control) | bit(S.ENABLE_EPT), { ...extra, ...EPT_FIELDS }), profile()), ruleId, 'pass');
  });
});

describe('VM functions ("enable VM functions" = 1)', () => {
  const vmfunc = (controls: bigint, secondary = 0n): ModelState =>
    vmcsWith(withSecondary(bit(S.ENABLE_VM_FUNCTIONS) | secondary, { VM_FUNCTION_CONTROLS: controls, EPTP_LIST_ADDRESS: 0x7000n, ...EPT_FIELDS }));

  it('VM-function control bit 1, not allowed by IA32_VMX_VMFUNC (= 1), fails', () => {
    fails(vmfunc(bit(1), bit(S.ENABLE_EPT)), 'execution-controls.vm-function-controls-allowed');
    expectCheck(vmfunc(0n), 'execution-controls.vm-function-controls-allowed', 'pass');
  });

  it('the VM-function controls are not checked when "enable VM functions" is 0 (Appendix A.11)', () => {
    expectCheck(vmcsWith(withSecondary(0n, { VM_FUNCTION_CONTROLS: bit(1) })), 'execution-controls.vm-function-controls-allowed', 'not-applicable');
  });

  it('"EPTP switching" needs "enable EPT"', () => {
    fails(vmfunc(bit(VMFUNC_CONTROL.EPTP_SWITCHING)), 'execution-controls.eptp-switching-needs-ept');
    expectCheck(vmfunc(bit(VMFUNC_CONTROL.EPTP_SWITCHING), bit(S.ENABLE_EPT)), 'execution-controls.eptp-switching-needs-ept', 'pass');
  });
});
