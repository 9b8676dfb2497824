/**
 * The fast native API (ImplMachine methods, compile/runCompiled) and the Engine adapter are two
 * doors into the same machine: on any operation sequence they must report the same outcomes.
 * This file drives the fast API with its own BigInt-based decoding, independent of impl/'s hex
 * parser and operation records, and compares with Engine.step on random sequences.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compile,
  createImplEngine,
  createImplMachine,
  describeStatus,
  ImplMachine,
  runCompiled,
  SET_CPL,
  SET_CR3,
  SET_CS_L,
  SET_EFER_LMA,
  SET_EFER_LME,
  SET_MOV_SS_BLOCKING,
  SET_RFLAGS_VM,
  NON_ROOT_UNIMPLEMENTED,
  STATUS_ENTRY_FAILURE,
  STATUS_FAIL_INVALID,
  STATUS_GP,
  STATUS_NON_ROOT_UNIMPLEMENTED,
  STATUS_SUCCEED,
  STATUS_UD,
  STATUS_VMENTRY,
  STATUS_VMEXIT,
} from '../../impl/index.ts';
import { execute, RECORD_WORDS } from '../../impl/program.ts';
import { STATUS_DELIVERY_UNIMPLEMENTED, STATUS_ENTRY_EVENT_UNIMPLEMENTED, STATUS_VMX_ABORT } from '../../impl/index.ts';
import { OP_HLT } from '../../impl/guest-opcodes.ts';
import { INACTIVE_ACTIVITIES } from '../../spec/observations.ts';
import { IO_FLAG_IMMEDIATE, IO_FLAG_IN, IO_FLAG_REP, IO_FLAG_STRING, STATUS_FAULT, STATUS_GUEST_UNIMPLEMENTED } from '../../impl/non-root/index.ts';
import { mnemonicOf } from '../../spec/exceptions.ts';
import { operationSequence } from '../../properties/generators/operations.ts';
import { FIELD } from '../../spec/fields.ts';
import type { Observation } from '../../spec/observations.ts';
import type { Operation } from '../../spec/operations.ts';
import { createProfile } from '../../spec/profile.ts';
import { CORE2, MAXIMAL, SKYLAKE, variant, VMCS_A, VMXON_0 } from './fixtures.ts';

const lo = (text: string): number => Number(BigInt(text) & 0xffff_ffffn);
const hi = (text: string): number => Number(BigInt(text) >> 32n);
const toHex = (l: number, h: number): string => `0x${((BigInt(h >>> 0) << 32n) | BigInt(l >>> 0)).toString(16)}`;

const STATE_CODES = {
  'efer.lma': SET_EFER_LMA,
  'cs.l': SET_CS_L,
  cpl: SET_CPL,
  'rflags.vm': SET_RFLAGS_VM,
  'mov-ss-blocking': SET_MOV_SS_BLOCKING,
  'efer.lme': SET_EFER_LME,
  cr3: SET_CR3,
} as const;

/** One operation through the fast API, turned into the observation the SDM conventions give. */
function viaFastApi(m: ImplMachine, op: Operation): Observation {
  // A processor in an inactive activity state (after a VM entry into HLT, shutdown or
  // wait-for-SIPI, or a VMX abort) executes no instruction (execute checks it before dispatching).
  const activity = m.activity(op.cpu);
  if (activity !== 0 && op.kind !== 'set' && op.kind !== 'write-memory') return { kind: 'inactive', activity: INACTIVE_ACTIVITIES[activity - 1]!, flags: m.flags(op.cpu) };
  // A guest instruction that completes may be followed by an MTF VM exit (execute asks afterInstruction).
  m.retired = -1;
  const register = 'form' in op && op.form === 'register';
  let status: number;
  let carriesValue = false;
  let processorState = false;
  switch (op.kind) {
    case 'vmxon':
      status = m.vmxon(op.cpu, lo(op.pointer), hi(op.pointer), register);
      break;
    case 'vmxoff':
      status = m.vmxoff(op.cpu);
      break;
    // The register forms are RDRAND BX, RDRAND EBX and RDSEED EBX where the processor has them.
    case 'vmclear':
      if (register && m.guest.features.rdrand) return viaGuestApi(m, { kind: 'rdrand', cpu: op.cpu, gpr: 3, size: 16 });
      status = m.vmclear(op.cpu, lo(op.pointer), hi(op.pointer), register);
      break;
    case 'vmptrld':
      if (register && m.guest.features.rdrand) return viaGuestApi(m, { kind: 'rdrand', cpu: op.cpu, gpr: 3, size: 32 });
      status = m.vmptrld(op.cpu, lo(op.pointer), hi(op.pointer), register);
      break;
    case 'vmptrst':
      if (register && m.guest.features.rdseed) return viaGuestApi(m, { kind: 'rdseed', cpu: op.cpu, gpr: 3, size: 32 });
      status = m.vmptrst(op.cpu, register);
      carriesValue = true;
      break;
    case 'vmread':
      status = m.vmread(op.cpu, lo(op.encoding), hi(op.encoding));
      carriesValue = true;
      break;
    case 'vmwrite':
      status = m.vmwrite(op.cpu, lo(op.encoding), hi(op.encoding), lo(op.value), hi(op.value));
      break;
    case 'vmlaunch':
      status = m.vmlaunch(op.cpu);
      break;
    case 'vmresume':
      status = m.vmresume(op.cpu);
      break;
    case 'invept':
      status = m.invept(op.cpu, lo(op.type), hi(op.type), lo(op.descriptor[0]), hi(op.descriptor[0]), register);
      break;
    case 'invvpid':
      status = m.invvpid(
        op.cpu,
        lo(op.type),
        hi(op.type),
        lo(op.descriptor[0]),
        hi(op.descriptor[0]),
        lo(op.descriptor[1]),
        hi(op.descriptor[1]),
        register,
      );
      break;
    case 'vmcall':
      status = m.vmcall(op.cpu);
      break;
    case 'vmfunc':
      status = m.vmfunc(op.cpu, lo(op.eax), lo(op.ecx));
      break;
    case 'mov-cr0':
      status = m.movCr0(op.cpu, lo(op.value), hi(op.value), op.gpr ?? 0);
      processorState = true;
      break;
    case 'mov-cr4':
      status = m.movCr4(op.cpu, lo(op.value), hi(op.value), op.gpr ?? 0);
      processorState = true;
      break;
    case 'write-feature-control':
      status = m.writeFeatureControl(op.cpu, lo(op.value), hi(op.value));
      processorState = true;
      break;
    case 'set':
      status = m.setState(op.cpu, STATE_CODES[op.what], op.value);
      processorState = true;
      break;
    case 'write-memory':
      status = m.writeMemory(op.cpu, lo(op.address), hi(op.address), lo(op.value));
      processorState = true;
      break;
    default:
      return viaGuestApi(m, op);
  }
  if (m.retired >= 0) status = m.afterInstruction(status, 0);
  // A VMX instruction's #UD in VMX non-root operation goes through the exception bitmap.
  else status = processorState ? status : m.guest.deliver(op.cpu, status);
  return observe(m, op, status, processorState, carriesValue);
}

