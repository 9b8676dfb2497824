/**
 * One-line renderings of operations and observations for traces and failure reports, written so
 * a person can read them beside the SDM (instruction names in capitals, pointers in brackets).
 */
import { ARITHMETIC_FLAGS } from '../spec/observations.ts';
import type { Observation } from '../spec/observations.ts';
import type { Operation } from '../spec/operations.ts';

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
      return `${where} VMREAD ${op.encoding}${op.form === 'memory' ? ' -> memory' : ''}`;
    case 'vmwrite':
      return `${where} VMWRITE ${op.encoding} := ${op.value}${op.form === 'memory' ? ' (memory source)' : ''}`;
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
      return `${where} MOV CR0 := ${op.value}`;
    case 'mov-cr4':
      return `${where} MOV CR4 := ${op.value}`;
    case 'write-feature-control':
      return `${where} WRMSR IA32_FEATURE_CONTROL := ${op.value}`;
    case 'set':
      return `${where} set ${op.what} = ${op.value}`;
    case 'write-memory':
      return `${where} write-memory [${op.address}] := ${op.value}`;
    default: {
      const { kind, cpu: _cpu, ...operands } = op;
      const text = Object.entries(operands).map(([name, value]) => `${name}=${String(value)}`).join(' ');
      return `${where} ${kind.toUpperCase()}${text === '' ? '' : ` ${text}`}`;
    }
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
    case 'vmexit':
      return `VM exit (basic reason ${obs.reason})`;
    case 'vmentry':
      return 'VM entry (now running the guest)';
    case 'vmentry-failure':
      return `VM-entry failure (exit reason 0x${obs.exitReason.toString(16)}, qualification ${obs.qualification})`;
    case 'vmsucceed':
      return obs.value === undefined ? 'VMsucceed' : `VMsucceed ${obs.value}`;
    case 'vmfail-invalid':
      return 'VMfailInvalid';
    case 'vmfail-valid':
      return `VMfailValid(${obs.error})`;
    case 'ok':
      return 'ok';
    case 'unimplemented':
      return `unimplemented: ${obs.what}`;
  }
}
