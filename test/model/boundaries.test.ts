/**
 * The model at the limits its rules compare with, on both sides and at the limit: each single
 * misaligned bit below 12, the bit at the pointer width and the one below, CPL 1, 2 and 3, the
 * reserved bits of an encoding, field widths, INVEPT/INVVPID type registers with bits 63:32 set,
 * INVVPID's reserved descriptor bits and canonical edges, and each field of an EPTP.
 *
 * Expected outcomes come from SDM Vol. 3C, December 2023: the Operation sections of §31.3 "VMX
 * Instructions" (VMXON—Enter VMX Operation, VMCLEAR—Clear Virtual-Machine Control Structure,
 * VMPTRLD—Load Pointer to Virtual-Machine Control Structure, VMREAD—Read Field from
 * Virtual-Machine Control Structure, VMWRITE—Write Field to Virtual-Machine Control Structure,
 * INVEPT—Invalidate Translations Derived from EPT, INVVPID—Invalidate Translations Based on VPID),
 * the error numbers of §31.4 "VM Instruction Error Numbers" (2: VMCLEAR with invalid physical
 * address, 9: VMPTRLD with invalid physical address, 12: VMREAD/VMWRITE from/to unsupported VMCS
 * component, 28: invalid operand to INVEPT/INVVPID), the encoding layout of §25.11.2 "VMREAD,
 * VMWRITE, and Encodings of VMCS Fields", and the EPTP checks of §27.2.1.1 "VM-Execution Control
 * Fields" against the skylake profile's IA32_VMX_EPT_VPID_CAP (0xf0106734141: UC bit 8 and WB bit 14
 * supported, 4-level walk bit 6 yes, 5-level walk bit 7 no, accessed/dirty bit 21 yes, supervisor
 * shadow stack bit 23 no; INVEPT types 1 and 2 bits 25-26; INVVPID types 0-3 bits 40-43).
 */
import { describe, it } from 'vitest';
import type { ModelState } from '../../model/index.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { FIELD } from '../../spec/fields.ts';
import type { Operation } from '../../spec/operations.ts';
import { createProfile } from '../../spec/profile.ts';
import {
  expectOnly,
  expectStep,
  failInvalid,
  failValid,
  fresh,
  gp,
  hex,
  inRoot,
  layRegion,
  patchCpu,
  skylake,
  succeed,
  VMCS_A,
  VMCS_B,
  VMXON_0,
  withCurrent,
  write,
} from './helpers.ts';

const BITS_BELOW_12 = Array.from({ length: 12 }, (_, b) => b);
const bit = (n: number): bigint => 1n << BigInt(n);
const WIDTH = skylake().pointerWidth;

/** Skylake with a 32-bit physical-address width (IA32_VMX_BASIC[48] is 0 on every Intel 64 profile). */
function narrow() {
  return createProfile({ ...skylake().data, name: 'skylake-32-bit-addresses', physicalAddressWidth: 32 });
}

const at = (state: ModelState, cpl: number): ModelState => patchCpu(state, 0, { cpl });
const outside64 = (state: ModelState): ModelState => patchCpu(state, 0, { eferLma: 0 });
type WithoutCpu<T> = T extends Operation ? Omit<T, 'cpu'> : never;
const op = (o: WithoutCpu<Operation>): Operation => ({ cpu: 0, ...o }) as Operation;

describe('VMPTRLD at the limits of its address checks', () => {
  it('fails with VMfail(9) for a pointer misaligned in any single bit below 12, 2800H among them', () => {
    for (const b of BITS_BELOW_12) {
      expectOnly(withCurrent(), op({ kind: 'vmptrld', pointer: hex(VMCS_B | bit(b)) }), failValid(VM_ERROR.VMPTRLD_INVALID_ADDRESS), 'vmptrld.pointer-not-aligned');
    }
    expectOnly(withCurrent(), op({ kind: 'vmptrld', pointer: hex(0x2800n) }), failValid(9), 'vmptrld.pointer-not-aligned');
    expectOnly(inRoot(), op({ kind: 'vmptrld', pointer: hex(0x2800n) }), failInvalid(), 'vmptrld.pointer-not-aligned');
  });

  it('fails with VMfail(9) for the bit at the physical-address width, and accepts the bit below it', () => {
    expectOnly(withCurrent(), op({ kind: 'vmptrld', pointer: hex(bit(WIDTH)) }), failValid(9), 'vmptrld.pointer-beyond-address-width');
    const high = bit(WIDTH - 1);
    expectOnly(layRegion(withCurrent(), high), op({ kind: 'vmptrld', pointer: hex(high) }), succeed(), 'vmptrld.success');
  });

  it('with a 32-bit physical-address width, fails for bit 32 and accepts bit 31', () => {
    const state = withCurrent(narrow());
    expectOnly(state, op({ kind: 'vmptrld', pointer: hex(bit(32)) }), failValid(9), 'vmptrld.pointer-beyond-address-width');
    expectOnly(layRegion(state, bit(31)), op({ kind: 'vmptrld', pointer: hex(bit(31)) }), succeed(), 'vmptrld.success');
  });

  it('raises #GP(0) at CPL 1, 2 and 3', () => {
    for (const cpl of [1, 2, 3]) expectOnly(at(withCurrent(), cpl), op({ kind: 'vmptrld', pointer: hex(VMCS_B) }), gp(), 'vmptrld.gp-cpl');
  });
});

