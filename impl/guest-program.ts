/**
 * The guest operations of case format 4 (spec/guest-operations.ts; format 5's in
 * impl/system-program.ts) as compiled records
 * (impl/program.ts: `[opcode | flags, cpu, a0 .. a5]`, 64-bit operands as lo/hi pairs), and their
 * execution on the machine's guest operations (impl/non-root/). Malformed operands throw with a
 * message naming the operation and the operand (a caller bug, as in program.ts).
 */
import { EXCEPTIONS_WITH_ERROR_CODE, mnemonicOf } from '../spec/exceptions.ts';
import type { GuestOperation } from '../spec/guest-operations.ts';
import type { Operation } from '../spec/operations.ts';
import {
  FROM_FLAG,
  GUEST_REGISTER_FORM,
  OP_CLTS,
  OP_CPUID,
  OP_EXCEPTION,
  OP_HLT,
  OP_INVD,
  OP_INVLPG,
  OP_IO,
  OP_LMSW,
  OP_MONITOR,
  OP_MOV_CR3,
  OP_MOV_CR8,
  OP_MOV_DR,
  OP_MOV_FROM_CR,
  OP_MWAIT,
  OP_PAUSE,
  OP_RDMSR,
  OP_RDPMC,
  OP_RDTSC,
  OP_RDTSCP,
  OP_WBINVD,
  OP_WRMSR,
  OP_XSETBV,
  WBNOINVD_FLAG,
} from './guest-opcodes.ts';
import { parseHexInto } from './hex-halves.ts';
import type { ImplMachine } from './machine.ts';
import { IO_FLAG_IMMEDIATE, IO_FLAG_IN, IO_FLAG_REP, IO_FLAG_STRING } from './non-root/index.ts';
import { encodeSystemOperation, executeSystemOperation } from './system-program.ts';

/** A general-purpose register number 0..15, checked. */
export function gprOf(gpr: unknown, kind: string): number {
  if (typeof gpr !== 'number' || !Number.isInteger(gpr) || gpr < 0 || gpr > 15) {
    throw new RangeError(`${kind}: gpr must be an integer 0..15, got ${JSON.stringify(gpr)}`);
  }
  return gpr;
}

function boolOf(flag: unknown, what: string): boolean {
  if (flag === undefined) return false;
  if (typeof flag !== 'boolean') throw new TypeError(`${what} must be a boolean, got ${JSON.stringify(flag)}`);
  return flag;
}