/** A guest operation through `machine.guest` (impl/non-root/index.ts). */
function viaGuestApi(m: ImplMachine, op: Operation): Observation {
  const g = m.guest;
  const cpu = op.cpu;
  let status: number;
  let value = false;
  switch (op.kind) {
    case 'cpuid':
      status = g.cpuid(cpu);
      break;
    case 'hlt':
      status = g.hlt(cpu);
      break;
    case 'invd':
      status = g.invd(cpu);
      break;
    case 'wbinvd':
      status = g.wbinvd(cpu, op.variant === 'wbnoinvd');
      break;
    case 'rdrand':
    case 'rdseed':
      status = g.random(cpu, op.kind === 'rdseed', op.gpr, [16, 32, 64].indexOf(op.size));
      value = true;
      break;
    case 'invpcid':
      status = g.invpcid(cpu, op.typeGpr ?? 1, lo(op.type), hi(op.type), lo(op.descriptor[0]), hi(op.descriptor[0]), lo(op.descriptor[1]), hi(op.descriptor[1]));
      break;
    case 'descriptor-table': {
      const instruction = ['sgdt', 'sidt', 'lgdt', 'lidt', 'sldt', 'str', 'lldt', 'ltr'].indexOf(op.instruction);
      const operand = lo(op.limit ?? op.selector ?? '0x0');
      status = g.descriptorTable(cpu, instruction, op.form === 'register' ? (op.gpr ?? 0) + 1 : 0, operand, lo(op.base ?? '0x0'), hi(op.base ?? '0x0'));
      value = ['sgdt', 'sidt', 'sldt', 'str'].includes(op.instruction);
      break;
    }
    case 'getsec':
      status = g.getsec(cpu);
      break;
    case 'xsaves':
    case 'xrstors':
      status = g.xsaves(cpu, op.kind === 'xrstors', lo(op.mask), hi(op.mask));
      break;
    case 'invlpg':
      status = g.invlpg(cpu, lo(op.address), hi(op.address));
      break;
    case 'rdtsc':
      status = g.rdtsc(cpu);
      break;
    case 'rdtscp':
      status = g.rdtscp(cpu);
      break;
    case 'rdpmc':
      status = g.rdpmc(cpu, lo(op.ecx));
      break;
    case 'pause':
      status = g.pause(cpu);
      break;
    case 'monitor':
      status = g.monitor(cpu);
      break;
    case 'mwait':
      status = g.mwait(cpu);
      break;
    case 'xsetbv':
      status = g.xsetbv(cpu, lo(op.ecx), lo(op.value), hi(op.value));
      break;
    case 'mov-from-cr':
      status = g.movFromCr(cpu, op.cr, op.gpr);
      value = true;
      break;
    case 'mov-cr3':
      status = g.movCr3(cpu, lo(op.value), hi(op.value), op.gpr ?? 0);
      break;
    case 'mov-cr8':
      status = g.movCr8(cpu, lo(op.value), hi(op.value), op.gpr ?? 0);
      break;
    case 'clts':
      status = g.clts(cpu);
      break;
    case 'lmsw':
      status = g.lmsw(cpu, lo(op.value), op.form === 'memory', lo(op.address ?? '0x0'), hi(op.address ?? '0x0'));
      break;
    case 'mov-dr':
      status = g.movDr(cpu, op.direction === 'from', op.dr, op.gpr, lo(op.value ?? '0x0'), hi(op.value ?? '0x0'));
      value = op.direction === 'from';
      break;
    case 'rdmsr':
      status = g.rdmsr(cpu, lo(op.ecx));
      break;
    case 'wrmsr':
      status = g.wrmsr(cpu, lo(op.ecx), lo(op.value), hi(op.value));
      break;
    case 'io': {
      const flags = (op.direction === 'in' ? IO_FLAG_IN : 0) | (op.string === true ? IO_FLAG_STRING : 0) | (op.rep === true ? IO_FLAG_REP : 0) | (op.immediate === true ? IO_FLAG_IMMEDIATE : 0);
      status = g.io(cpu, flags, op.port, op.size, lo(op.address ?? '0x0'), hi(op.address ?? '0x0'));
      break;
    }
    case 'exception':
      status = g.exception(cpu, op.vector, [8, 10, 11, 12, 13, 14, 17, 21].includes(op.vector), lo(op.errorCode ?? '0x0'), lo(op.address ?? '0x0'), hi(op.address ?? '0x0'));
      break;
    default:
      throw new Error(`the fast API has no method for ${op.kind}`);
  }
  if (m.retired >= 0) status = m.afterInstruction(status, op.kind === 'hlt' ? OP_HLT : 0);
  const flags = m.flags(cpu);
  if (status === STATUS_FAULT) {
    const vector = mnemonicOf(g.fault[0] as number)!;
    return g.fault[1] === 1 ? { kind: 'fault', vector, errorCode: toHex(g.fault[2] as number, 0), flags } : { kind: 'fault', vector, flags };
  }
  if (status === STATUS_GUEST_UNIMPLEMENTED) return { kind: 'unimplemented', what: g.unimplementedWhat, flags };
  if (status === STATUS_SUCCEED && value) return { kind: 'ok', value: toHex(g.value[0] as number, g.value[1] as number), flags };
  return observe(m, op, status, true, false);
}

