/**
 * Reads what the guest agent printed: the capability report (`<<MSR 480 ...>>`, `<<CPUID ...>>`)
 * and the per-case result lines (format in bochs/agent/interp.asm), turning each record into an
 * observation of the engine contract.
 */
import { MSR } from '../../spec/capability-msrs.ts';
import { EXCEPTIONS_WITH_ERROR_CODE, mnemonicOf } from '../../spec/exceptions.ts';
import { toHex } from '../../spec/hex.ts';
import { ARITHMETIC_FLAGS } from '../../spec/observations.ts';
import type { Observation } from '../../spec/observations.ts';
import type { ProfileData, VmxCapabilityMsrs } from '../../spec/profile-data.ts';
import type { CompiledCase } from './bytecode.ts';

/** MSR index of each capability MSR of the profile format (spec/capability-msrs.ts without IA32_FEATURE_CONTROL). */
const { IA32_FEATURE_CONTROL: _featureControl, ...CAPABILITY_MSRS } = MSR;
const REQUIRED: readonly (keyof VmxCapabilityMsrs)[] = [
  'IA32_VMX_BASIC', 'IA32_VMX_PINBASED_CTLS', 'IA32_VMX_PROCBASED_CTLS', 'IA32_VMX_EXIT_CTLS', 'IA32_VMX_ENTRY_CTLS', 'IA32_VMX_MISC',
  'IA32_VMX_CR0_FIXED0', 'IA32_VMX_CR0_FIXED1', 'IA32_VMX_CR4_FIXED0', 'IA32_VMX_CR4_FIXED1', 'IA32_VMX_VMCS_ENUM',
];

