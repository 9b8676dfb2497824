/**
 * Compiles conformance cases into the guest agent's bytecode (bochs/agent/interp.asm documents
 * the format; the opcodes here must match bochs/agent/stubs.asm). Operations the agent cannot
 * perform for real on Bochs become an `unimplemented` record and end the case; so does a
 * VMLAUNCH/VMRESUME that could get past the checks on the controls and host state (the agent cannot
 * yet take the guest's VM exit back, so such an entry would lose the agent).
 */
import { createModelState, step as modelStep, type Expected, type ModelState } from '../../model/index.ts';
import { parseHex, toHex } from '../../spec/hex.ts';
import type { Observation } from '../../spec/observations.ts';
import type { Operation, OperationKind } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';

/** The agent's reserved physical memory: cases may not store into it or point into it. */
export const AGENT_RESERVED = { low: 0x10_0000n, high: 0x80_0000n } as const;
/** Guest RAM in the bochsrc (`megs`). */
export const GUEST_MEGS = 32;
const RAM_BYTES = BigInt(GUEST_MEGS) << 20n;
const PAGE = 0x1000n;

/** The bytecode's version dword (2: the resume dword; each case begin names where the case ends and the sum of its bytes). */
export const BYTECODE_VERSION = 2;
/** A case-begin record: opcode, id, offset after the case, sum of the case's bytes after this record. */
const CASE_BEGIN_BYTES = 13;

const OP = { endBatch: 0, caseBegin: 1, caseEnd: 2, zeroPage: 3, writeMemory: 4, setCpl: 5, setCsl: 6, setMovSs: 7, ok: 8, unimplemented: 9 } as const;

/** Stub indices (bochs/agent/stubs.asm), opcode = 0x10 + index; the operands each takes, in order. */
const STUB = {
  vmxonMem: 0, vmxonReg: 1, vmclearMem: 2, vmclearReg: 3, vmptrldMem: 4, vmptrldReg: 5, vmptrstMem: 6, vmptrstReg: 7,
  vmreadMem: 8, vmreadReg: 9, vmwriteMem: 10, vmwriteReg: 11, vmlaunch: 12, vmresume: 13, vmxoff: 14, vmcall: 15,
  vmfunc: 16, inveptMem: 17, inveptReg: 18, invvpidMem: 19, invvpidReg: 20, movCr0: 21, movCr4: 22, wrmsr: 23,
} as const;

/** Operation kinds the Bochs adapter executes (the guest operations of format 4 are left out). */
export const BOCHS_OPERATIONS: readonly OperationKind[] = [
  'vmxon', 'vmxoff', 'vmclear', 'vmptrld', 'vmptrst', 'vmread', 'vmwrite', 'vmlaunch', 'vmresume', 'invept', 'invvpid',
  'vmcall', 'vmfunc', 'mov-cr0', 'mov-cr4', 'write-feature-control', 'set', 'write-memory',
];

/**
 * VM-entry checks Bochs 2.7 does not make (bochs/known-divergences.json): a VMLAUNCH/VMRESUME the
 * model fails only by these would enter the guest on Bochs and lose the agent (a crash or a hang
 * of the whole batch), so a run answers `unimplemented` for it; a replay executes it.
 */
export const BOCHS_UNCHECKED_ENTRY_RULES: ReadonlySet<string> = new Set([
  'entry-controls.entry-to-smm-only-in-smm', // known divergence vmlaunch-entry-to-smm-outside-smm
  'event-injection.error-code-only-for-hardware-exceptions', // event-injection-error-code-for-external-interrupt
]);

/** Why the agent does not execute VMCALL with a current VMCS (known divergence `vmcall-root-clear-vmcs-panics`). */
export const VMCALL_REFUSAL = 'VMCALL in VMX root operation with a current VMCS (Bochs 2.7 stops with a panic there; see bochs/known-divergences.json)';

/**
 * The steps a `--mix no-guests` run counts as outside the mix besides the VM entries into a guest:
 * VMCALL with a current VMCS, which the agent does not execute because Bochs 2.7 stops with a
 * panic there (a recorded divergence, replayed by `replay`). Other mixes count them as
 * `unimplemented`.
 */
export function bochsLeftOut(mix: string): ((operation: Operation, what: string) => string | undefined) | undefined {
  if (mix !== 'no-guests') return undefined;
  return (operation, what) => (operation.kind === 'vmcall' && what === VMCALL_REFUSAL ? 'Bochs 2.7 panics there, known divergence vmcall-root-clear-vmcs-panics' : undefined);
}