/** The observation of a status (the SDM conventions' outcomes). */
function observe(m: ImplMachine, op: Operation, status: number, processorState: boolean, carriesValue: boolean): Observation {
  const flags = m.flags(op.cpu);
  if (status === STATUS_SUCCEED) {
    if (processorState) return { kind: 'ok', flags };
    return carriesValue ? { kind: 'vmsucceed', value: toHex(m.resultLo, m.resultHi), flags } : { kind: 'vmsucceed', flags };
  }
  if (status > 0) return { kind: 'vmfail-valid', error: status, flags };
  if (status === STATUS_FAIL_INVALID) return { kind: 'vmfail-invalid', flags };
  if (status === STATUS_UD) return { kind: 'fault', vector: 'UD', flags };
  if (status === STATUS_GP) return { kind: 'fault', vector: 'GP', flags };
  if (status === STATUS_VMENTRY) {
    // The event VM-entry event injection delivered, as the VM-entry interruption-information field gave it.
    const injection = m.injectedInformation;
    if (injection === 0) return { kind: 'vmentry', flags };
    const injected = { vector: injection & 0xff, type: (injection >>> 8) & 7 };
    return { kind: 'vmentry', injected: (injection & 0x800) === 0 ? injected : { ...injected, errorCode: toHex(m.injectedErrorCode, 0) }, flags };
  }
  if (status === STATUS_ENTRY_FAILURE) {
    return { kind: 'vmentry-failure', exitReason: m.exitReason, qualification: toHex(m.exitQualificationLo, m.exitQualificationHi), flags };
  }
  if (status === STATUS_VMEXIT) return { kind: 'vmexit', reason: m.exitReason, flags };
  if (status === STATUS_VMX_ABORT) {
    // The aborting step is observed as the VM exit (or VM-entry failure) it was (§28.7).
    if (m.exitReason >= 0x8000_0000) {
      return { kind: 'vmentry-failure', exitReason: m.exitReason, qualification: toHex(m.exitQualificationLo, m.exitQualificationHi), flags };
    }
    return { kind: 'vmexit', reason: m.exitReason, flags };
  }
  if (status === STATUS_ENTRY_EVENT_UNIMPLEMENTED) return { kind: 'unimplemented', what: m.events.unimplementedWhat, flags };
  if (status === STATUS_DELIVERY_UNIMPLEMENTED) return { kind: 'unimplemented', what: m.delivery.what, flags };
  expect(status).toBe(STATUS_NON_ROOT_UNIMPLEMENTED);
  return { kind: 'unimplemented', what: NON_ROOT_UNIMPLEMENTED, flags };
}

