/**
 * Whether a guest operation causes a VM exit under an exit configuration (exit-setup.ts), as the
 * VM-exit step group needs to know to place the host's VMREADs and VMRESUME after an exit and to
 * choose operands on both sides of each exit condition. This is generator bookkeeping, written
 * from the exit-condition table (spec/exit-conditions.ts, SDM Vol. 3C §26.1.2, §26.1.3 and §26.2);
 * it decides nothing the differential property compares: the model does that. A wrong guess only
 * puts the host's VMREADs in the guest (they exit too) or a guest operation after a VM exit.
 */
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { CR0_BIT, CR4_BIT } from '../../spec/control-registers.ts';
import { ioAccessPorts, msrBitmapPosition } from '../../spec/exit-bitmaps.ts';
import type { Operation } from '../../spec/operations.ts';
import { CR4_OSXSAVE, type ExitSetup } from './exit-setup.ts';

const INVALID_OPCODE = 6;
const PAGE_FAULT = 14;
const IA32_FEATURE_CONTROL = 0x3a;

function primaryOn(setup: ExitSetup, name: keyof typeof PRIMARY_CONTROL): boolean {
  return (setup.primary & (1n << BigInt(PRIMARY_CONTROL[name]))) !== 0n;
}

function secondaryOn(setup: ExitSetup, name: keyof typeof SECONDARY_CONTROL): boolean {
  return setup.secondary !== undefined && (setup.secondary & (1n << BigInt(SECONDARY_CONTROL[name]))) !== 0n;
}

/** An exception with `vector` (and page-fault `errorCode`) exits through the exception bitmap (§26.2). */
export function exceptionExits(setup: ExitSetup, vector: number, errorCode = 0): boolean {
  const inBitmap = ((setup.exceptionBitmap >>> vector) & 1) === 1;
  if (vector !== PAGE_FAULT) return inBitmap;
  const matches = ((errorCode & setup.pfecMask) >>> 0) === (setup.pfecMatch >>> 0);
  return matches === inBitmap;
}

/** RDMSR/WRMSR of `msr` exits: no MSR bitmaps, outside their ranges, or the bit is 1; undefined for an MSR whose bit the group did not lay out. */
export function msrExits(setup: ExitSetup, msr: number, access: 'read' | 'write'): boolean | undefined {
  if (!primaryOn(setup, 'USE_MSR_BITMAPS')) return true;
  if (msrBitmapPosition(msr, access) === undefined) return true;
  const exits = setup.msrBits.get(`${access}:0x${msr.toString(16)}`);
  // Without the exit, an MSR the processor lacks raises #GP in the guest (the exception bitmap decides then).
  if (exits === false && !KNOWN_MSRS.has(msr)) return undefined;
  return exits;
}

/** Probe MSRs every processor here has (TSC, SYSENTER_CS, PAT, EFER, STAR, KERNEL_GS_BASE). */
const KNOWN_MSRS: ReadonlySet<number> = new Set([0x10, 0x174, 0x277, 0xc000_0080, 0xc000_0081, 0xc000_0102]);

/** An I/O access exits (unconditional I/O exiting, or the I/O bitmaps with wrap-around); undefined for an untracked port. */
export function ioExits(setup: ExitSetup, port: number, size: 1 | 2 | 4): boolean | undefined {
  if (!primaryOn(setup, 'USE_IO_BITMAPS')) return primaryOn(setup, 'UNCONDITIONAL_IO_EXITING');
  const { ports, wraps } = ioAccessPorts(port, size);
  if (wraps) return true;
  const bits = ports.map((p) => setup.ioBits.get(p));
  if (bits.some((b) => b === true)) return true;
  return bits.some((b) => b === undefined) ? undefined : false;
}

/**
 * VMREAD/VMWRITE exits (§26.1.3): "VMCS shadowing" 0, an encoding with a bit above 14 set (bits
 * 63:15 in 64-bit mode, 31:15 otherwise), or its bit 1 in the VMREAD or VMWRITE bitmap; undefined
 * for an encoding whose bit the group did not lay out.
 */
