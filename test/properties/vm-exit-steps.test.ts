/** The VM-exit step group: its shape, and both sides of each exit condition reached with a fixed seed. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyExitReasonCoverage, finishExitReasons, recordExitReasons } from '../../properties/exit-reason-coverage.ts';
import type { StepRecord } from '../../properties/differential.ts';
import { exceptionExits, ioExits, lmswExits, msrExits, predictExit, shadowAccessExits } from '../../properties/generators/exit-prediction.ts';
import { BITMAP_ADDRESSES, SHADOW_VMCS, bitmapWrites, exitSetupFields, shadowingOn, shadowVmcsLayout, type ExitSetup } from '../../properties/generators/exit-setup.ts';
import { EXIT_INFORMATION_READS, exitGroupPlan, roundOperations, vmExitSteps } from '../../properties/generators/vm-exit-steps.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { msrBitmapPosition } from '../../spec/exit-bitmaps.ts';
import { exitConditionsFor } from '../../spec/exit-conditions.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import { toHex } from '../../spec/hex.ts';
import type { Operation } from '../../spec/operations.ts';
import { loadProfile } from '../../spec/profiles.ts';

const skylake = loadProfile('skylake');

function setupWith(overrides: Partial<ExitSetup>): ExitSetup {
  return {
    primary: 0n, secondary: 0n, cr0Mask: 0n, cr0Shadow: 0n, cr4Mask: 0n, cr4Shadow: 0n, guestCr0: 0x8000_0031n, guestCr3: 0x21000n, guestCr4: 0x2020n,
    cr3Targets: [], exceptionBitmap: 0, pfecMask: 0, pfecMatch: 0, ioBits: new Map(), msrBits: new Map(), shadowBits: new Map(), guest64: true,
    features: { rdrand: true, rdseed: true, invpcid: true, xsaves: true }, xssBitmap: 0n, xss: undefined, vmfunc: 0n, eptp: undefined, ...overrides,
  };
}
const on = (name: keyof typeof PRIMARY_CONTROL): bigint => 1n << BigInt(PRIMARY_CONTROL[name]);

// Expectations from SDM Vol. 3C §26.1.3 "Instructions That Cause VM Exits Conditionally" and §26.2.
describe('exit prediction of the generator', () => {
  it('format-5 operations: RDRAND/RDSEED by their exiting controls, #UD without the feature; descriptor tables by "descriptor-table exiting"; GETSEC by CR4.SMXE; XSAVES by mask, IA32_XSS and the bitmap', () => {
    const second = (...names: (keyof typeof SECONDARY_CONTROL)[]): bigint => names.reduce((acc, n) => acc | (1n << BigInt(SECONDARY_CONTROL[n])), 0n);
    expect(predictExit(setupWith({ secondary: second('RDRAND_EXITING') }), { kind: 'rdrand', cpu: 0, gpr: 0, size: 32 })).toBe(true);
    expect(predictExit(setupWith({ secondary: 0n }), { kind: 'rdseed', cpu: 0, gpr: 0, size: 32 })).toBe(false);
    expect(predictExit(setupWith({ secondary: second('RDSEED_EXITING'), features: { rdrand: true, rdseed: false, invpcid: true, xsaves: true }, exceptionBitmap: 1 << 6 }), { kind: 'rdseed', cpu: 0, gpr: 0, size: 32 })).toBe(true);
    expect(predictExit(setupWith({ secondary: second('DESCRIPTOR_TABLE_EXITING') }), { kind: 'descriptor-table', cpu: 0, instruction: 'sgdt' })).toBe(true);
    expect(predictExit(setupWith({ secondary: 0n }), { kind: 'descriptor-table', cpu: 0, instruction: 'sidt' })).toBe(false);
    expect(predictExit(setupWith({ guestCr4: 0x4000n }), { kind: 'getsec', cpu: 0 })).toBe(true);
    expect(predictExit(setupWith({ guestCr4: 0n }), { kind: 'getsec', cpu: 0 })).toBe(false);
    const xsaves = setupWith({ guestCr4: 0x40000n, secondary: second('ENABLE_XSAVES_XRSTORS'), xss: 0x100n, xssBitmap: 0x100n });
    expect(predictExit(xsaves, { kind: 'xsaves', cpu: 0, mask: '0x100' })).toBe(true);
    expect(predictExit({ ...xsaves, xss: undefined }, { kind: 'xrstors', cpu: 0, mask: '0x100' })).toBeUndefined();
    expect(predictExit(setupWith({ secondary: second('ENABLE_INVPCID'), primary: on('INVLPG_EXITING') }), { kind: 'invpcid', cpu: 0, type: '0x0', descriptor: ['0x0', '0x0'] })).toBe(true);
  });

  // §31.3 "VMFUNC — Invoke VM Function" and §26.5.6.3 "EPTP Switching".
  it('VMFUNC: #UD without "enable VM functions"; exits for EAX > 63, a disabled function, ECX >= 512 or an invalid list entry; entry 0 switches', () => {
    const vmfunc = (eax: number, ecx: number): Operation => ({ kind: 'vmfunc', cpu: 0, eax: toHex(BigInt(eax)), ecx: toHex(BigInt(ecx)) });
    const enabled = 1n << BigInt(SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS);
    expect(predictExit(setupWith({ secondary: 0n }), vmfunc(0, 0))).toBe(false);
    expect(predictExit(setupWith({ secondary: 0n, exceptionBitmap: 1 << 6 }), vmfunc(0, 0))).toBe(true);
    const switching = setupWith({ secondary: enabled, vmfunc: 1n, eptp: 0x2201en });
    expect(predictExit(switching, vmfunc(64, 0))).toBe(true);
    expect(predictExit(switching, vmfunc(1, 0))).toBe(true);
    expect(predictExit(switching, vmfunc(0, 512))).toBe(true);
    expect(predictExit(switching, vmfunc(0, 1))).toBe(true);
    expect(predictExit(switching, vmfunc(0, 0))).toBe(false);
    expect(predictExit(setupWith({ secondary: enabled, vmfunc: 0n }), vmfunc(0, 0))).toBe(true);
  });

  it('page faults: exit when the error-code match equals bit 14 of the exception bitmap', () => {
    const bit14 = setupWith({ exceptionBitmap: 1 << 14, pfecMask: 2, pfecMatch: 2 });
    expect(exceptionExits(bit14, 14, 2)).toBe(true);
    expect(exceptionExits(bit14, 14, 0)).toBe(false);
    const clear = setupWith({ exceptionBitmap: 0, pfecMask: 2, pfecMatch: 2 });
    expect(exceptionExits(clear, 14, 0)).toBe(true);
    expect(exceptionExits(clear, 13)).toBe(false);
  });
  it('LMSW: PE set in mask and source but clear in the shadow exits; a masked bit 3:1 that differs exits', () => {
    expect(lmswExits(setupWith({ cr0Mask: 1n, cr0Shadow: 0n }), 1n)).toBe(true);
    expect(lmswExits(setupWith({ cr0Mask: 1n, cr0Shadow: 1n }), 0n)).toBe(false);
    expect(lmswExits(setupWith({ cr0Mask: 8n, cr0Shadow: 0n }), 8n)).toBe(true);
    expect(lmswExits(setupWith({ cr0Mask: 8n, cr0Shadow: 8n }), 8n)).toBe(false);
  });
  it('I/O: unconditional exiting without bitmaps; with bitmaps any set bit or a wrap-around exits', () => {
    expect(ioExits(setupWith({ primary: on('UNCONDITIONAL_IO_EXITING') }), 0x80, 1)).toBe(true);
    expect(ioExits(setupWith({}), 0x80, 1)).toBe(false);
    const bitmaps = setupWith({ primary: on('USE_IO_BITMAPS') | on('UNCONDITIONAL_IO_EXITING'), ioBits: new Map([[0x80, false], [0x81, true], [0xffff, false], [0, false]]) });
    expect(ioExits(bitmaps, 0x80, 1)).toBe(false);
    expect(ioExits(bitmaps, 0x80, 2)).toBe(true);
    expect(ioExits(bitmaps, 0xffff, 2)).toBe(true);
  });
  it('MSRs: no bitmaps or outside the ranges always exit; inside, the bit decides', () => {
    expect(msrExits(setupWith({}), 0x10, 'read')).toBe(true);
    const bitmaps = setupWith({ primary: on('USE_MSR_BITMAPS'), msrBits: new Map([['read:0x10', false], ['write:0x10', true]]) });
    expect(msrExits(bitmaps, 0x10, 'read')).toBe(false);
    expect(msrExits(bitmaps, 0x10, 'write')).toBe(true);
    expect(msrExits(bitmaps, 0x4000_0000, 'read')).toBe(true);
    expect(msrExits(bitmaps, 0x174, 'read')).toBeUndefined();
  });
  it('VMREAD/VMWRITE: exit without VMCS shadowing, with bits above 14 set, or with their bitmap bit set', () => {
    const shadowing = 1n << BigInt(SECONDARY_CONTROL.VMCS_SHADOWING);
    expect(shadowAccessExits(setupWith({}), 'vmread', 0x681en)).toBe(true);
    const setup = setupWith({ secondary: shadowing, shadowBits: new Map([['vmread:0x681e', false], ['vmwrite:0x681e', true]]) });
    expect(shadowAccessExits(setup, 'vmread', 0x681en)).toBe(false);
    expect(shadowAccessExits(setup, 'vmwrite', 0x681en)).toBe(true);
    expect(shadowAccessExits(setup, 'vmread', 0x1_0000_681en)).toBe(true);
    expect(shadowAccessExits({ ...setup, guest64: false }, 'vmread', 0x1_0000_681en)).toBe(false);
    expect(shadowAccessExits(setup, 'vmread', 0x4402n)).toBeUndefined();
  });
  it('XSETBV exits unless CR4.OSXSAVE is 0, when its #UD comes first (§26.1.1)', () => {
    const op: Operation = { kind: 'xsetbv', cpu: 0, ecx: '0x0', value: '0x3' };
    expect(predictExit(setupWith({ guestCr4: 0x4_2020n }), op)).toBe(true);
    expect(predictExit(setupWith({ guestCr4: 0x2020n }), op)).toBe(false);
    expect(predictExit(setupWith({ guestCr4: 0x2020n, exceptionBitmap: 1 << 6 }), op)).toBe(true);
  });
  it('the skylake groups load a guest CR4 with OSXSAVE set', () => {
    const [plan] = fc.sample(exitGroupPlan(skylake, 0), { seed: 1, numRuns: 1 });
    expect((plan?.setup.guestCr4 ?? 0n) & 0x4_0000n).toBe(0x4_0000n);
    expect(exitSetupFields(plan!.setup, skylake).get('GUEST_CR4')).toBe(plan?.setup.guestCr4);
  });
  it('MOV to CR3: a CR3-target value does not exit; MOV from CR0 never exits', () => {
    const setup = setupWith({ primary: on('CR3_LOAD_EXITING'), cr3Targets: [0x23000n] });
    expect(predictExit(setup, { kind: 'mov-cr3', cpu: 0, value: '0x23000' })).toBe(false);
    expect(predictExit(setup, { kind: 'mov-cr3', cpu: 0, value: '0x24000' })).toBe(true);
    expect(predictExit(setup, { kind: 'mov-from-cr', cpu: 0, cr: 0, gpr: 0 })).toBe(false);
  });
});

describe('the VM-exit step group', () => {
  it('lays out the bitmaps, VMLAUNCHes, and after each expected exit reads every exit-information field', () => {
    const groups = fc.sample(vmExitSteps(skylake, 0), { seed: 3, numRuns: 20 });
    for (const ops of groups) {
      const launch = ops.findIndex((op) => op.kind === 'vmlaunch');
      expect(launch).toBeGreaterThan(0);
      const writes = ops.slice(0, launch);
      expect(writes).toContainEqual({ kind: 'vmwrite', cpu: 0, encoding: toHex(BigInt(FIELD.IO_BITMAP_A_ADDRESS)), value: toHex(BITMAP_ADDRESSES.ioA) });
      expect(writes).toContainEqual({ kind: 'vmwrite', cpu: 0, encoding: toHex(BigInt(FIELD.MSR_BITMAPS_ADDRESS)), value: toHex(BITMAP_ADDRESSES.msr) });
      expect(writes.some((op) => op.kind === 'write-memory' && BigInt(op.address) >= BITMAP_ADDRESSES.ioA)).toBe(true);
    }
  });
  it('follows an exiting operation with the exit-information reads and VMRESUME, and a non-exiting one with the next guest operation', () => {
    const setup = setupWith({ primary: on('HLT_EXITING') });
    const ops = roundOperations(0, setup, [
      { op: { kind: 'rdtsc', cpu: 0 }, guestReads: [], then: 'resume' },
      { op: { kind: 'hlt', cpu: 0 }, guestReads: ['GUEST_RIP'], then: 'launch-then-resume' },
      { op: { kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' }, guestReads: [], then: 'stop' },
      { op: { kind: 'hlt', cpu: 0 }, guestReads: [], then: 'resume' },
    ]);
    const kinds = ops.map((op) => (op.kind === 'vmread' ? `read ${op.encoding}` : op.kind));
    const info = EXIT_INFORMATION_READS.map((f) => `read ${toHex(BigInt(FIELD[f]))}`);
    expect(kinds).toEqual(['rdtsc', 'hlt', ...info, `read ${toHex(BigInt(FIELD.GUEST_RIP))}`, 'vmlaunch', 'vmresume', 'cpuid', ...info]);
  });
});

describe('the host after an exit', () => {
  it('moves the guest RIP on, or injects an event through the VM-entry interruption information, before VMRESUME', () => {
    const setup = setupWith({});
    const rip = roundOperations(0, setup, [{ op: { kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' }, guestReads: [], then: 'advance-rip' }]);
    expect(rip.slice(-2)).toEqual([
      { kind: 'vmwrite', cpu: 0, encoding: toHex(BigInt(FIELD.GUEST_RIP)), value: '0x402010' },
      { kind: 'vmresume', cpu: 0 },
    ]);
    const gp = roundOperations(0, setup, [{ op: { kind: 'invd', cpu: 0 }, guestReads: [], then: 'inject', event: 0 }]);
    expect(gp.slice(-3)).toEqual([
      { kind: 'vmwrite', cpu: 0, encoding: toHex(BigInt(FIELD.VM_ENTRY_INTERRUPTION_INFORMATION)), value: '0x80000b0d' },
      { kind: 'vmwrite', cpu: 0, encoding: toHex(BigInt(FIELD.VM_ENTRY_EXCEPTION_ERROR_CODE)), value: '0x0' },
      { kind: 'vmresume', cpu: 0 },
    ]);
    const int80 = roundOperations(0, setup, [{ op: { kind: 'invd', cpu: 0 }, guestReads: [], then: 'inject', event: 2 }]);
    expect(int80.slice(-2)[0]).toEqual({ kind: 'vmwrite', cpu: 0, encoding: toHex(BigInt(FIELD.VM_ENTRY_INSTRUCTION_LENGTH)), value: '0x2' });
  });
});

describe('VMCS shadowing in the group', () => {
  it('lays out the shadow VMCS and the VMREAD/VMWRITE bitmaps and points the link pointer at it when shadowing is drawn', () => {
    const shadowing = 1n << BigInt(SECONDARY_CONTROL.VMCS_SHADOWING);
    const setup = setupWith({ secondary: shadowing, shadowBits: new Map([['vmread:0x681e', true], ['vmwrite:0x681e', true]]) });
    expect(shadowVmcsLayout(0, setup, 4)).toEqual([
      { kind: 'write-memory', cpu: 0, address: toHex(SHADOW_VMCS), value: '0x80000004' },
      { kind: 'vmclear', cpu: 0, pointer: toHex(SHADOW_VMCS) },
    ]);
    expect(shadowVmcsLayout(0, setupWith({}), 4)).toEqual([]);
    const fields = exitSetupFields(setup, skylake);
    expect(fields.get('VMCS_LINK_POINTER')).toBe(SHADOW_VMCS);
    expect(fields.get('VMREAD_BITMAP_ADDRESS')).toBe(BITMAP_ADDRESSES.vmread);
    // 681EH: byte D03H, bit 6 -> dword D00H, bit 30.
    expect(bitmapWrites(0, setup)).toContainEqual({ kind: 'write-memory', cpu: 0, address: toHex(BITMAP_ADDRESSES.vmread + 0xd00n), value: '0x40000000' });
  });
  it('enters guests with shadowing on in some groups, and they VMREAD through it', () => {
    const plans = fc.sample(exitGroupPlan(skylake, 0), { seed: 5, numRuns: 200 });
    expect(plans.some((p) => shadowingOn(p.setup))).toBe(true);
    expect(plans.some((p) => !shadowingOn(p.setup))).toBe(true);
  });
});

describe('the bitmaps in memory', () => {
  it('writes the dword of each tracked port and MSR, with its bit as drawn', () => {
    const setup = setupWith({
      ioBits: new Map([[0x80, true], [0x81, false], [0x8000, true]]),
      msrBits: new Map([['read:0xc0000080', true], ['write:0x10', true], ['read:0x10', false]]),
    });
    const writes = bitmapWrites(0, setup);
    // Port 80H: bitmap A byte 10H bit 0; port 8000H: bitmap B byte 0 bit 0.
    expect(writes).toContainEqual({ kind: 'write-memory', cpu: 0, address: toHex(BITMAP_ADDRESSES.ioA + 0x10n), value: '0x1' });
    expect(writes).toContainEqual({ kind: 'write-memory', cpu: 0, address: toHex(BITMAP_ADDRESSES.ioB), value: '0x1' });
    // Reads of C0000080H: read-high bitmap at 1024, byte 10H bit 0; writes of 10H: write-low at 2048, byte 2 bit 0 (bit 16 of the dword).
    expect(writes).toContainEqual({ kind: 'write-memory', cpu: 0, address: toHex(BITMAP_ADDRESSES.msr + 1024n + 0x10n), value: '0x1' });
    expect(writes).toContainEqual({ kind: 'write-memory', cpu: 0, address: toHex(BITMAP_ADDRESSES.msr + 2048n), value: '0x10000' });
    expect(writes).toContainEqual({ kind: 'write-memory', cpu: 0, address: toHex(BITMAP_ADDRESSES.msr), value: '0x0' });
  });
});

describe('both sides of each exit condition, with a fixed seed', () => {
  const plans = fc.sample(exitGroupPlan(skylake, 0), { seed: 42, numRuns: 800 });
  const seen = new Map<string, Set<string>>();
  const note = (key: string, side: boolean | undefined): void => {
    const sides = seen.get(key) ?? new Set<string>();
    sides.add(String(side));
    seen.set(key, sides);
  };
  const reasons = new Set<number>();
  for (const { setup, rounds } of plans) {
    for (const { op } of rounds) {
      const exits = predictExit(setup, op);
      note(conditionKey(op), exits);
      if (exits === true) for (const row of exitConditionsFor(op.kind)) reasons.add(row.reason);
    }
  }

  it.each([
    'hlt', 'invlpg', 'rdtsc', 'rdtscp', 'rdpmc', 'pause', 'monitor', 'mwait', 'wbinvd', 'mov-dr', 'clts', 'lmsw', 'mov-cr0', 'mov-cr4',
    'mov-cr3', 'mov-from-cr3', 'mov-cr8', 'mov-from-cr8', 'io', 'rdmsr-in-range', 'wrmsr-in-range', 'exception', 'exception-14',
    'vmread', 'vmwrite', 'rdrand', 'rdseed', 'descriptor-table', 'getsec',
  ])('%s is generated on both sides', (key) => {
    expect(seen.get(key)).toContain('true');
    expect(seen.get(key)).toContain('false');
  });
  it('MSRs outside both bitmap ranges and the unconditional instructions are generated, and always exit', () => {
    expect([...(seen.get('rdmsr-outside') ?? [])]).toEqual(['true']);
    expect([...(seen.get('cpuid') ?? [])]).toEqual(['true']);
    expect([...(seen.get('vmcall') ?? [])]).toEqual(['true']);
  });
  it('the exits expected cover at least 30 basic exit reasons', () => {
    expect(reasons.size).toBeGreaterThanOrEqual(30);
    expect(reasons.has(EXIT_REASON.IO_INSTRUCTION)).toBe(true);
  });
});

function conditionKey(op: Operation): string {
  switch (op.kind) {
    case 'mov-from-cr':
      return `mov-from-cr${op.cr}`;
    case 'rdmsr':
    case 'wrmsr':
      return `${op.kind}-${msrBitmapPosition(Number(op.ecx), op.kind === 'rdmsr' ? 'read' : 'write') === undefined ? 'outside' : 'in-range'}`;
    case 'exception':
      return op.vector === 14 ? 'exception-14' : 'exception';
    default:
      return op.kind;
  }
}

describe('exit-reason coverage', () => {
  it('counts the reasons of VM exits and VM-entry failures the model accepted, and lists the others', () => {
    const coverage = emptyExitReasonCoverage();
    const step = (observation: StepRecord['observation'], matched: boolean): StepRecord =>
      ({ index: 0, operation: { kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' }, verdict: { kind: 'defined', branches: [] }, observation, ...(matched ? { matched: {} } : {}) }) as unknown as StepRecord;
    recordExitReasons(coverage, [
      step({ kind: 'vmexit', reason: EXIT_REASON.CPUID, flags: 0 }, true),
      step({ kind: 'vmexit', reason: EXIT_REASON.CPUID, flags: 0 }, true),
      step({ kind: 'vmexit', reason: EXIT_REASON.HLT, flags: 0 }, false),
      step({ kind: 'vmentry-failure', exitReason: 0x8000_0021, qualification: '0x0', flags: 0 }, true),
    ]);
    finishExitReasons(coverage);
    expect(coverage.reached).toEqual({ CPUID: 2, ENTRY_FAILURE_INVALID_GUEST_STATE: 1 });
    expect(coverage.notReached).toContain('HLT');
    expect(coverage.notReached).not.toContain('CPUID');
    expect(coverage.notReached).toHaveLength(coverage.total - 2);
  });
});
