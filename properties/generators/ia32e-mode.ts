/**
 * What the `no-guests` mix (operations.ts) leaves out besides the guests: steps that take the
 * processor out of IA-32e mode (IA32_EFER.LMA or LME set to 0; CR0.PG cleared in compatibility
 * mode, which deactivates IA-32e mode: SDM Vol. 3A §10.8.5 "Initializing IA-32e Mode"), into
 * virtual-8086 mode (RFLAGS.VM set to 1), or to other page tables (CR3). An engine that cannot run
 * a guest, the Bochs agent, runs every case in IA-32e mode on its own page tables and answers
 * `unimplemented` for these (cli/bochs/bytecode.ts), which ends the case.
 */
import type { Operation } from '../../spec/operations.ts';

const CR0_PG = 1n << 31n;

/**
 * Whether `ops`, run from 64-bit mode (CS.L = 1, or `csl`), make a step the no-guests mix leaves
 * out: `set efer.lma 0`, `set efer.lme 0`, `set rflags.vm 1`, `set cr3`, or MOV to CR0 clearing PG
 * after `set cs.l 0`.
 */
export function leavesIa32eMode(ops: readonly Operation[], csl = 1): boolean {
  let cs = csl;
  for (const op of ops) {
    if (op.kind === 'set') {
      if (op.what === 'cs.l') cs = op.value;
      else if ((op.what === 'efer.lma' || op.what === 'efer.lme') && op.value === 0) return true;
      else if (op.what === 'rflags.vm' && op.value === 1) return true;
      else if (op.what === 'cr3') return true;
    } else if (op.kind === 'mov-cr0' && cs === 0 && (BigInt(op.value) & CR0_PG) === 0n) {
      return true;
    }
  }
  return false;
}
