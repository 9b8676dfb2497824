/**
 * WRMSR of IA32_EFER (C0000080H) that reaches the MSR: in VMX root operation, outside VMX, and in
 * a guest whose MSR bitmap lets the write through (msr-access.ts decides the exit first). From
 * SDM Vol. 3A, December 2023, §2.2.1 "Extended Feature Enable Register" (Table "IA32_EFER MSR
 * Information": SCE bit 0 and LME bit 8 and NXE bit 11 read/write, LMA bit 10 read-only, bits 7:1,
 * 9 and 63:12 reserved) and §4.1.2 "Paging-Mode Enabling" ("IA32_EFER.LME cannot be modified while
 * paging is enabled (CR0.PG = 1)": #GP(0)), in this order:
 *
 * 1. A reserved bit set: #GP(0) (WRMSR: "#GP(0) if the value in EDX:EAX sets bits that are
 *    reserved in the MSR specified by ECX").
 * 2. LME changed while CR0.PG = 1: #GP(0).
 * 3. LMA is read-only: a value whose LMA differs from the current one is either ignored in that bit
 *    or refused with #GP(0); the SDM does not say which, so the model allows both.
 * 4. Otherwise the write completes: SCE, LME and NXE take the value, LMA keeps its value (a later
 *    VM exit saves IA32_EFER with these). SCE and NXE are taken to exist: every processor with VMX
 *    in the profiles supports SYSCALL and the execute-disable bit in IA-32e mode.
 */
import { sdm } from '../../spec/citation.ts';
import { CR0_BIT } from '../../spec/control-registers.ts';
import type { WrmsrOp } from '../../spec/guest-operations.ts';
import { fault } from '../conventions.ts';
import { operand } from '../input.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined } from '../verdict.ts';
import { MSR } from '../vm-exit/msr-indices.ts';
import { completes, gp } from './guest.ts';

const EFER_PAGE = sdm('2.2.1', 'Extended Feature Enable Register', '3A');
const PAGING_MODES = sdm('4.1.2', 'Paging-Mode Enabling', '3A');

/** The IA32_EFER bits (Vol. 3A §2.2.1). */
const EFER = { SCE: 1n, LME: 1n << 8n, LMA: 1n << 10n, NXE: 1n << 11n } as const;
const DEFINED_BITS = EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE;

/** The decision points of a WRMSR of IA32_EFER. */
export const EFER_WRITE_RULES = {
  reserved: rule('wrmsr.efer-reserved', 'WRMSR', EFER_PAGE, 'IA32_EFER: a reserved bit (7:1, 9, 63:12) set is #GP(0)'),
  lmeWhilePaging: rule('wrmsr.efer-lme-while-paging', 'WRMSR', PAGING_MODES, 'IA32_EFER.LME changed while CR0.PG = 1 is #GP(0)'),
  lmaReadOnly: rule('wrmsr.efer-lma-read-only', 'WRMSR', EFER_PAGE, 'IA32_EFER.LMA is read-only: a different LMA is ignored or refused with #GP(0); both allowed'),
  write: rule('wrmsr.efer-write', 'WRMSR', EFER_PAGE, 'IA32_EFER: SCE, LME and NXE take the value; LMA keeps its value'),
} as const;

const R = EFER_WRITE_RULES;

/** WRMSR of IA32_EFER past the privilege check and any VM exit. */
export function writeEfer(state: ModelState, op: WrmsrOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const value = operand(op.value, 'value', 'wrmsr');
  if ((value & ~DEFINED_BITS) !== 0n) return gp(state, c, R.reserved);
  const paging = ((cpu.cr0 >> BigInt(CR0_BIT.PG)) & 1n) === 1n;
  const lme = (value & EFER.LME) !== 0n ? 1 : 0;
  if (paging && lme !== cpu.eferLme) return gp(state, c, R.lmeWhilePaging);
  const currentLma = cpu.eferLma === 1 ? EFER.LMA : 0n;
  const kept = (value & ~EFER.LMA) | currentLma;
  const msrs = new Map(cpu.msrs).set(MSR.EFER, kept);
  const written = completes(state, c, op, (value & EFER.LMA) === currentLma ? R.write : R.lmaReadOnly, { msrs, eferLme: lme });
  if ((value & EFER.LMA) === currentLma) return defined(written);
  return defined(written, fault(state, c, R.lmaReadOnly, 'GP'));
}