/** Decodes a guest operation into `code[at .. at + 8)` (any other kind throws). */
export function encodeGuestOperation(op: Operation, code: Int32Array, at: number): void {
  const guest = op as GuestOperation;
  switch (guest.kind) {
    case 'cpuid':
      code[at] = OP_CPUID;
      parseHexInto(guest.eax, code, at + 2, 'cpuid eax');
      parseHexInto(guest.ecx, code, at + 4, 'cpuid ecx');
      return;
    case 'hlt':
      code[at] = OP_HLT;
      return;
    case 'invd':
      code[at] = OP_INVD;
      return;
    case 'wbinvd': {
      const variant = guest.variant ?? 'wbinvd';
      if (variant !== 'wbinvd' && variant !== 'wbnoinvd') throw new RangeError(`wbinvd: variant must be "wbinvd" or "wbnoinvd", got ${JSON.stringify(variant)}`);
      code[at] = OP_WBINVD | (variant === 'wbnoinvd' ? WBNOINVD_FLAG : 0);
      return;
    }
    case 'invlpg':
      code[at] = OP_INVLPG;
      parseHexInto(guest.address, code, at + 2, 'invlpg address');
      return;
    case 'rdtsc':
      code[at] = OP_RDTSC;
      return;
    case 'rdtscp':
      code[at] = OP_RDTSCP;
      return;
    case 'rdpmc':
      code[at] = OP_RDPMC;
      parseHexInto(guest.ecx, code, at + 2, 'rdpmc ecx');
      return;
    case 'pause':
      code[at] = OP_PAUSE;
      return;
    case 'mov-from-cr':
      code[at] = OP_MOV_FROM_CR;
      if (guest.cr !== 0 && guest.cr !== 3 && guest.cr !== 4 && guest.cr !== 8) {
        throw new RangeError(`mov-from-cr: cr must be 0, 3, 4 or 8, got ${JSON.stringify(guest.cr)}`);
      }
      code[at + 2] = guest.cr;
      code[at + 3] = gprOf(guest.gpr, guest.kind);
      return;
    case 'mov-cr3':
    case 'mov-cr8':
      code[at] = guest.kind === 'mov-cr3' ? OP_MOV_CR3 : OP_MOV_CR8;
      parseHexInto(guest.value, code, at + 2, `${guest.kind} value`);
      code[at + 4] = gprOf(guest.gpr ?? 0, guest.kind);
      return;
    case 'clts':
      code[at] = OP_CLTS;
      return;
    case 'lmsw': {
      const form = guest.form ?? 'register';
      if (form !== 'register' && form !== 'memory') throw new RangeError(`lmsw: form must be "memory" or "register", got ${JSON.stringify(form)}`);
      code[at] = OP_LMSW | (form === 'register' ? GUEST_REGISTER_FORM : 0);
      parseHexInto(guest.value, code, at + 2, 'lmsw value');
      parseHexInto(guest.address ?? '0x0', code, at + 4, 'lmsw address');
      return;
    }
    case 'mov-dr':
      if (guest.direction !== 'to' && guest.direction !== 'from') {
        throw new RangeError(`mov-dr: direction must be "to" or "from", got ${JSON.stringify(guest.direction)}`);
      }
      if (!Number.isInteger(guest.dr) || guest.dr < 0 || guest.dr > 7) throw new RangeError(`mov-dr: dr must be an integer 0..7, got ${JSON.stringify(guest.dr)}`);
      code[at] = OP_MOV_DR | (guest.direction === 'from' ? FROM_FLAG : 0);
      parseHexInto(guest.value ?? '0x0', code, at + 2, 'mov-dr value');
      code[at + 4] = guest.dr;
      code[at + 5] = gprOf(guest.gpr, guest.kind);
      return;
    case 'rdmsr':
      code[at] = OP_RDMSR;
      parseHexInto(guest.ecx, code, at + 2, 'rdmsr ecx');
      return;
    case 'wrmsr':
      code[at] = OP_WRMSR;
      parseHexInto(guest.ecx, code, at + 2, 'wrmsr ecx');
      parseHexInto(guest.value, code, at + 4, 'wrmsr value');
      return;
    case 'io':
      code[at] = OP_IO;
      encodeIo(guest, code, at);
      return;
    case 'xsetbv':
      code[at] = OP_XSETBV;
      parseHexInto(guest.ecx, code, at + 2, 'xsetbv ecx');
      parseHexInto(guest.value, code, at + 4, 'xsetbv value');
      return;
    case 'monitor':
      code[at] = OP_MONITOR;
      return;
    case 'mwait':
      code[at] = OP_MWAIT;
      return;
    case 'exception': {
      code[at] = OP_EXCEPTION;
      const vector = guest.vector;
      if (!Number.isInteger(vector) || mnemonicOf(vector) === undefined) {
        throw new RangeError(`exception: vector must be an architectural exception vector (0-8, 10-14, 16-21), got ${JSON.stringify(vector)}`);
      }
      const hasErrorCode = EXCEPTIONS_WITH_ERROR_CODE.has(vector);
      if (!hasErrorCode && guest.errorCode !== undefined) throw new RangeError(`exception: vector ${vector} delivers no error code`);
      code[at + 2] = vector;
      code[at + 3] = hasErrorCode ? 1 : 0;
      parseHexInto(guest.errorCode ?? '0x0', code, at + 4, 'exception errorCode');
      if (code[at + 5] !== 0) throw new RangeError(`exception: errorCode ${guest.errorCode} does not fit in 32 bits`);
      parseHexInto(guest.address ?? '0x0', code, at + 6, 'exception address');
      return;
    }
    default:
      if (encodeSystemOperation(op, code, at)) return;
      throw new TypeError(`unknown operation kind ${JSON.stringify((op as { kind: unknown }).kind)}`);
  }
}

