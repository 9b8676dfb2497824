/**
 * The descriptor-table instructions SGDT, SIDT, LGDT, LIDT (GDTR and IDTR) and SLDT, STR, LLDT,
 * LTR (LDTR and TR), in and out of VMX non-root operation (Vol. 2A/2B, December 2023, each
 * instruction's page; Vol. 3C §26.1.3 "Instructions That Cause VM Exits Conditionally"). In the
 * SDM's order:
 *
 * 1. #UD: SLDT, STR, LLDT and LTR are not recognized in real-address mode or virtual-8086 mode.
 * 2. Privilege faults, which come before a VM exit (§26.1.1 "Relative Priority of Faults and VM
 *    Exits"): LGDT, LIDT, LLDT and LTR are #GP(0) when CPL > 0 (virtual-8086 mode is CPL 3); SGDT,
 *    SIDT, SLDT and STR are #GP(0) when CR4.UMIP = 1 and CPL > 0 (Vol. 3A §2.5 "Control
 *    Registers").
 * 3. In VMX non-root operation with "descriptor-table exiting" = 1: VM exit, reason 46 for GDTR and
 *    IDTR, 47 for LDTR and TR; exit qualification the displacement (0); instruction information in
 *    the two formats of §28.2.5 "Information for VM Exits Due to Instruction Execution" (the
 *    operand size of the GDTR/IDTR format is 32 bits outside 64-bit mode, as the contract encodes
 *    no 66H prefix).
 * 4. Execution. SGDT and SIDT store the register (observed: its base; 32 bits of it outside 64-bit
 *    mode), SLDT and STR the selector: known in a guest (VM entry loaded them), unknown elsewhere.
 *    LGDT and LIDT load limit and base (the low 32 bits of the base outside 64-bit mode); a
 *    non-canonical base in 64-bit mode is not among the page's listed faults, but processors and
 *    emulators fault on it, so the model allows #GP(0) as well. LTR with a null selector is
 *    #GP(0); every other LLDT and LTR reads the GDT, which the model does not hold: not modelled.
 */
import { sdm } from '../../spec/citation.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { CR4_BIT } from '../../spec/control-registers.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { descriptorTableInformation, ldtrTrInformation } from '../../spec/instruction-information.ts';
import type { DescriptorTableOp } from '../../spec/system-instruction-operations.ts';
import { fault } from '../conventions.ts';
import { operand } from '../input.ts';
import { in64BitMode, inRealAddressMode, inVirtual8086Mode } from '../modes.ts';
import { rule } from '../rule.ts';
import type { CpuState, ModelState, SegmentRegister } from '../state.ts';
import { cpuOf, ModelInputError } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { atCplZero, checkGpr, completed, completes, controlBit, controlsUnknown, gp, reportedGpr, secondaryControls, ud } from './guest.ts';
import { isCanonical } from './invpcid.ts';
import { contractMemoryOperand, exitWithInformation } from './operand-exits.ts';

const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const CR4_PAGE = sdm('2.5', 'Control Registers', '3A');
const PAGES = {
  sgdt: sdm('4.3', 'SGDT—Store Global Descriptor Table Register', '2B'),
  sidt: sdm('4.3', 'SIDT—Store Interrupt Descriptor Table Register', '2B'),
  lgdt: sdm('3.3', 'LGDT/LIDT—Load Global/Interrupt Descriptor Table Register', '2A'),
  lidt: sdm('3.3', 'LGDT/LIDT—Load Global/Interrupt Descriptor Table Register', '2A'),
  sldt: sdm('4.3', 'SLDT—Store Local Descriptor Table Register', '2B'),
  str: sdm('4.3', 'STR—Store Task Register', '2B'),
  lldt: sdm('3.3', 'LLDT—Load Local Descriptor Table Register', '2A'),
  ltr: sdm('3.3', 'LTR—Load Task Register', '2A'),
} as const;
const I = 'descriptor tables';

/** The decision points of the descriptor-table instructions. */
export const DESCRIPTOR_TABLE_RULES = {
  notRecognized: rule('descriptor-table.ud-real-or-virtual-8086', I, PAGES.sldt, 'SLDT, STR, LLDT and LTR: #UD in real-address and virtual-8086 mode (not recognized)'),
  loadCpl: rule('descriptor-table.gp-cpl', I, PAGES.lgdt, 'LGDT, LIDT, LLDT and LTR: #GP(0) when CPL > 0 (before any VM exit)'),
  umip: rule('descriptor-table.gp-umip', I, CR4_PAGE, 'SGDT, SIDT, SLDT and STR: #GP(0) when CR4.UMIP = 1 and CPL > 0 (before any VM exit)'),
  gdtrIdtrExit: rule('descriptor-table.vm-exit-gdtr-idtr', I, CONDITIONAL, 'in VMX non-root operation with "descriptor-table exiting" = 1: LGDT, LIDT, SGDT, SIDT cause a VM exit (reason 46)'),
  ldtrTrExit: rule('descriptor-table.vm-exit-ldtr-tr', I, CONDITIONAL, 'in VMX non-root operation with "descriptor-table exiting" = 1: LLDT, LTR, SLDT, STR cause a VM exit (reason 47)'),
  store: rule('descriptor-table.store', I, PAGES.sgdt, 'SGDT, SIDT, SLDT and STR store the register (its base or selector; known in a guest)'),
  load: rule('descriptor-table.load', I, PAGES.lgdt, 'LGDT and LIDT load the limit and base (low 32 bits of the base outside 64-bit mode)'),
  nonCanonicalBase: rule('descriptor-table.non-canonical-base', I, PAGES.lgdt, 'LGDT/LIDT of a non-canonical base in 64-bit mode: the load or #GP(0) (the page lists no such fault; processors and emulators raise one)'),
  nullTr: rule('descriptor-table.gp-ltr-null', I, PAGES.ltr, 'LTR with a null selector: #GP(0)'),
  gdtNotModelled: rule('descriptor-table.gdt-not-modelled', I, PAGES.lldt, 'LLDT and LTR of a selector read the GDT, which the model does not hold; not modelled'),
} as const;