describe('VMCLEAR at the limits of its checks', () => {
  it('fails with VMfail(2) for a pointer misaligned in any single bit below 12, 2800H among them', () => {
    for (const b of [...BITS_BELOW_12]) {
      expectOnly(withCurrent(), op({ kind: 'vmclear', pointer: hex(VMCS_B | bit(b)) }), failValid(VM_ERROR.VMCLEAR_INVALID_ADDRESS), 'vmclear.pointer-not-aligned');
    }
    expectOnly(inRoot(), op({ kind: 'vmclear', pointer: hex(0x2800n) }), failInvalid(), 'vmclear.pointer-not-aligned');
  });

  it('fails with VMfail(2) for the bit at the physical-address width, and clears at the bit below it', () => {
    expectOnly(withCurrent(), op({ kind: 'vmclear', pointer: hex(bit(WIDTH)) }), failValid(2), 'vmclear.pointer-beyond-address-width');
    expectOnly(withCurrent(), op({ kind: 'vmclear', pointer: hex(bit(WIDTH - 1)) }), succeed(), 'vmclear.success');
  });

  it('raises #GP(0) at CPL 1, 2 and 3', () => {
    for (const cpl of [1, 2, 3]) expectOnly(at(withCurrent(), cpl), op({ kind: 'vmclear', pointer: hex(VMCS_A) }), gp(), 'vmclear.gp-cpl');
  });
});

describe('VMXON at the limits of its checks', () => {
  it('fails with VMfailInvalid for a pointer misaligned in any single bit below 12', () => {
    for (const b of BITS_BELOW_12) {
      expectOnly(layRegion(fresh(), VMXON_0), op({ kind: 'vmxon', pointer: hex(VMXON_0 | bit(b)) }), failInvalid(), 'vmxon.pointer-not-aligned');
    }
  });

  it('fails for the bit at the physical-address width and enters VMX operation at the bit below it', () => {
    expectOnly(fresh(), op({ kind: 'vmxon', pointer: hex(bit(WIDTH)) }), failInvalid(), 'vmxon.pointer-beyond-address-width');
    const high = bit(WIDTH - 1);
    expectOnly(layRegion(fresh(), high), op({ kind: 'vmxon', pointer: hex(high) }), succeed(), 'vmxon.success');
  });

  it('raises #GP(0) at CPL 1, 2 and 3, outside VMX operation and in VMX root operation', () => {
    for (const cpl of [1, 2, 3]) {
      expectOnly(at(layRegion(fresh(), VMXON_0), cpl), op({ kind: 'vmxon', pointer: hex(VMXON_0) }), gp(), 'vmxon.gp-cpl');
      expectOnly(at(inRoot(), cpl), op({ kind: 'vmxon', pointer: hex(VMXON_0) }), gp(), 'vmxon.gp-cpl-in-vmx-root');
    }
  });
});

describe('the CPL check of every other VMX instruction', () => {
  const cases: [Operation, string][] = [
    [op({ kind: 'vmxoff' }), 'vmxoff.gp-cpl'],
    [op({ kind: 'vmptrst' }), 'vmptrst.gp-cpl'],
    [op({ kind: 'vmread', encoding: hex(FIELD.GUEST_RIP) }), 'vmread.gp-cpl'],
    [op({ kind: 'vmwrite', encoding: hex(FIELD.GUEST_RIP), value: hex(0n) }), 'vmwrite.gp-cpl'],
    [op({ kind: 'vmlaunch' }), 'vmentry.gp-cpl'],
    [op({ kind: 'vmresume' }), 'vmentry.gp-cpl'],
    [op({ kind: 'invept', type: hex(2n), descriptor: [hex(0n), hex(0n)] }), 'invept.gp-cpl'],
    [op({ kind: 'invvpid', type: hex(2n), descriptor: [hex(0n), hex(0n)] }), 'invvpid.gp-cpl'],
    [op({ kind: 'vmcall' }), 'vmcall.gp-cpl'],
  ];
  for (const [instruction, rule] of cases) {
    it(`${instruction.kind} raises #GP(0) at CPL 1, 2 and 3`, () => {
      for (const cpl of [1, 2, 3]) expectOnly(at(withCurrent(), cpl), instruction, gp(), rule);
    });
  }
});