export function shadowAccessExits(setup: ExitSetup, kind: 'vmread' | 'vmwrite', encoding: bigint): boolean | undefined {
  if (!secondaryOn(setup, 'VMCS_SHADOWING')) return true;
  const effective = setup.guest64 ? encoding : encoding & 0xffff_ffffn;
  if (effective > 0x7fffn) return true;
  return setup.shadowBits.get(`${kind}:0x${effective.toString(16)}`);
}

/** LMSW exits (§26.1.3): PE set in mask and source but clear in the shadow, or a masked bit 3:1 differs. */
export function lmswExits(setup: ExitSetup, source: bigint): boolean {
  const pe = 1n << BigInt(CR0_BIT.PE);
  if ((setup.cr0Mask & pe) !== 0n && (source & pe) !== 0n && (setup.cr0Shadow & pe) === 0n) return true;
  return ((source ^ setup.cr0Shadow) & setup.cr0Mask & 0xen) !== 0n;
}

/**
 * VMFUNC in VMX non-root operation (SDM Vol. 3C §31.3 "VMFUNC — Invoke VM Function", §26.5.6.3
 * "EPTP Switching"): #UD when "enable VM functions" is 0; a VM exit (reason 59) when EAX > 63 or
 * its VM-function control bit is 0; for EPTP switching (EAX = 0) a VM exit when ECX ≥ 512 or the
 * list entry is not a valid EPTP (entry 1 of the generators' list is 0), none for entry 0.
 */
function vmfuncExits(setup: ExitSetup, eax: number, ecx: number): boolean | undefined {
  if (!secondaryOn(setup, 'ENABLE_VM_FUNCTIONS')) return exceptionExits(setup, INVALID_OPCODE);
  if (eax > 63 || ((setup.vmfunc >> BigInt(eax)) & 1n) === 0n) return true;
  if (eax !== 0) return undefined;
  if (ecx >= 512 || ecx === 1) return true;
  return ecx === 0 ? false : undefined;
}

/**
 * Whether `op`, executed by the guest, causes a VM exit (possibly through the #UD it raises);
 * `undefined` when the group cannot tell.
 */
