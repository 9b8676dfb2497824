/**
 * One-line renderings of operations and observations for traces and failure reports, written so
 * a person can read them beside the SDM (instruction names in capitals, pointers in brackets).
 */
import { mnemonicOf } from '../spec/exceptions.ts';
import { exitReasonInfo } from '../spec/exit-reasons.ts';
import { fieldByEncoding } from '../spec/fields.ts';
import type { GuestOperation } from '../spec/guest-operations.ts';
import { ARITHMETIC_FLAGS } from '../spec/observations.ts';
import type { Observation } from '../spec/observations.ts';
import type { Operation } from '../spec/operations.ts';

const GPR_NAMES = ['RAX', 'RCX', 'RDX', 'RBX', 'RSP', 'RBP', 'RSI', 'RDI', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15'];
const reg = (gpr: number | undefined): string => GPR_NAMES[gpr ?? 0] ?? `r${String(gpr)}`;

/** ` (EXIT_REASON)` after a known field encoding, nothing otherwise. */
function fieldName(encoding: string): string {
  const value = BigInt(encoding);
  const field = value <= 0xffff_ffffn ? fieldByEncoding(Number(value)) : undefined;
  return field === undefined ? '' : ` (${field.name})`;
}

const mem = (form: string | undefined, text: string): string =>
  form === 'register' ? `${text} <register operand>` : text;

/** `cpu0 VMPTRLD [0x2000]`, `cpu1 VMWRITE 0x4002 := 0x1`, `cpu0 set cpl = 3` ... */
export function formatOperation(op: Operation): string {
  const where = `cpu${op.cpu}`;
  switch (op.kind) {
    case 'vmxon':
    case 'vmclear':
    case 'vmptrld':
      return `${where} ${op.kind.toUpperCase()} ${mem(op.form, `[${op.pointer}]`)}`;
    case 'vmptrst':
      return `${where} VMPTRST${op.form === 'register' ? ' <register operand>' : ''}`;
    case 'vmread':
      return `${where} VMREAD ${op.encoding}${fieldName(op.encoding)}${op.form === 'memory' ? ' -> memory' : ''}`;
    case 'vmwrite':
      return `${where} VMWRITE ${op.encoding}${fieldName(op.encoding)} := ${op.value}${op.form === 'memory' ? ' (memory source)' : ''}`;
    case 'invept':
    case 'invvpid':
      return `${where} ${op.kind.toUpperCase()} type ${op.type}, ${mem(op.form, `{${op.descriptor[0]}, ${op.descriptor[1]}}`)}`;
    case 'vmfunc':
      return `${where} VMFUNC eax=${op.eax} ecx=${op.ecx}`;
    case 'vmxoff':
    case 'vmlaunch':
    case 'vmresume':
    case 'vmcall':
      return `${where} ${op.kind.toUpperCase()}`;
    case 'mov-cr0':
    case 'mov-cr4':
      return `${where} MOV ${op.kind === 'mov-cr0' ? 'CR0' : 'CR4'} ${op.gpr === undefined ? ':=' : `<- ${reg(op.gpr)} :=`} ${op.value}`;
    case 'write-feature-control':
      return `${where} WRMSR IA32_FEATURE_CONTROL := ${op.value}`;
    case 'set':
      return `${where} set ${op.what} = ${op.value}`;
    case 'write-memory':
      return `${where} write-memory [${op.address}] := ${op.value}`;
    default:
      return `${where} ${formatGuestOperation(op)}`;
  }
}

/** The guest operations of case format 4: `MOV CR3 <- RAX := 0x21000`, `OUT 0x80 (1 byte)`, `RDMSR 0xc0000080` ... */
function formatGuestOperation(op: GuestOperation): string {
  switch (op.kind) {
    case 'cpuid':
      return `CPUID eax=${op.eax} ecx=${op.ecx}`;
    case 'invlpg':
      return `INVLPG [${op.address}]`;
    case 'rdpmc':
      return `RDPMC ecx=${op.ecx}`;
    case 'mov-from-cr':
      return `MOV ${reg(op.gpr)} <- CR${op.cr}`;
    case 'mov-cr3':
    case 'mov-cr8':
      return `MOV ${op.kind === 'mov-cr3' ? 'CR3' : 'CR8'} <- ${reg(op.gpr)} := ${op.value}`;
    case 'lmsw':
      return op.form === 'memory' ? `LMSW [${op.address ?? '?'}] := ${op.value}` : `LMSW AX := ${op.value}`;
    case 'mov-dr':
      return op.direction === 'to' ? `MOV DR${op.dr} <- ${reg(op.gpr)} := ${op.value ?? '?'}` : `MOV ${reg(op.gpr)} <- DR${op.dr}`;
    case 'rdmsr':
      return `RDMSR ${op.ecx}`;
    case 'wrmsr':
      return `WRMSR ${op.ecx} := ${op.value}`;
    case 'xsetbv':
      return `XSETBV XCR${BigInt(op.ecx).toString()} := ${op.value}`;
    case 'io': {
      const name = `${op.rep === true ? 'REP ' : ''}${op.direction === 'in' ? 'IN' : 'OUT'}${op.string === true ? 'S' : ''}`;
      const port = `0x${op.port.toString(16)}${op.immediate === true ? '' : ' (DX)'}`;
      const memory = op.string === true && op.address !== undefined ? ` [${op.address}]` : '';
      return `${name} ${port}${memory} (${op.size} byte${op.size === 1 ? '' : 's'})`;
    }
    case 'exception': {
      const name = mnemonicOf(op.vector) ?? `vector ${op.vector}`;
      const code = op.errorCode === undefined ? '' : `(${op.errorCode})`;
      return `raise #${name}${code}${op.address === undefined ? '' : ` at ${op.address}`}`;
    }
    default:
      return op.kind.toUpperCase();
  }
}

/** Names of the arithmetic flags set in `flags`, or `-` when none is. */
export function formatFlags(flags: number): string {
  const set = Object.entries(ARITHMETIC_FLAGS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
  return set.length > 0 ? set.join(' ') : '-';
}

/** `VMfailValid(10) [flags ZF]`, `VMsucceed 0x4 [flags -]`, `#GP(0) [flags -]` ... */
export function formatObservation(obs: Observation): string {
  return `${formatOutcome(obs)} [flags ${formatFlags(obs.flags)}]`;
}

function formatOutcome(obs: Observation): string {
  switch (obs.kind) {
    case 'fault':
      if (obs.vector === 'GP' && obs.errorCode === undefined) return '#GP(0)';
      return `#${obs.vector}${obs.errorCode === undefined ? '' : `(${obs.errorCode})`}`;
    case 'vmexit': {
      const info = exitReasonInfo(obs.reason);
      return `VM exit (basic reason ${obs.reason}${info === undefined ? '' : `, ${info.title}`})`;
    }
    case 'vmentry': {
      if (obs.injected === undefined) return 'VM entry (now running the guest)';
      const e = obs.injected;
      return `VM entry (now running the guest; injected vector ${e.vector}, type ${e.type}${e.errorCode === undefined ? '' : `, error code ${e.errorCode}`})`;
    }
    case 'vmentry-failure':
      return `VM-entry failure (exit reason 0x${obs.exitReason.toString(16)}, qualification ${obs.qualification})`;
    case 'vmsucceed':
      return obs.value === undefined ? 'VMsucceed' : `VMsucceed ${obs.value}`;
    case 'vmfail-invalid':
      return 'VMfailInvalid';
    case 'vmfail-valid':
      return `VMfailValid(${obs.error})`;
    case 'ok':
      return obs.value === undefined ? 'ok' : `ok, value ${obs.value}`;
    case 'unimplemented':
      return `unimplemented: ${obs.what}`;
    case 'inactive':
      return `inactive (${obs.activity} activity state: the processor did not execute it)`;
  }
}