describe('fast API and Engine adapter', () => {
  for (const data of [CORE2, SKYLAKE, MAXIMAL]) {
    it(`report the same outcomes on random operation sequences (${data.name})`, () => {
      const profile = createProfile(data);
      fc.assert(
        fc.property(operationSequence(profile, { logicalProcessors: 2, maxSteps: 40 }), (ops) => {
          const engine = createImplEngine({ profile: data, logicalProcessors: 2 });
          const machine = createImplMachine({ profile: data, logicalProcessors: 2 });
          for (const op of ops) expect(engine.step(op)).toEqual(viaFastApi(machine, op));
        }),
        { seed: 20231201, numRuns: 150 },
      );
    });
  }

  it('runCompiled gives the statuses and values Engine.step reports for the same sequence', () => {
    const profile = createProfile(SKYLAKE);
    fc.assert(
      fc.property(operationSequence(profile, { logicalProcessors: 2, maxSteps: 30 }), (ops) => {
        const engine = createImplEngine({ profile: SKYLAKE, logicalProcessors: 2 });
        const machine = createImplMachine({ profile: SKYLAKE, logicalProcessors: 2 });
        const program = compile(ops);
        const values = new Int32Array(ops.length * 2);
        const statuses = runCompiled(machine, program, undefined, values);
        ops.forEach((op, i) => {
          const observation = engine.step(op);
          const status = statuses[i] as number;
          // A VMX abort is observed as the VM exit or VM-entry failure it ended (§28.7).
          const aborted = status === STATUS_VMX_ABORT && (observation.kind === 'vmexit' || observation.kind === 'vmentry-failure');
          expect(describeStatus(status)).toBe(aborted ? 'VMX abort' : statusWording(observation));
          if (observation.kind === 'vmsucceed' && observation.value !== undefined) {
            expect(toHex(values[2 * i] as number, values[2 * i + 1] as number)).toBe(observation.value);
          }
        });
      }),
      { seed: 7, numRuns: 100 },
    );
  });

  it('compile names the index of a malformed operation', () => {
    const ops: Operation[] = [
      { kind: 'vmxoff', cpu: 0 },
      { kind: 'vmxon', cpu: 0, pointer: 'nope' },
    ];
    expect(() => compile(ops)).toThrow(/operation 1: vmxon pointer/);
  });

  it('execute refuses a record that is not an operation', () => {
    const machine = createImplMachine({ profile: SKYLAKE, logicalProcessors: 1 });
    expect(() => execute(machine, new Int32Array(RECORD_WORDS), 0)).toThrow(/not an encoded operation/);
  });

  it('a VMWRITE/VMREAD pair through the fast API leaves the value in resultLo/resultHi', () => {
    const machine = createImplMachine({ profile: SKYLAKE, logicalProcessors: 1 });
    const rev = machine.profile.revisionId;
    machine.writeMemory(0, VMXON_0, 0, rev);
    machine.writeMemory(0, VMCS_A, 0, rev);
    expect(machine.vmxon(0, VMXON_0, 0)).toBe(STATUS_SUCCEED);
    expect(machine.vmclear(0, VMCS_A, 0)).toBe(STATUS_SUCCEED);
    expect(machine.vmptrld(0, VMCS_A, 0)).toBe(STATUS_SUCCEED);
    expect(machine.vmwrite(0, FIELD.GUEST_RIP, 0, 0x89ab_cdef, 0x0123_4567)).toBe(STATUS_SUCCEED);
    expect(machine.vmread(0, FIELD.GUEST_RIP, 0)).toBe(STATUS_SUCCEED);
    expect([machine.resultLo, machine.resultHi]).toEqual([0x89ab_cdef, 0x0123_4567]);
    expect(machine.vmread(0, 0x7fff, 0)).toBe(12);
    expect(machine.flags(0)).toBe(0x40);
  });

  it('the fast API accepts pointer halves as uint32 as well as int32', () => {
    const machine = createImplMachine({ profile: SKYLAKE, logicalProcessors: 1 });
    const rev = machine.profile.revisionId;
    const high = 0xffff_f000; // bit 31 set: -4096 as int32
    machine.writeMemory(0, high, 0, rev);
    expect(machine.vmxon(0, high, 0)).toBe(STATUS_SUCCEED);
    expect(machine.vmclear(0, high | 0, 0)).toBe(STATUS_FAIL_INVALID);
    expect(machine.vmptrld(0, high, 0)).toBe(STATUS_FAIL_INVALID);
    machine.writeMemory(0, 0x8000_0000, 0, rev);
    expect(machine.vmptrld(0, 0x8000_0000, 0)).toBe(STATUS_SUCCEED);
    expect(machine.vmptrst(0)).toBe(STATUS_SUCCEED);
    expect([machine.resultLo, machine.resultHi]).toEqual([0x8000_0000, 0]);
    expect(machine.vmclear(0, machine.resultLo, machine.resultHi)).toBe(STATUS_SUCCEED);
    expect(machine.vmptrst(0)).toBe(STATUS_SUCCEED);
    expect([machine.resultLo, machine.resultHi]).toEqual([0xffff_ffff, 0xffff_ffff]);
  });

  it('the fast API throws for an unknown state code and an unaligned memory write', () => {
    const machine = createImplMachine({ profile: SKYLAKE, logicalProcessors: 1 });
    expect(() => machine.setState(0, 9, 0)).toThrow(/unknown state code 9/);
    expect(() => machine.writeMemory(0, 0x1001, 0, 0)).toThrow(/4-byte aligned/);
    expect(() => machine.flags(1)).toThrow(/out of range/);
  });

  it('a processor whose revision identifier is 0 loads a never-written region as zeros', () => {
    const basic = BigInt(SKYLAKE.msrs.IA32_VMX_BASIC) & ~0x7fff_ffffn;
    const data = variant(SKYLAKE, 'revision-0', { msrs: { IA32_VMX_BASIC: `0x${basic.toString(16)}` } });
    const machine = createImplMachine({ profile: data, logicalProcessors: 1 });
    expect(machine.vmxon(0, VMXON_0, 0)).toBe(STATUS_SUCCEED);
    expect(machine.vmptrld(0, VMCS_A, 0)).toBe(STATUS_SUCCEED);
    expect(machine.vmread(0, FIELD.GUEST_RIP, 0)).toBe(STATUS_SUCCEED);
    expect(machine.resultLo).toBe(0);
    // Past the basic checks: the zeroed controls lack their must-be-1 bits, VMfailValid(7).
    expect(machine.vmlaunch(0)).toBe(7);
  });

  it('describeStatus names every status', () => {
    expect([0, -1, -2, -3, -4, 12, -11, -12, -13, -14, -15, -16, -17, -99].map(describeStatus)).toEqual([
      'VMsucceed',
      'VMfailInvalid',
      '#UD',
      '#GP(0)',
      'VM entry not implemented',
      'VMfailValid(12)',
      'VMX abort',
      'shut down',
      'VM-exit MSR store of an MSR not implemented',
      'exception',
      'guest operation not implemented',
      'inactive',
      'event at the end of VM entry not implemented',
      'unknown status -99',
    ]);
  });
});

/** The describeStatus wording of an observation, to compare statuses with observations. */
function statusWording(observation: Observation): string {
  switch (observation.kind) {
    case 'vmsucceed':
    case 'ok':
      return 'VMsucceed';
    case 'vmfail-invalid':
      return 'VMfailInvalid';
    case 'vmfail-valid':
      return `VMfailValid(${observation.error})`;
    case 'fault':
      if (observation.errorCode !== undefined || (observation.vector !== 'UD' && observation.vector !== 'GP')) return 'exception';
      return observation.vector === 'UD' ? '#UD' : '#GP(0)';
    case 'unimplemented':
      if (/event delivery/.test(observation.what)) return 'event delivery through the guest IDT not implemented';
      if (/after VM entry|delivery of the injected event/.test(observation.what)) return 'event at the end of VM entry not implemented';
      return observation.what === NON_ROOT_UNIMPLEMENTED ? 'not implemented in VMX non-root operation' : 'guest operation not implemented';
    case 'vmentry':
      return 'VM entry';
    case 'vmentry-failure':
      return 'VM-entry failure';
    case 'vmexit':
      return 'VM exit';
    case 'inactive':
      return 'inactive';
  }
}
