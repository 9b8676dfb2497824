/**
 * Operations of the engine contract compiled to fixed-width integer records, and executed on an
 * {@link ImplMachine}.
 *
 * Trick: the JSON operations carry hex strings and string kinds; decoding them is most of the
 * cost of a step. `encodeOperation` does that decoding once into eight int32 words
 * (`[opcode, cpu, a0 .. a5]`, 64-bit operands as lo/hi pairs), and `execute` dispatches on the
 * opcode with no string work at all. Engine.step runs both for every step; `compile` runs the
 * first over a whole sequence ahead of time so that `runCompiled` replays it at fast-API speed
 * (useful for benchmarks and for replaying one case on many machines).
 */
import { MEMORY_OPERAND_BASE } from '../spec/instruction-encodings.ts';
import type { Operation, OperandForm, SettableState } from '../spec/operations.ts';
import { parseHexInto } from './hex-halves.ts';
import { encodeGuestOperation, executeGuestOperation, gprOf } from './guest-program.ts';
import { STATUS_GP, STATUS_INACTIVE, STATUS_UD } from './status.ts';
import {
  type ImplMachine,
  SET_CPL,
  SET_CR3,
  SET_CS_L,
  SET_EFER_LMA,
  SET_EFER_LME,
  SET_MOV_SS_BLOCKING,
  SET_RFLAGS_VM,
} from './machine.ts';

/** Words per encoded operation. */
export const RECORD_WORDS = 8;

// Opcodes (bits 7:0 of word 0). VMX instructions first, processor-state operations from OP_MOV_CR0.
export const OP_VMXON = 1;
export const OP_VMXOFF = 2;
export const OP_VMCLEAR = 3;
export const OP_VMPTRLD = 4;
export const OP_VMPTRST = 5;
export const OP_VMREAD = 6;
export const OP_VMWRITE = 7;
export const OP_VMLAUNCH = 8;
export const OP_VMRESUME = 9;
export const OP_INVEPT = 10;
export const OP_INVVPID = 11;
export const OP_VMCALL = 12;
export const OP_VMFUNC = 13;
export const OP_MOV_CR0 = 14;
export const OP_MOV_CR4 = 15;
export const OP_WRITE_FEATURE_CONTROL = 16;
export const OP_SET = 17;
export const OP_WRITE_MEMORY = 18;
// Guest operations (case format 4) have opcodes from OP_CPUID = 19: impl/guest-program.ts.
export * from './guest-opcodes.ts';
/** Flag in word 0: the instruction's r/m operand is a register (ModRM.mod = 11b). */
export const REGISTER_FORM = 0x100;
/** RDRAND/RDSEED operand-size indices (impl/non-root/random.ts): 16 and 32 bits. */
const RANDOM_16_BITS = 0;
const RANDOM_32_BITS = 1;

const SETTABLE: Readonly<Record<SettableState, number>> = {
  'efer.lma': SET_EFER_LMA,
  'cs.l': SET_CS_L,
  cpl: SET_CPL,
  'rflags.vm': SET_RFLAGS_VM,
  'mov-ss-blocking': SET_MOV_SS_BLOCKING,
  'efer.lme': SET_EFER_LME,
  cr3: SET_CR3,
};

/**
 * Decodes one operation into `code[at .. at + 8)`. Malformed input (unknown kind or form, bad
 * hex, a non-integer cpu, a memory value wider than 32 bits, an unaligned address, an unknown
 * settable state) is a caller bug and throws with a message naming the problem. Whether `cpu`
 * exists on a machine is checked when the record is executed.
 */