function encodeIo(op: Extract<GuestOperation, { kind: 'io' }>, code: Int32Array, at: number): void {
  if (op.direction !== 'in' && op.direction !== 'out') throw new RangeError(`io: direction must be "in" or "out", got ${JSON.stringify(op.direction)}`);
  if (!Number.isInteger(op.port) || op.port < 0 || op.port > 0xffff) throw new RangeError(`io: port must be an integer 0..0xffff, got ${JSON.stringify(op.port)}`);
  if (op.size !== 1 && op.size !== 2 && op.size !== 4) throw new RangeError(`io: size must be 1, 2 or 4, got ${JSON.stringify(op.size)}`);
  const string = boolOf(op.string, 'io: string');
  const rep = boolOf(op.rep, 'io: rep');
  const immediate = boolOf(op.immediate, 'io: immediate');
  if (rep && !string) throw new RangeError('io: rep needs string');
  if (immediate && (string || op.port > 0xff)) throw new RangeError('io: immediate needs a non-string form and a port up to 0xff');
  code[at + 2] = op.port;
  code[at + 3] = op.size;
  code[at + 4] =
    (op.direction === 'in' ? IO_FLAG_IN : 0) | (string ? IO_FLAG_STRING : 0) | (rep ? IO_FLAG_REP : 0) | (immediate ? IO_FLAG_IMMEDIATE : 0);
  parseHexInto(op.address ?? '0x0', code, at + 5, 'io address');
}

/** Executes the guest-operation record at `code[at]`; returns the status code. */
export function executeGuestOperation(machine: ImplMachine, code: Int32Array, at: number): number {
  const word0 = code[at] as number;
  const cpu = code[at + 1] as number;
  const a0 = code[at + 2] as number;
  const a1 = code[at + 3] as number;
  const a2 = code[at + 4] as number;
  const a3 = code[at + 5] as number;
  const g = machine.guest;
  switch (word0 & 0xff) {
    case OP_CPUID:
      return g.cpuid(cpu);
    case OP_HLT:
      return g.hlt(cpu);
    case OP_INVD:
      return g.invd(cpu);
    case OP_WBINVD:
      return g.wbinvd(cpu, (word0 & WBNOINVD_FLAG) !== 0);
    case OP_INVLPG:
      return g.invlpg(cpu, a0, a1);
    case OP_RDTSC:
      return g.rdtsc(cpu);
    case OP_RDTSCP:
      return g.rdtscp(cpu);
    case OP_RDPMC:
      return g.rdpmc(cpu, a0);
    case OP_PAUSE:
      return g.pause(cpu);
    case OP_MOV_FROM_CR:
      return g.movFromCr(cpu, a0, a1);
    case OP_MOV_CR3:
      return g.movCr3(cpu, a0, a1, a2);
    case OP_MOV_CR8:
      return g.movCr8(cpu, a0, a1, a2);
    case OP_CLTS:
      return g.clts(cpu);
    case OP_LMSW:
      return g.lmsw(cpu, a0, (word0 & GUEST_REGISTER_FORM) === 0, a2, a3);
    case OP_MOV_DR:
      return g.movDr(cpu, (word0 & FROM_FLAG) !== 0, a2, a3, a0, a1);
    case OP_RDMSR:
      return g.rdmsr(cpu, a0);
    case OP_WRMSR:
      return g.wrmsr(cpu, a0, a2, a3);
    case OP_IO:
      return g.io(cpu, a2, a0, a1, a3, code[at + 6] as number);
    case OP_XSETBV:
      return g.xsetbv(cpu, a0, a2, a3);
    case OP_MONITOR:
      return g.monitor(cpu);
    case OP_MWAIT:
      return g.mwait(cpu);
    case OP_EXCEPTION:
      return g.exception(cpu, a0, a1 === 1, a2, code[at + 6] as number, code[at + 7] as number);
    default: {
      const status = executeSystemOperation(machine, code, at);
      if (status === undefined) throw new RangeError(`not an encoded operation: opcode ${word0}`);
      return status;
    }
  }
}