export function predictExit(setup: ExitSetup, op: Operation): boolean | undefined {
  switch (op.kind) {
    case 'xsetbv':
      // #UD (CR4.OSXSAVE = 0) has priority over the VM exit (§26.1.1).
      return (setup.guestCr4 & (1n << BigInt(CR4_OSXSAVE))) !== 0n ? true : exceptionExits(setup, INVALID_OPCODE);
    case 'cpuid':
    case 'invd':
    case 'vmxon':
    case 'vmxoff':
    case 'vmclear':
    case 'vmptrld':
    case 'vmptrst':
    case 'vmlaunch':
    case 'vmresume':
    case 'invept':
    case 'invvpid':
    case 'vmcall':
      return true;
    case 'vmread':
    case 'vmwrite':
      return shadowAccessExits(setup, op.kind, BigInt(op.encoding));
    case 'hlt':
      return primaryOn(setup, 'HLT_EXITING');
    case 'invlpg':
      return primaryOn(setup, 'INVLPG_EXITING');
    case 'rdtsc':
      return primaryOn(setup, 'RDTSC_EXITING');
    case 'rdpmc':
      // Without the exit, a counter the processor lacks raises #GP: whether it has it is not known here.
      return primaryOn(setup, 'RDPMC_EXITING') ? true : Number(op.ecx) === 0 ? false : undefined;
    case 'pause':
      // PAUSE-loop exiting depends on timing the group does not model; the built VMCS leaves it 0.
      if (primaryOn(setup, 'PAUSE_EXITING')) return true;
      return secondaryOn(setup, 'PAUSE_LOOP_EXITING') ? undefined : false;
    case 'monitor':
      return primaryOn(setup, 'MONITOR_EXITING');
    case 'mwait':
      return primaryOn(setup, 'MWAIT_EXITING');
    case 'mov-dr':
      return primaryOn(setup, 'MOV_DR_EXITING');
    case 'rdtscp':
      if (!secondaryOn(setup, 'ENABLE_RDTSCP')) return exceptionExits(setup, INVALID_OPCODE);
      return primaryOn(setup, 'RDTSC_EXITING');
    case 'wbinvd':
      return secondaryOn(setup, 'WBINVD_EXITING');
    case 'mov-cr0':
      return ((BigInt(op.value) ^ setup.cr0Shadow) & setup.cr0Mask) !== 0n;
    case 'mov-cr4':
      return ((BigInt(op.value) ^ setup.cr4Shadow) & setup.cr4Mask) !== 0n;
    case 'mov-cr3':
      return primaryOn(setup, 'CR3_LOAD_EXITING') && !setup.cr3Targets.includes(BigInt(op.value));
    case 'mov-cr8':
      return setup.guest64 ? primaryOn(setup, 'CR8_LOAD_EXITING') : exceptionExits(setup, INVALID_OPCODE);
    case 'mov-from-cr':
      if (op.cr === 3) return primaryOn(setup, 'CR3_STORE_EXITING');
      if (op.cr === 8) return setup.guest64 ? primaryOn(setup, 'CR8_STORE_EXITING') : exceptionExits(setup, INVALID_OPCODE);
      return false;
    case 'clts': {
      const ts = 1n << BigInt(CR0_BIT.TS);
      return (setup.cr0Mask & setup.cr0Shadow & ts) !== 0n;
    }
    case 'lmsw':
      return lmswExits(setup, BigInt(op.value) & 0xffffn);
    case 'rdmsr':
      return msrExits(setup, Number(op.ecx), 'read');
    case 'wrmsr':
      return msrExits(setup, Number(op.ecx), 'write');
    case 'write-feature-control':
      return msrExits(setup, IA32_FEATURE_CONTROL, 'write');
    case 'io':
      return ioExits(setup, op.port, op.size);
    case 'exception':
      return exceptionExits(setup, op.vector, op.errorCode === undefined ? 0 : Number(op.errorCode));
    case 'rdrand':
      return setup.features.rdrand ? secondaryOn(setup, 'RDRAND_EXITING') : exceptionExits(setup, INVALID_OPCODE);
    case 'rdseed':
      return setup.features.rdseed ? secondaryOn(setup, 'RDSEED_EXITING') : exceptionExits(setup, INVALID_OPCODE);
    case 'invpcid':
      if (!setup.features.invpcid || !secondaryOn(setup, 'ENABLE_INVPCID')) return exceptionExits(setup, INVALID_OPCODE);
      // Without the exit, the type and descriptor checks may raise #GP (the exception bitmap decides).
      return primaryOn(setup, 'INVLPG_EXITING') ? true : undefined;
    case 'descriptor-table':
      // LTR of a null selector raises #GP; LLDT/LTR of another selector is not modelled either way.
      return secondaryOn(setup, 'DESCRIPTOR_TABLE_EXITING') ? true : op.instruction === 'ltr' ? undefined : false;
    case 'getsec':
      return (setup.guestCr4 & (1n << BigInt(CR4_BIT.SMXE))) !== 0n ? true : exceptionExits(setup, INVALID_OPCODE);
    case 'vmfunc':
      return vmfuncExits(setup, Number(op.eax), Number(op.ecx));
    case 'xsaves':
    case 'xrstors': {
      const osxsave = (setup.guestCr4 & (1n << BigInt(CR4_OSXSAVE))) !== 0n;
      if (!setup.features.xsaves || !osxsave || !secondaryOn(setup, 'ENABLE_XSAVES_XRSTORS')) return exceptionExits(setup, INVALID_OPCODE);
      if (setup.xss === undefined) return undefined;
      return (BigInt(op.mask) & setup.xss & setup.xssBitmap) !== 0n ? true : undefined;
    }
    default:
      return undefined;
  }
}