export function encodeOperation(op: Operation, code: Int32Array, at: number): void {
  const cpu = op.cpu;
  if (!Number.isInteger(cpu) || cpu < 0) throw new RangeError(`${op.kind}: cpu must be a non-negative integer, got ${cpu}`);
  code[at + 1] = cpu;
  // One switch on the kind string does the dispatch (kinds are internalized constants, so the
  // comparisons are cheap) and each case stores its own opcode.
  switch (op.kind) {
    case 'vmread':
      // VMREAD/VMWRITE default to the register form: the flag is set unless the form is 'memory'.
      code[at] = OP_VMREAD | (op.form === undefined ? REGISTER_FORM : formFlag(op.form, op.kind));
      parseHexInto(op.encoding, code, at + 2, 'vmread encoding');
      break;
    case 'vmwrite':
      code[at] = OP_VMWRITE | (op.form === undefined ? REGISTER_FORM : formFlag(op.form, op.kind));
      parseHexInto(op.encoding, code, at + 2, 'vmwrite encoding');
      parseHexInto(op.value, code, at + 4, 'vmwrite value');
      break;
    case 'vmxon':
      code[at] = OP_VMXON | formFlag(op.form, op.kind);
      parseHexInto(op.pointer, code, at + 2, 'vmxon pointer');
      break;
    case 'vmclear':
      code[at] = OP_VMCLEAR | formFlag(op.form, op.kind);
      parseHexInto(op.pointer, code, at + 2, 'vmclear pointer');
      break;
    case 'vmptrld':
      code[at] = OP_VMPTRLD | formFlag(op.form, op.kind);
      parseHexInto(op.pointer, code, at + 2, 'vmptrld pointer');
      break;
    case 'vmptrst':
      code[at] = OP_VMPTRST | formFlag(op.form, op.kind);
      break;
    case 'vmxoff':
      code[at] = OP_VMXOFF;
      break;
    case 'vmlaunch':
      code[at] = OP_VMLAUNCH;
      break;
    case 'vmresume':
      code[at] = OP_VMRESUME;
      break;
    case 'vmcall':
      code[at] = OP_VMCALL;
      break;
    case 'invept':
    case 'invvpid': {
      code[at] = (op.kind === 'invept' ? OP_INVEPT : OP_INVVPID) | formFlag(op.form, op.kind);
      parseHexInto(op.type, code, at + 2, `${op.kind} type`);
      const descriptor: unknown = op.descriptor;
      if (!Array.isArray(descriptor) || descriptor.length !== 2) {
        throw new TypeError(`${op.kind}: descriptor must be [bits 63:0, bits 127:64], got ${JSON.stringify(descriptor)}`);
      }
      parseHexInto(descriptor[0], code, at + 4, `${op.kind} descriptor[0]`);
      parseHexInto(descriptor[1], code, at + 6, `${op.kind} descriptor[1]`);
      break;
    }
    case 'vmfunc':
      code[at] = OP_VMFUNC;
      parseHexInto(op.eax, code, at + 2, 'vmfunc eax');
      parseHexInto(op.ecx, code, at + 4, 'vmfunc ecx');
      break;
    case 'mov-cr0':
      code[at] = OP_MOV_CR0;
      parseHexInto(op.value, code, at + 2, 'mov-cr0 value');
      code[at + 4] = gprOf(op.gpr ?? 0, op.kind);
      break;
    case 'mov-cr4':
      code[at] = OP_MOV_CR4;
      parseHexInto(op.value, code, at + 2, 'mov-cr4 value');
      code[at + 4] = gprOf(op.gpr ?? 0, op.kind);
      break;
    case 'write-feature-control':
      code[at] = OP_WRITE_FEATURE_CONTROL;
      parseHexInto(op.value, code, at + 2, 'write-feature-control value');
      break;
    case 'set': {
      code[at] = OP_SET;
      const what = Object.hasOwn(SETTABLE, op.what) ? SETTABLE[op.what] : undefined;
      if (what === undefined) throw new RangeError(`set: unknown state ${JSON.stringify(op.what)}`);
      code[at + 2] = what;
      // The machine checks the range; a non-number must not be coerced on the way.
      if (typeof op.value !== 'number') throw new TypeError(`set: value must be a number, got ${JSON.stringify(op.value)}`);
      // Stored as int32 (CR3 up to 0xFFFFFFFF wraps); the machine checks the range of the value
      // read back unsigned for CR3, signed otherwise.
      code[at + 3] = op.value;
      if ((what === SET_CR3 ? (code[at + 3] as number) >>> 0 : code[at + 3]) !== op.value) throw new RangeError(`set: value out of range: ${op.value}`);
      break;
    }
    case 'write-memory':
      code[at] = OP_WRITE_MEMORY;
      parseHexInto(op.address, code, at + 2, 'write-memory address');
      parseHexInto(op.value, code, at + 4, 'write-memory value');
      if (code[at + 5] !== 0) throw new RangeError(`write-memory: value ${op.value} does not fit in 32 bits`);
      if (((code[at + 2] as number) & 3) !== 0) {
        throw new RangeError(`write-memory: address ${op.address} is not 4-byte aligned`);
      }
      break;
    default:
      encodeGuestOperation(op, code, at);
  }
}

function formFlag(form: OperandForm | undefined, kind: string): number {
  if (form === undefined || form === 'memory') return 0;
  if (form === 'register') return REGISTER_FORM;
  throw new RangeError(`${kind}: form must be "memory" or "register", got ${JSON.stringify(form)}`);
}

/** Executes the record at `code[at]` on `machine`; returns the status code (impl/status.ts). */
export function execute(machine: ImplMachine, code: Int32Array, at: number): number {
  machine.retired = -1;
  const status = dispatch(machine, code, at);
  // A guest instruction completed: the VM exit at the boundary after it, if any (impl/non-root/instruction-boundary.ts).
  if (machine.retired >= 0) return machine.afterInstruction(status, (code[at] as number) & 0xff);
  // A VMX instruction's #UD or #GP(0) in VMX non-root operation goes through the exception bitmap
  // (the guest operations and MOV to CR0/CR4 route their own faults). Two compares on the common path.
  return (status === STATUS_UD || status === STATUS_GP) && ((code[at] as number) & 0xff) < OP_MOV_CR0 ? machine.guest.deliver(code[at + 1] as number, status) : status;
}