/** One case as compiled: how many of its operations were sent, and why the agent stopped, if it did. */
export interface CompiledCase {
  /** Operations with a record in the bytecode (each gets one observation). */
  sent: number;
  /** Reasons for `unimplemented` records, by operation index. */
  unimplemented: Map<number, string>;
  /**
   * Operations that are register forms of VMCLEAR/VMPTRLD (0F C7 /6) or VMPTRST (/7) on a profile
   * with RDRAND or RDSEED: the processor executes RDRAND or RDSEED, whose flags the agent's
   * record cannot tell from a VMX outcome (CF = 1 reads as VMfailInvalid), so they are read as `ok`.
   */
  randomForms: Set<number>;
}

/** Growable little-endian byte buffer. */
class Bytes {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }
  u32(v: bigint | number): void {
    this.room(4);
    this.buf.writeUInt32LE(Number(BigInt(v) & 0xffff_ffffn), this.length);
    this.length += 4;
  }
  u64(v: bigint): void {
    this.room(8);
    this.buf.writeBigUInt64LE(v & 0xffff_ffff_ffff_ffffn, this.length);
    this.length += 8;
  }
  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32LE(v, at);
  }
  sum(from: number, to: number): number {
    let sum = 0;
    for (let i = from; i < to; i += 1) sum = (sum + (this.buf[i] as number)) >>> 0;
    return sum;
  }
  copy(from: number, to: number): Buffer {
    return Buffer.from(this.buf.subarray(from, to));
  }
  truncate(n: number): void {
    this.length = n;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** The processor state the compiler tracks to know what the agent can do for real. */
interface Tracked {
  csl: number;
  lma: number;
  lme: number;
  vm: number;
}

/** One case's bytecode as compiled (its id at byte 1), to add again to another batch without compiling it again. */
export interface CompiledPiece {
  bytes: Buffer;
  compiled: CompiledCase;
}

/** A batch of cases being compiled into one boot image's bytecode. */
export class BatchCompiler {
  private readonly out = new Bytes();
  readonly cases: CompiledCase[] = [];
  /** Where each case's bytecode starts. */
  private readonly starts: number[] = [];

  constructor(
    private readonly profile: Profile,
    private readonly featureControlLocked: boolean,
    private readonly options: { executeKnownCrashes?: boolean } = {},
  ) {
    this.out.u8(0x56); // "VMXB"
    this.out.u8(0x4d);
    this.out.u8(0x58);
    this.out.u8(0x42);
    this.out.u32(BYTECODE_VERSION);
    this.out.u32(0); // resume: the agent's, after a reset (bochs/agent/interp.asm)
  }

  /** Bytes compiled so far (header and cases). */
  get size(): number {
    return this.out.length;
  }

  /** Adds a case; returns its index in the batch. */
  add(logicalProcessors: number, operations: readonly Operation[]): number {
    const id = this.cases.length;
    const o = this.out;
    const start = o.length;
    this.starts.push(start);
    o.u8(OP.caseBegin);
    o.u32(id);
    o.u32(0); // the offset after the case and the sum of its bytes, patched below
    o.u32(0);
    for (const page of pagesTouched(operations)) {
      o.u8(OP.zeroPage);
      o.u32(page);
    }
    const compiled: CompiledCase = { sent: 0, unimplemented: new Map(), randomForms: new Set() };
    let model: ModelState | undefined = createModelState(this.profile, logicalProcessors);
    const t: Tracked = { csl: 1, lma: 1, lme: 1, vm: 0 };
    // The model is only needed to decide VMLAUNCH/VMRESUME/VMCALL: stop following it after the last one.
    const lastRisky = operations.reduce((last, op, i) => (op.kind === 'vmlaunch' || op.kind === 'vmresume' || op.kind === 'vmcall' ? i : last), -1);
    for (const [index, op] of operations.entries()) {
      if (index > lastRisky) model = undefined;
      compiled.sent = index + 1;
      if ('form' in op && op.form === 'register') {
        const random = op.kind === 'vmptrst' ? this.profile.cpuid.rdseed : op.kind === 'vmclear' || op.kind === 'vmptrld' ? this.profile.cpuid.rdrand : false;
        if (random) compiled.randomForms.add(index);
      }
      // Where the model stops judging (undefined, not modelled), nothing later is compared.
      let last = false;
      let entryPossible = false;
      let currentVmcs = false;
      if (model !== undefined) {
        const verdict = modelStep(model, op);
        if (verdict.kind !== 'defined') {
          last = true;
          entryPossible = true;
        } else {
          entryPossible =
            verdict.branches.some((b) => b.expected.kind === 'vmentry' || b.expected.kind === 'vmentry-failure') ||
            (!this.options.executeKnownCrashes && verdict.branches.length > 0 && verdict.branches.every((b) => BOCHS_UNCHECKED_ENTRY_RULES.has(b.rule.id)));
          currentVmcs = verdict.branches.some((b) => b.expected.kind === 'vmfail-valid');
          const first = verdict.branches[0];
          model = first === undefined ? undefined : first.next(canonicalObservation(first.expected));
        }
      }
      const refusal = this.emit(op, t, entryPossible, currentVmcs);
      if (refusal !== undefined) {
        o.u8(OP.unimplemented);
        compiled.unimplemented.set(index, refusal);
        break;
      }
      if (last) break;
    }
    o.u8(OP.caseEnd);
    o.patchU32(start + 5, o.length);
    o.patchU32(start + 9, o.sum(start + CASE_BEGIN_BYTES, o.length));
    this.cases.push(compiled);
    return id;
  }

  /** Drops the last case added (the bytecode back to `size` bytes). */
  undo(size: number): void {
    this.out.truncate(size);
    this.cases.pop();
    this.starts.pop();
  }

  /** Case `index`'s bytecode and what was compiled, for {@link append} to another batch. */
  piece(index: number): CompiledPiece {
    const start = this.starts[index];
    const compiled = this.cases[index];
    if (start === undefined || compiled === undefined) throw new Error(`no case ${index} in this batch`);
    const end = this.starts[index + 1] ?? this.out.length;
    return { bytes: this.out.copy(start, end), compiled };
  }

  /** Adds a case compiled before (by another batch's {@link piece}); returns its index in this batch. */
  append(piece: CompiledPiece): number {
    const id = this.cases.length;
    const at = this.out.length;
    this.starts.push(at);
    this.out.bytes(piece.bytes);
    this.out.patchU32(at + 1, id);
    this.out.patchU32(at + 5, this.out.length);
    this.cases.push(piece.compiled);
    return id;
  }

  /** The bytecode, terminated. */
  finish(): Buffer {
    this.out.u8(OP.endBatch);
    return this.out.result();
  }

  /** Emits `op`, or returns why the agent cannot perform it for real. */
  private emit(op: Operation, t: Tracked, entryPossible: boolean, currentVmcs: boolean): string | undefined {
    const o = this.out;
    const insn = (stub: number, ...operands: bigint[]): undefined => {
      o.u8(0x10 + stub);
      for (const v of operands) o.u64(v);
      return undefined;
    };
    const reg = (form: string | undefined, dflt: 'memory' | 'register'): boolean => (form ?? dflt) === 'register';
    switch (op.kind) {
      case 'vmxon':
      case 'vmclear':
      case 'vmptrld': {
        const pointer = parseHex(op.pointer);
        if (inAgent(pointer)) return `a ${op.kind} pointer inside the agent's memory (${toHex(pointer)})`;
        const forms: Record<typeof op.kind, readonly [number, number]> = { vmxon: [STUB.vmxonMem, STUB.vmxonReg], vmclear: [STUB.vmclearMem, STUB.vmclearReg], vmptrld: [STUB.vmptrldMem, STUB.vmptrldReg] };
        const [mem, regForm] = forms[op.kind];
        return reg(op.form, 'memory') ? insn(regForm) : insn(mem, pointer);
      }
      case 'vmptrst':
        return insn(reg(op.form, 'memory') ? STUB.vmptrstReg : STUB.vmptrstMem);
      case 'vmread':
        return insn(reg(op.form, 'register') ? STUB.vmreadReg : STUB.vmreadMem, parseHex(op.encoding));
      case 'vmwrite':
        // memory form: scratch qword 0 = value, RCX = encoding; register form: RCX, RDX
        return reg(op.form, 'register') ? insn(STUB.vmwriteReg, parseHex(op.encoding), parseHex(op.value)) : insn(STUB.vmwriteMem, parseHex(op.value), parseHex(op.encoding));
      case 'vmlaunch':
      case 'vmresume':
        if (entryPossible) return `${op.kind} that may get past the checks on the controls and host state (the agent cannot yet take the guest's VM exit back)`;
        return insn(op.kind === 'vmlaunch' ? STUB.vmlaunch : STUB.vmresume);
      case 'vmxoff':
        return insn(STUB.vmxoff);
      case 'vmcall':
        // Bochs 2.7 stops (BX_PANIC "VMCALL: not implemented yet", cpu/vmx.cc) on VMCALL in VMX
        // root operation with a clear current VMCS, losing the whole batch; the replay of the
        // recorded divergence executes it (bochs/known-divergences.json).
        if (currentVmcs && !this.options.executeKnownCrashes) return VMCALL_REFUSAL;
        return insn(STUB.vmcall);
      case 'vmfunc':
        return insn(STUB.vmfunc, parseHex(op.eax), parseHex(op.ecx));
      case 'invept':
      case 'invvpid': {
        const type = parseHex(op.type);
        const [lo, hi] = op.descriptor.map(parseHex) as [bigint, bigint];
        const register = reg(op.form, 'memory');
        const stub = op.kind === 'invept' ? (register ? STUB.inveptReg : STUB.inveptMem) : register ? STUB.invvpidReg : STUB.invvpidMem;
        return register ? insn(stub, type) : insn(stub, lo, hi, type);
      }
      case 'mov-cr0': {
        const value = parseHex(op.value);
        // Clearing PG in compatibility mode would leave IA-32e mode, and the agent with it.
        if (t.csl === 0 && (value & 0x8000_0000n) === 0n) return 'MOV to CR0 clearing PG in compatibility mode (it would leave IA-32e mode, and the agent with it)';
        return insn(STUB.movCr0, value);
      }
      case 'mov-cr4':
        return insn(STUB.movCr4, parseHex(op.value));
      case 'write-feature-control': {
        if (!this.featureControlLocked) return 'WRMSR to an unlocked IA32_FEATURE_CONTROL (it could not be undone for the next case)';
        const value = parseHex(op.value);
        return insn(STUB.wrmsr, value & 0xffff_ffffn, 0x3an, value >> 32n);
      }
      case 'write-memory': {
        const address = parseHex(op.address);
        if (inAgent(address) || address >= RAM_BYTES) return `a store at ${toHex(address)} (outside the guest RAM the cases may use)`;
        o.u8(OP.writeMemory);
        o.u32(address);
        o.u32(parseHex(op.value));
        return undefined;
      }
      case 'set':
        switch (op.what) {
          case 'cpl':
            o.u8(OP.setCpl);
            o.u8(op.value);
            return undefined;
          case 'cs.l':
            if (t.lma !== 1) return 'CS.L outside IA-32e mode';
            t.csl = op.value;
            o.u8(OP.setCsl);
            o.u8(op.value);
            return undefined;
          case 'mov-ss-blocking':
            o.u8(OP.setMovSs);
            o.u8(op.value);
            return undefined;
          case 'efer.lma':
          case 'efer.lme':
          case 'rflags.vm': {
            const now = op.what === 'efer.lma' ? t.lma : op.what === 'efer.lme' ? t.lme : t.vm;
            if (op.value !== now) return `set ${op.what} ${op.value} (the agent runs in IA-32e mode and does not leave it)`;
            o.u8(OP.ok);
            return undefined;
          }
          case 'cr3':
            return 'set cr3 (CR3 holds the agent\'s own page tables)';
        }
        return `set ${String((op as { what: unknown }).what)}`;
      default:
        return `${op.kind} (a guest operation; not executed by the agent)`;
    }
  }
}

function inAgent(address: bigint): boolean {
  return address >= AGENT_RESERVED.low && address < AGENT_RESERVED.high;
}

/** Pages of guest RAM the case may store into or point at: zeroed before it runs. */
export function pagesTouched(operations: readonly Operation[]): number[] {
  const pages = new Set<bigint>();
  const add = (address: bigint): void => {
    const page = address & ~(PAGE - 1n);
    if (page < RAM_BYTES && !inAgent(page)) pages.add(page);
  };
  for (const op of operations) {
    if (op.kind === 'write-memory') add(parseHex(op.address));
    else if ((op.kind === 'vmxon' || op.kind === 'vmclear' || op.kind === 'vmptrld') && (op.form ?? 'memory') === 'memory') add(parseHex(op.pointer));
  }
  return [...pages].sort((a, b) => (a < b ? -1 : 1)).map(Number);
}

/** An observation the model's expected outcome stands for (an unknown value read as 0). */
function canonicalObservation(expected: Expected): Observation {
  if (expected.kind !== 'vmsucceed') return expected;
  const v = expected.value;
  if (v === undefined) return { kind: 'vmsucceed', flags: expected.flags };
  if (typeof v === 'string') return { kind: 'vmsucceed', flags: expected.flags, value: v };
  return { kind: 'vmsucceed', flags: expected.flags, value: v.kind === 'any' ? '0x0' : v.bits };
}
