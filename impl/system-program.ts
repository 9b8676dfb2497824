/**
 * The guest operations of case format 5 (spec/system-instruction-operations.ts) as compiled records
 * (impl/program.ts: `[opcode | flags, cpu, a0 .. a5]`, 64-bit operands as lo/hi pairs), and their
 * execution on the machine's guest operations (impl/non-root/). Malformed operands throw with a
 * message naming the operation and the operand (a caller bug, as in program.ts).
 *
 * Records:
 * - rdrand, rdseed: a0 = gpr, a1 = operand-size index (0: 16, 1: 32, 2: 64 bits);
 * - invpcid: flags bits 11:8 = the type register; a0/a1 = type, a2/a3 = descriptor bits 63:0,
 *   a4/a5 = descriptor bits 127:64;
 * - descriptor-table: flags bits 10:8 = the instruction (DT_SGDT ... DT_LTR); a0 = gpr + 1 for the
 *   register form, 0 for memory; a1 = limit (LGDT, LIDT) or selector (LLDT, LTR); a2/a3 = base;
 * - getsec: a0/a1 = EAX (not used: every leaf exits, or is unimplemented);
 * - xsaves, xrstors: a0/a1 = the instruction mask EDX:EAX.
 */
import type { Operation } from '../spec/operations.ts';
import type { SystemInstructionOperation } from '../spec/system-instruction-operations.ts';
import { OP_DESCRIPTOR_TABLE, OP_GETSEC, OP_INVPCID, OP_RDRAND, OP_RDSEED, OP_XRSTORS, OP_XSAVES } from './guest-opcodes.ts';
import { parseHexInto } from './hex-halves.ts';
import type { ImplMachine } from './machine.ts';
import { DESCRIPTOR_TABLE_INSTRUCTIONS, randomSizeIndex } from './non-root/index.ts';

/** The register operand of an operation, 0..15, checked. */
function registerOf(gpr: unknown, kind: string, what = 'gpr'): number {
  if (typeof gpr !== 'number' || !Number.isInteger(gpr) || gpr < 0 || gpr > 15) {
    throw new RangeError(`${kind}: ${what} must be an integer 0..15, got ${JSON.stringify(gpr)}`);
  }
  return gpr;
}

/** Scratch halves for a 16-bit operand (no allocation per step). */
const scratch = new Int32Array(2);

/** A hex operand of at most 16 bits (0..0xFFFF), checked. */
function parse16(text: unknown, what: string): number {
  parseHexInto(text, scratch, 0, what);
  const value = scratch[0] as number;
  if (scratch[1] !== 0 || value >>> 16 !== 0) throw new RangeError(`${what} must be at most 0xffff, got ${JSON.stringify(text)}`);
  return value;
}

/** Decodes a format-5 operation into `code[at .. at + 8)`; false when `op` is not one. */
export function encodeSystemOperation(op: Operation, code: Int32Array, at: number): boolean {
  const system = op as SystemInstructionOperation;
  switch (system.kind) {
    case 'rdrand':
    case 'rdseed': {
      code[at] = system.kind === 'rdrand' ? OP_RDRAND : OP_RDSEED;
      code[at + 2] = registerOf(system.gpr, system.kind);
      const size = randomSizeIndex(system.size);
      if (size < 0) throw new RangeError(`${system.kind}: size must be 16, 32 or 64, got ${JSON.stringify(system.size)}`);
      code[at + 3] = size;
      return true;
    }
    case 'invpcid': {
      code[at] = OP_INVPCID | (registerOf(system.typeGpr ?? 1, system.kind, 'typeGpr') << 8);
      parseHexInto(system.type, code, at + 2, 'invpcid type');
      const descriptor: unknown = system.descriptor;
      if (!Array.isArray(descriptor) || descriptor.length !== 2) {
        throw new TypeError(`invpcid: descriptor must be [bits 63:0, bits 127:64], got ${JSON.stringify(descriptor)}`);
      }
      parseHexInto(descriptor[0], code, at + 4, 'invpcid descriptor[0]');
      parseHexInto(descriptor[1], code, at + 6, 'invpcid descriptor[1]');
      return true;
    }
    case 'descriptor-table':
      encodeDescriptorTable(system, code, at);
      return true;
    case 'getsec':
      code[at] = OP_GETSEC;
      parseHexInto(system.eax ?? '0x0', code, at + 2, 'getsec eax');
      return true;
    case 'xsaves':
    case 'xrstors':
      code[at] = system.kind === 'xsaves' ? OP_XSAVES : OP_XRSTORS;
      parseHexInto(system.mask, code, at + 2, `${system.kind} mask`);
      return true;
    default:
      return false;
  }
}