describe('VMREAD and VMWRITE at the limits of the encoding and the field width', () => {
  const read = (encoding: bigint): Operation => op({ kind: 'vmread', encoding: hex(encoding) });
  const written = (encoding: bigint, value = 0n): Operation => op({ kind: 'vmwrite', encoding: hex(encoding), value: hex(value) });
  const rip = BigInt(FIELD.GUEST_RIP);

  it('fail with VMfailValid(12) for reserved bit 12 and for each of bits 31:15', () => {
    for (const b of [12, ...Array.from({ length: 17 }, (_, i) => 15 + i)]) {
      expectOnly(withCurrent(), read(rip | bit(b)), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmread.unsupported-field');
      expectOnly(withCurrent(), written(rip | bit(b)), failValid(12), 'vmwrite.unsupported-field');
    }
  });

  it('fail with VMfailValid(12) for each of bits 63:32 in 64-bit mode, and ignore them outside it', () => {
    for (const b of [32, 33, 47, 62, 63]) {
      expectOnly(withCurrent(), read(rip | bit(b)), failValid(12), 'vmread.encoding-above-bit-31');
      expectOnly(withCurrent(), written(rip | bit(b)), failValid(12), 'vmwrite.encoding-above-bit-31');
      expectOnly(outside64(withCurrent()), written(rip | bit(b), 5n), succeed(), 'vmwrite.success');
    }
    const after = write(withCurrent(), FIELD.GUEST_RIP, 7n);
    expectOnly(outside64(after), read(rip | bit(32)), succeed(7n), 'vmread.success');
  });

  it('accept the high access type only for a 64-bit field', () => {
    expectOnly(withCurrent(), read(BigInt(FIELD.GUEST_ES_SELECTOR) | 1n), failValid(12), 'vmread.unsupported-field');
    expectOnly(withCurrent(), read(rip | 1n), failValid(12), 'vmread.unsupported-field');
    const link = write(withCurrent(), FIELD.VMCS_LINK_POINTER, 0x1234_5678_9abc_def0n);
    expectOnly(link, read(BigInt(FIELD.VMCS_LINK_POINTER) | 1n), succeed(0x1234_5678n), 'vmread.success');
  });

  it('cut a written value to the field width: bit 16 of a 16-bit field, bit 32 of a 32-bit field', () => {
    const narrowField = write(withCurrent(), FIELD.GUEST_ES_SELECTOR, 0x1_ffffn);
    expectOnly(narrowField, read(BigInt(FIELD.GUEST_ES_SELECTOR)), succeed(0xffffn), 'vmread.success');
    const dword = write(withCurrent(), FIELD.GUEST_ES_LIMIT, 0x1_ffff_ffffn);
    expectOnly(dword, read(BigInt(FIELD.GUEST_ES_LIMIT)), succeed(0xffff_ffffn), 'vmread.success');
    const full = write(withCurrent(), FIELD.GUEST_RIP, 0x8000_0000_0000_0001n);
    expectOnly(full, read(rip), succeed(0x8000_0000_0000_0001n), 'vmread.success');
  });

  it('outside 64-bit mode write bits 31:0 of the value and clear the high bits of a wider field', () => {
    const after = expectOnly(outside64(withCurrent()), written(rip, 0xffff_ffff_0000_0001n), succeed(), 'vmwrite.success');
    expectOnly(patchCpu(after, 0, { eferLma: 1 }), read(rip), succeed(1n), 'vmread.success');
  });
});

describe('INVEPT and INVVPID type registers with bits 63:32 set', () => {
  const invept = (type: bigint, eptp = 0x2000n | (3n << 3n) | 6n): Operation => op({ kind: 'invept', type: hex(type), descriptor: [hex(eptp), hex(0n)] });
  const invvpid = (type: bigint, low = 1n, address = 0n): Operation => op({ kind: 'invvpid', type: hex(type), descriptor: [hex(low), hex(address)] });

  it('in 64-bit mode, type 1_00000002H and 1_00000001H are unsupported types: VMfail(28)', () => {
    for (const type of [bit(32) | 2n, bit(32) | 1n, bit(63) | 2n]) {
      expectOnly(withCurrent(), invept(type), failValid(VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND), 'invept.type-unsupported');
      expectOnly(withCurrent(), invvpid(type), failValid(28), 'invvpid.type-unsupported');
    }
  });

  it('outside 64-bit mode the register is 32 bits: type 1_00000002H is type 2 and succeeds', () => {
    expectOnly(outside64(withCurrent()), invept(bit(32) | 2n), succeed(), 'invept.all-context');
    expectOnly(outside64(withCurrent()), invvpid(bit(32) | 2n), succeed(), 'invvpid.all-context');
  });

  it('types 0, 3 and 4 of INVEPT and type 4 of INVVPID are unsupported', () => {
    for (const type of [0n, 3n, 4n]) expectOnly(withCurrent(), invept(type), failValid(28), 'invept.type-unsupported');
    expectOnly(withCurrent(), invvpid(4n), failValid(28), 'invvpid.type-unsupported');
  });
});

describe('INVVPID descriptors at their limits', () => {
  const invvpid = (type: bigint, low: bigint, address = 0n): Operation => op({ kind: 'invvpid', type: hex(type), descriptor: [hex(low), hex(address)] });

  it('fails with VMfail(28) when exactly one of bits 63:16 is set, and accepts VPID FFFFH', () => {
    for (const b of [16, 17, 31, 32, 63]) expectOnly(withCurrent(), invvpid(1n, 1n | bit(b)), failValid(28), 'invvpid.descriptor-reserved-bits');
    expectOnly(withCurrent(), invvpid(1n, 0xffffn), succeed(), 'invvpid.single-context');
  });

  it('takes the last and first canonical addresses, allows both outcomes between 48 and 57 bits, rejects past 57 bits', () => {
    expectOnly(withCurrent(), invvpid(0n, 1n, 0x0000_7fff_ffff_ffffn), succeed(), 'invvpid.individual-address');
    expectOnly(withCurrent(), invvpid(0n, 1n, 0xffff_8000_0000_0000n), succeed(), 'invvpid.individual-address');
    expectStep(withCurrent(), invvpid(0n, 1n, 0x0000_8000_0000_0000n), succeed(), 'invvpid.individual-address-linear-width');
    expectStep(withCurrent(), invvpid(0n, 1n, 0x0000_8000_0000_0000n), failValid(28), 'invvpid.individual-address-linear-width');
    expectOnly(withCurrent(), invvpid(0n, 1n, 0x0100_0000_0000_0000n), failValid(28), 'invvpid.individual-address-non-canonical');
    expectOnly(withCurrent(), invvpid(0n, 1n, 0xfeff_ffff_ffff_ffffn), failValid(28), 'invvpid.individual-address-non-canonical');
  });
});

describe('single-context INVEPT with each EPTP field at its limit (skylake capabilities)', () => {
  const base = 0x2000n | (3n << 3n) | 6n;
  const invept = (eptp: bigint): Operation => op({ kind: 'invept', type: hex(1n), descriptor: [hex(eptp), hex(0n)] });
  const accepted = (eptp: bigint) => expectOnly(withCurrent(), invept(eptp), succeed(), 'invept.single-context');
  const rejected = (eptp: bigint, rule: string) => expectOnly(withCurrent(), invept(eptp), failValid(28), rule);

  it('accepts memory types UC (0) and WB (6) only', () => {
    for (const type of [0n, 6n]) accepted((base & ~7n) | type);
    for (const type of [1n, 2n, 3n, 4n, 5n, 7n]) rejected((base & ~7n) | type, 'invept.eptp-memory-type');
  });

  it('accepts a 4-level walk only (5 levels are not supported by this profile)', () => {
    for (const length of [1n, 2n, 3n, 5n, 6n, 7n, 8n]) rejected((base & ~(7n << 3n)) | ((length - 1n) << 3n), 'invept.eptp-page-walk-length');
  });

  it('accepts bit 6 (accessed and dirty flags supported), rejects bit 7 and each of reserved bits 11:8', () => {
    accepted(base | bit(6));
    rejected(base | bit(7), 'invept.eptp-supervisor-shadow-stack');
    for (const b of [8, 9, 10, 11]) rejected(base | bit(b), 'invept.eptp-reserved-bits');
  });

  it('accepts the address bit below the physical-address width and rejects the bit at it', () => {
    const width = skylake().data.physicalAddressWidth;
    accepted(base | bit(width - 1));
    rejected(base | bit(width), 'invept.eptp-beyond-address-width');
  });
});