/** The agent's capability report as profile data; throws an Error naming what is missing or malformed. */
export function parseCapabilities(agentOutput: string, name: string, description: string): ProfileData {
  const msr = new Map<number, bigint | 'fault'>();
  for (const m of agentOutput.matchAll(/<<MSR ([0-9a-f]+) (#[0-9a-f]+|[0-9a-f]+)>>/g)) {
    msr.set(parseInt(m[1] as string, 16), (m[2] as string).startsWith('#') ? 'fault' : BigInt(`0x${m[2]}`));
  }
  const cpuid = /<<CPUID 80000008 ([0-9a-f]+) [0-9a-f]+>>/.exec(agentOutput);
  if (cpuid === null) throw new Error('the agent did not report CPUID 80000008H (physical-address width)');
  const msrs: Partial<Record<keyof VmxCapabilityMsrs, string>> = {};
  for (const [key, index] of Object.entries(CAPABILITY_MSRS) as [keyof VmxCapabilityMsrs, number][]) {
    const value = msr.get(index);
    if (typeof value === 'bigint') msrs[key] = toHex(value);
    else if (REQUIRED.includes(key)) throw new Error(`RDMSR ${index.toString(16)}H (${key}) ${value === undefined ? 'was not reported' : 'faulted'}: is VMX enabled in this CPU model?`);
  }
  const featureControl = msr.get(0x3a);
  if (typeof featureControl !== 'bigint') throw new Error('RDMSR 3AH (IA32_FEATURE_CONTROL) was not reported or faulted');
  return {
    name,
    description,
    physicalAddressWidth: parseInt(cpuid[1] as string, 16) & 0xff,
    featureControl: toHex(featureControl),
    msrs: msrs as unknown as VmxCapabilityMsrs,
  };
}

const FLAG_BITS = [ARITHMETIC_FLAGS.CF, ARITHMETIC_FLAGS.PF, ARITHMETIC_FLAGS.AF, ARITHMETIC_FLAGS.ZF, ARITHMETIC_FLAGS.SF, ARITHMETIC_FLAGS.OF];

function flagsOf(char: string | undefined): number {
  const v = char === undefined ? -1 : char.charCodeAt(0) - 48;
  if (v < 0 || v > 63) throw new Error(`bad flags character ${JSON.stringify(char)}`);
  return FLAG_BITS.reduce((acc, bit, i) => ((v >> i) & 1 ? acc | bit : acc), 0);
}

/**
 * The case lines of a batch, by case index: `@<id>;<records>`; the last one may be unfinished.
 * `lost` are the cases in which Bochs reset the processor (`<<VMXB-LOST <id>>>`, printed by the
 * agent when it boots again): their line, cut short by the reset, is not a result. `damaged` is
 * the case whose bytecode the agent found changed after a reset (`<<VMXB-DAMAGED <id>>>`): the
 * batch ended before it.
 */
export function caseLines(agentOutput: string): { done: Map<number, string>; running?: number; lost: Set<number>; damaged?: number } {
  const done = new Map<number, string>();
  const lost = new Set<number>();
  let running: number | undefined;
  let damaged: number | undefined;
  const lines = agentOutput.split('\n');
  for (const [i, line] of lines.entries()) {
    const bad = /^<<VMXB-DAMAGED ([0-9a-f]+)>>$/.exec(line);
    if (bad !== null) {
      damaged = parseInt(bad[1] as string, 16);
      continue;
    }
    const reset = /^<<VMXB-LOST ([0-9a-f]+)>>$/.exec(line);
    if (reset !== null) {
      const id = parseInt(reset[1] as string, 16);
      lost.add(id);
      done.delete(id);
      continue;
    }
    const m = /^@([0-9a-f]+);(.*)$/.exec(line);
    if (m === null) continue;
    const id = parseInt(m[1] as string, 16);
    if (i === lines.length - 1) running = id;
    else done.set(id, m[2] as string);
  }
  return { done, lost, ...(running === undefined ? {} : { running }), ...(damaged === undefined ? {} : { damaged }) };
}

/** The observations of one case's records; throws an Error describing the first malformed record. */
export function parseRecords(body: string, compiled: CompiledCase): Observation[] {
  const out: Observation[] = [];
  let i = 0;
  const hex = (): bigint => {
    const end = body.indexOf(';', i);
    const digits = end < 0 ? '' : body.slice(i, end);
    if (!/^[0-9a-f]{1,16}$/.test(digits)) throw new Error(`bad number at character ${i} of ${JSON.stringify(body.slice(0, 200))}`);
    i = end + 1;
    return BigInt(`0x${digits}`);
  };
  while (i < body.length) {
    const kind = body[i++];
    const index = out.length;
    if (kind === 'U') {
      out.push({ kind: 'unimplemented', what: compiled.unimplemented.get(index) ?? 'not executed by the Bochs guest agent', flags: 0 });
      continue;
    }
    const flags = flagsOf(body[i++]);
    if (compiled.randomForms.has(index) && (kind === 'I' || kind === 'S' || kind === 'O')) {
      out.push({ kind: 'ok', flags });
      continue;
    }
    switch (kind) {
      case 'O':
        out.push({ kind: 'ok', flags });
        break;
      case 'S':
        out.push({ kind: 'vmsucceed', flags });
        break;
      case 'V':
        out.push({ kind: 'vmsucceed', flags, value: toHex(hex()) });
        break;
      case 'I':
        out.push({ kind: 'vmfail-invalid', flags });
        break;
      case 'F':
        out.push({ kind: 'vmfail-valid', flags, error: Number(hex()) });
        break;
      case 'X': {
        const vector = Number(hex());
        const errorCode = hex();
        const mnemonic = mnemonicOf(vector);
        if (mnemonic === undefined) throw new Error(`exception vector ${vector} has no mnemonic`);
        const withCode = EXCEPTIONS_WITH_ERROR_CODE.has(vector) && errorCode !== 0n;
        out.push({ kind: 'fault', vector: mnemonic, flags, ...(withCode ? { errorCode: toHex(errorCode) } : {}) });
        break;
      }
      default:
        throw new Error(`unknown record ${JSON.stringify(kind)} at character ${i - 1} of ${JSON.stringify(body.slice(0, 200))}`);
    }
  }
  if (out.length !== compiled.sent) throw new Error(`${out.length} records for ${compiled.sent} operations`);
  return out;
}