function encodeDescriptorTable(op: Extract<SystemInstructionOperation, { kind: 'descriptor-table' }>, code: Int32Array, at: number): void {
  const instruction = (DESCRIPTOR_TABLE_INSTRUCTIONS as readonly string[]).indexOf(op.instruction);
  if (instruction < 0) {
    throw new RangeError(`descriptor-table: instruction must be one of ${DESCRIPTOR_TABLE_INSTRUCTIONS.join(', ')}, got ${JSON.stringify(op.instruction)}`);
  }
  const form = op.form ?? 'memory';
  if (form !== 'memory' && form !== 'register') throw new RangeError(`descriptor-table: form must be "memory" or "register", got ${JSON.stringify(form)}`);
  const name = op.instruction;
  const loadsTable = name === 'lgdt' || name === 'lidt';
  const loadsSelector = name === 'lldt' || name === 'ltr';
  if (form === 'register' && (name === 'sgdt' || name === 'sidt' || loadsTable)) throw new RangeError(`descriptor-table: ${name} has a memory operand only`);
  if (form === 'memory' && op.gpr !== undefined) throw new RangeError('descriptor-table: gpr belongs to the register form only');
  if (loadsTable !== (op.limit !== undefined && op.base !== undefined) || (!loadsTable && (op.limit !== undefined || op.base !== undefined))) {
    throw new RangeError(`descriptor-table: lgdt and lidt need limit and base (and only they take them), got ${name}`);
  }
  if (loadsSelector !== (op.selector !== undefined)) throw new RangeError(`descriptor-table: lldt and ltr need a selector (and only they take one), got ${name}`);
  code[at] = OP_DESCRIPTOR_TABLE | (instruction << 8);
  code[at + 2] = form === 'register' ? registerOf(op.gpr ?? 0, 'descriptor-table') + 1 : 0;
  code[at + 3] = loadsTable ? parse16(op.limit, `descriptor-table ${name} limit`) : loadsSelector ? parse16(op.selector, `descriptor-table ${name} selector`) : 0;
  if (loadsTable) parseHexInto(op.base, code, at + 4, `descriptor-table ${name} base`);
  else {
    code[at + 4] = 0;
    code[at + 5] = 0;
  }
}

/** Executes the format-5 record at `code[at]`; returns the status code, or undefined when the opcode is not one. */
export function executeSystemOperation(machine: ImplMachine, code: Int32Array, at: number): number | undefined {
  const word0 = code[at] as number;
  const cpu = code[at + 1] as number;
  const g = machine.guest;
  switch (word0 & 0xff) {
    case OP_RDRAND:
      return g.random(cpu, false, code[at + 2] as number, code[at + 3] as number);
    case OP_RDSEED:
      return g.random(cpu, true, code[at + 2] as number, code[at + 3] as number);
    case OP_INVPCID:
      return g.invpcid(
        cpu,
        (word0 >>> 8) & 0xf,
        code[at + 2] as number,
        code[at + 3] as number,
        code[at + 4] as number,
        code[at + 5] as number,
        code[at + 6] as number,
        code[at + 7] as number,
      );
    case OP_DESCRIPTOR_TABLE:
      return g.descriptorTable(cpu, (word0 >>> 8) & 7, code[at + 2] as number, code[at + 3] as number, code[at + 4] as number, code[at + 5] as number);
    case OP_GETSEC:
      return g.getsec(cpu);
    case OP_XSAVES:
      return g.xsaves(cpu, false, code[at + 2] as number, code[at + 3] as number);
    case OP_XRSTORS:
      return g.xsaves(cpu, true, code[at + 2] as number, code[at + 3] as number);
    default:
      return undefined;
  }
}