function dispatch(machine: ImplMachine, code: Int32Array, at: number): number {
  const word0 = code[at] as number;
  const cpu = code[at + 1] as number;
  const register = (word0 & REGISTER_FORM) !== 0;
  const a0 = code[at + 2] as number;
  const a1 = code[at + 3] as number;
  const a2 = code[at + 4] as number;
  const a3 = code[at + 5] as number;
  // A processor in an inactive activity state (after a VM entry into HLT, shutdown or
  // wait-for-SIPI, or a VMX abort) executes no instruction; `set` and `write-memory` are not its
  // instructions (impl/non-root/activity.ts).
  if (machine.activity(cpu) !== 0 && (word0 & 0xff) !== OP_SET && (word0 & 0xff) !== OP_WRITE_MEMORY) return STATUS_INACTIVE;
  switch (word0 & 0xff) {
    case OP_VMREAD:
      return machine.vmread(cpu, a0, a1, register);
    case OP_VMWRITE:
      return machine.vmwrite(cpu, a0, a1, a2, a3, register);
    case OP_VMXON:
      return machine.vmxon(cpu, a0, a1, register);
    case OP_VMXOFF:
      return machine.vmxoff(cpu);
    // The register forms (ModRM.mod = 11b, r/m = 011b as for the memory operand [RBX]) of VMCLEAR
    // (66 0F C7 /6), VMPTRLD (0F C7 /6) and VMPTRST (0F C7 /7) are RDRAND BX, RDRAND EBX and
    // RDSEED EBX on a processor that has them (Vol. 2B "RDRAND", "RDSEED"; Vol. 3C §31.3 lists
    // #UD for the register operand, which is the opcode's meaning without them).
    case OP_VMCLEAR:
      if (register && machine.guest.features.rdrand) return machine.guest.random(cpu, false, MEMORY_OPERAND_BASE, RANDOM_16_BITS);
      return machine.vmclear(cpu, a0, a1, register);
    case OP_VMPTRLD:
      if (register && machine.guest.features.rdrand) return machine.guest.random(cpu, false, MEMORY_OPERAND_BASE, RANDOM_32_BITS);
      return machine.vmptrld(cpu, a0, a1, register);
    case OP_VMPTRST:
      if (register && machine.guest.features.rdseed) return machine.guest.random(cpu, true, MEMORY_OPERAND_BASE, RANDOM_32_BITS);
      return machine.vmptrst(cpu, register);
    case OP_VMLAUNCH:
      return machine.vmlaunch(cpu);
    case OP_VMRESUME:
      return machine.vmresume(cpu);
    case OP_INVEPT:
      return machine.invept(cpu, a0, a1, a2, a3, register);
    case OP_INVVPID:
      return machine.invvpid(cpu, a0, a1, a2, a3, code[at + 6] as number, code[at + 7] as number, register);
    case OP_VMCALL:
      return machine.vmcall(cpu);
    case OP_VMFUNC:
      return machine.vmfunc(cpu, a0, a2);
    case OP_MOV_CR0:
      return machine.movCr0(cpu, a0, a1, a2);
    case OP_MOV_CR4:
      return machine.movCr4(cpu, a0, a1, a2);
    case OP_WRITE_FEATURE_CONTROL:
      return machine.writeFeatureControl(cpu, a0, a1);
    case OP_SET:
      return machine.setState(cpu, a0, a0 === SET_CR3 ? a1 >>> 0 : a1);
    case OP_WRITE_MEMORY:
      return machine.writeMemory(cpu, a0, a1, a2);
    default:
      return executeGuestOperation(machine, code, at);
  }
}

/** A sequence of operations decoded ahead of time. */
export interface CompiledProgram {
  /** Number of operations. */
  readonly length: number;
  /** `length` records of {@link RECORD_WORDS} words. */
  readonly code: Int32Array;
}

/** Decodes a whole sequence once (throws on the first malformed operation, naming its index). */
export function compile(ops: readonly Operation[]): CompiledProgram {
  const code = new Int32Array(ops.length * RECORD_WORDS);
  ops.forEach((op, index) => {
    try {
      encodeOperation(op, code, index * RECORD_WORDS);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new RangeError(`operation ${index}: ${message}`, { cause: error });
    }
  });
  return { length: ops.length, code };
}

/**
 * Runs a compiled program on `machine`, writing each step's status into `statuses` (allocated
 * when not given) and, when `values` is given, the result halves of each VMREAD and VMPTRST at
 * `values[2i]`, `values[2i + 1]` (left untouched for other steps).
 */
export function runCompiled(
  machine: ImplMachine,
  program: CompiledProgram,
  statuses: Int32Array = new Int32Array(program.length),
  values?: Int32Array,
): Int32Array {
  const code = program.code;
  for (let i = 0; i < program.length; i++) {
    const at = i * RECORD_WORDS;
    const status = execute(machine, code, at);
    statuses[i] = status;
    if (values !== undefined && status === 0) {
      const opcode = (code[at] as number) & 0xff;
      if (opcode === OP_VMREAD || opcode === OP_VMPTRST) {
        values[2 * i] = machine.resultLo;
        values[2 * i + 1] = machine.resultHi;
      }
    }
  }
  return statuses;
}