const R = DESCRIPTOR_TABLE_RULES;

const IDENTITY = { sgdt: 'SGDT', sidt: 'SIDT', lgdt: 'LGDT', lidt: 'LIDT', sldt: 'SLDT', str: 'STR', lldt: 'LLDT', ltr: 'LTR' } as const;

function umipOn(cpu: CpuState): boolean {
  return ((cpu.cr4 >> BigInt(CR4_BIT.UMIP)) & 1n) === 1n;
}

/** One descriptor-table instruction. */
export function descriptorTable(state: ModelState, op: DescriptorTableOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const instruction = op.instruction;
  const register = op.form === 'register';
  const gdtrIdtr = instruction === 'sgdt' || instruction === 'sidt' || instruction === 'lgdt' || instruction === 'lidt';
  const loads = instruction === 'lgdt' || instruction === 'lidt' || instruction === 'lldt' || instruction === 'ltr';
  if (register && gdtrIdtr) throw new ModelInputError(`descriptor-table: ${instruction} has a memory operand only`);
  const gpr = checkGpr(op.gpr, 'descriptor-table');
  if (!gdtrIdtr && (inRealAddressMode(cpu) || inVirtual8086Mode(cpu))) return ud(state, c, R.notRecognized);
  if (loads && !atCplZero(cpu)) return gp(state, c, R.loadCpl);
  if (!loads && umipOn(cpu) && !atCplZero(cpu)) return gp(state, c, R.umip);
  if (cpu.vmx === 'non-root') {
    const secondary = secondaryControls(state, c);
    if (secondary === undefined) return controlsUnknown();
    if (controlBit(secondary, SECONDARY_CONTROL.DESCRIPTOR_TABLE_EXITING)) return exitOf(state, c, op, gdtrIdtr, register, gpr);
  }
  switch (instruction) {
    case 'sgdt':
    case 'sidt':
      return store(state, c, op, instruction === 'sgdt' ? cpu.guest?.gdtr : cpu.guest?.idtr, 'base');
    case 'sldt':
    case 'str':
      return store(state, c, op, instruction === 'sldt' ? cpu.guest?.segments.LDTR : cpu.guest?.segments.TR, 'selector');
    case 'lgdt':
    case 'lidt':
      return loadTable(state, c, op);
    case 'lldt':
    case 'ltr':
      if (instruction === 'ltr' && (operand(op.selector ?? '0x0', 'selector', 'descriptor-table') & 0xfffcn) === 0n) return gp(state, c, R.nullTr);
      return notModelled(R.gdtNotModelled);
  }
}

/** The VM exit of a descriptor-table instruction (reason 46 or 47) with its instruction information. */
function exitOf(state: ModelState, c: number, op: DescriptorTableOp, gdtrIdtr: boolean, register: boolean, gpr: number): Verdict {
  const cpu = cpuOf(state, c);
  const in64 = in64BitMode(cpu);
  const identity = IDENTITY[op.instruction];
  if (gdtrIdtr) {
    const information = descriptorTableInformation({ memory: contractMemoryOperand(cpu), identity: identity as 'SGDT' | 'SIDT' | 'LGDT' | 'LIDT', operandSize32: !in64, in64BitMode: in64 });
    return exitWithInformation(state, c, op, R.gdtrIdtrExit, EXIT_REASON.GDTR_IDTR_ACCESS, information, true);
  }
  const ldtrIdentity = identity as 'SLDT' | 'STR' | 'LLDT' | 'LTR';
  const information = register ? ldtrTrInformation({ identity: ldtrIdentity, register: reportedGpr(cpu, gpr) }) : ldtrTrInformation({ identity: ldtrIdentity, memory: contractMemoryOperand(cpu) });
  return exitWithInformation(state, c, op, R.ldtrTrExit, EXIT_REASON.LDTR_TR_ACCESS, information, !register);
}

/** SGDT, SIDT (the base; 32 bits outside 64-bit mode), SLDT, STR (the selector). */
function store(state: ModelState, c: number, op: DescriptorTableOp, source: SegmentRegister | undefined, part: 'base' | 'selector'): Verdict {
  const cpu = cpuOf(state, c);
  const known = source?.[part];
  const value = known === undefined ? undefined : part === 'base' && !in64BitMode(cpu) ? known & 0xffff_ffffn : known;
  return completed(state, c, op, R.store, {}, value);
}

/** LGDT and LIDT: the guest's register changes (a later VM exit saves it); elsewhere nothing the model tracks. */
function loadTable(state: ModelState, c: number, op: DescriptorTableOp): Verdict {
  const cpu = cpuOf(state, c);
  const in64 = in64BitMode(cpu);
  const limit = operand(op.limit ?? '0x0', 'limit', 'descriptor-table') & 0xffffn;
  const given = operand(op.base ?? '0x0', 'base', 'descriptor-table');
  const base = in64 ? given : given & 0xffff_ffffn;
  const guest = cpu.guest;
  const loaded: SegmentRegister = { selector: undefined, base, limit, accessRights: undefined };
  const changes = guest === undefined ? {} : { guest: op.instruction === 'lgdt' ? { ...guest, gdtr: loaded } : { ...guest, idtr: loaded } };
  if (in64 && !isCanonical(cpu, base)) return defined(completes(state, c, op, R.nonCanonicalBase, changes), fault(state, c, R.nonCanonicalBase, 'GP'));
  return completed(state, c, op, R.load, changes);
}

