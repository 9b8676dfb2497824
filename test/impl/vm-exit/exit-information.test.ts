/**
 * What a VM exit records (SDM Vol. 3C, December 2023, §28.2 "Recording VM-Exit Information and
 * Updating VM-Entry Control Fields"), read back with VMREAD after the exit. Expected values from
 * the SDM text: the exit reason's bits 15:0 are the basic reason and the other bits 0 for these
 * exits (§28.2.1 "Basic VM-Exit Information"); the exit qualification is cleared for the exits
 * that do not define it ("For all other VM exits, this field is cleared", §28.2.1); the
 * VM-exit interruption information has bit 31 cleared for exits not due to vectored events
 * (§28.2.2 "Information for VM Exits Due to Vectored Events"); the IDT-vectoring information has
 * bit 31 cleared for exits not during event delivery (§28.2.4 "Information for VM Exits During
 * Event Delivery"); and every VM exit clears the valid bit of the VM-entry interruption-information
 * field (§25.8.3 "VM-Entry Controls for Event Injection").
 */
import { describe, expect, it } from 'vitest';
import {
  EXIT_INFO_INSTRUCTION_INFORMATION,
  EXIT_INFO_INSTRUCTION_LENGTH,
  EXIT_INFO_INTERRUPTION,
  EXIT_INFO_INTERRUPTION_ERROR_CODE,
  EXIT_INFO_LINEAR_ADDRESS,
  EXIT_INFO_QUALIFICATION,
} from '../../../impl/vm-exit/exit-info.ts';
import { STATUS_VMEXIT } from '../../../impl/index.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { launched, read, write } from './rig.ts';

const ALL_ONES_32 = 0xffff_ffffn;

describe('the exit information a VM exit records', () => {
  it('a guest VMCALL: reason 18, qualification cleared, interruption and IDT-vectoring information invalid', () => {
    const m = launched();
    expect(m.vmcall(0)).toBe(STATUS_VMEXIT);
    expect(m.exitReason).toBe(EXIT_REASON.VMCALL);
    expect(read(m, 'EXIT_REASON')).toBe(BigInt(EXIT_REASON.VMCALL));
    expect(read(m, 'EXIT_QUALIFICATION')).toBe(0n);
    expect(read(m, 'VM_EXIT_INTERRUPTION_INFORMATION') >> 31n).toBe(0n);
    expect(read(m, 'IDT_VECTORING_INFORMATION') >> 31n).toBe(0n);
  });

  it('clears the valid bit of the VM-entry interruption-information field and keeps its other bits', () => {
    // Inject #UD (vector 6, hardware exception) at entry; the next VM exit clears only bit 31.
    const injection = (1n << 31n) | (3n << 8n) | 6n;
    const m = launched({ changes: { VM_ENTRY_INTERRUPTION_INFORMATION: injection } });
    m.vmcall(0);
    expect(read(m, 'VM_ENTRY_INTERRUPTION_INFORMATION')).toBe(injection & ~(1n << 31n));
  });

  it('writes every member the exiting instruction defines, as it defines them', () => {
    const m = launched();
    const info = m.exitInfo;
    info.defined =
      EXIT_INFO_QUALIFICATION |
      EXIT_INFO_INSTRUCTION_LENGTH |
      EXIT_INFO_INSTRUCTION_INFORMATION |
      EXIT_INFO_LINEAR_ADDRESS |
      EXIT_INFO_INTERRUPTION |
      EXIT_INFO_INTERRUPTION_ERROR_CODE;
    info.qualificationLo = 0x904;
    info.qualificationHi = 0x1;
    info.instructionLength = 4;
    info.instructionInformation = 0x1234_5678;
    info.linearLo = 0xdead_b000 | 0;
    info.linearHi = 0x7fff;
    info.interruptionInformation = (0x8000_0b0d | 0) >>> 0; // valid, error code, hardware exception, #GP
    info.interruptionErrorCode = 0x18;
    expect(m.vmExit(0, EXIT_REASON.EXCEPTION_OR_NMI)).toBe(STATUS_VMEXIT);
    expect(read(m, 'EXIT_REASON')).toBe(0n);
    expect(read(m, 'EXIT_QUALIFICATION')).toBe(0x1_0000_0904n);
    expect(read(m, 'VM_EXIT_INSTRUCTION_LENGTH')).toBe(4n);
    expect(read(m, 'VM_EXIT_INSTRUCTION_INFORMATION')).toBe(0x1234_5678n);
    expect(read(m, 'GUEST_LINEAR_ADDRESS')).toBe(0x7fff_dead_b000n);
    expect(read(m, 'VM_EXIT_INTERRUPTION_INFORMATION')).toBe(0x8000_0b0dn);
    expect(read(m, 'VM_EXIT_INTERRUPTION_ERROR_CODE')).toBe(0x18n);
    expect([m.exitQualificationLo, m.exitQualificationHi]).toEqual([0x904, 1]);
  });

  it('consumes the record: the next exit defines nothing it does not set itself', () => {
    const m = launched();
    m.exitInfo.defined = EXIT_INFO_QUALIFICATION | EXIT_INFO_INSTRUCTION_LENGTH;
    m.exitInfo.qualificationLo = 7;
    m.exitInfo.instructionLength = 2;
    m.vmExit(0, EXIT_REASON.CPUID);
    expect(m.exitInfo.defined).toBe(0);
    expect(m.vmresume(0)).toBe(-5);
    m.vmcall(0);
    expect(read(m, 'EXIT_QUALIFICATION')).toBe(0n);
    // The instruction length is undefined for this exit's record: impl/ leaves the field as it was.
    expect(read(m, 'VM_EXIT_INSTRUCTION_LENGTH')).toBe(2n);
  });

  it('ExitInfo.clear forgets every member', () => {
    const m = launched();
    m.exitInfo.defined = EXIT_INFO_QUALIFICATION;
    m.exitInfo.qualificationLo = 5;
    m.exitInfo.clear();
    expect({ ...m.exitInfo }).toEqual({
      defined: 0,
      qualificationLo: 0,
      qualificationHi: 0,
      instructionLength: 0,
      instructionInformation: 0,
      linearLo: 0,
      linearHi: 0,
      interruptionInformation: 0,
      interruptionErrorCode: 0,
    });
  });

  it('leaves the fields an exit does not define as they were (the SDM makes them undefined)', () => {
    const m = launched();
    m.exitInfo.defined = EXIT_INFO_INSTRUCTION_INFORMATION | EXIT_INFO_LINEAR_ADDRESS | EXIT_INFO_INTERRUPTION_ERROR_CODE;
    m.exitInfo.instructionInformation = -1;
    m.exitInfo.linearLo = -1;
    m.exitInfo.linearHi = 0;
    m.exitInfo.interruptionErrorCode = -1;
    m.vmExit(0, EXIT_REASON.HLT);
    expect(m.vmresume(0)).toBe(-5);
    m.vmcall(0);
    expect(read(m, 'VM_EXIT_INSTRUCTION_INFORMATION')).toBe(ALL_ONES_32);
    expect(read(m, 'GUEST_LINEAR_ADDRESS')).toBe(ALL_ONES_32);
    expect(read(m, 'VM_EXIT_INTERRUPTION_ERROR_CODE')).toBe(ALL_ONES_32);
    expect(read(m, 'VM_EXIT_INTERRUPTION_INFORMATION')).toBe(0n);
  });

  it('a VM-entry failure writes only the exit reason (bit 31 set) and qualification and keeps the injection valid bit (§27.8)', () => {
    const injection = (1n << 31n) | (3n << 8n) | 6n;
    // Guest RFLAGS bit 1 clear fails the guest-state checks (exit reason 33, qualification 0).
    const m = launched({ changes: { VM_ENTRY_INTERRUPTION_INFORMATION: injection } });
    m.vmcall(0);
    write(m, 'VM_ENTRY_INTERRUPTION_INFORMATION', injection);
    write(m, 'GUEST_RFLAGS', 0n);
    write(m, 'GUEST_RIP', 0x1234n);
    expect(m.vmresume(0)).toBe(-6);
    expect(read(m, 'EXIT_REASON')).toBe(0x8000_0021n);
    expect(read(m, 'EXIT_QUALIFICATION')).toBe(0n);
    expect(read(m, 'VM_ENTRY_INTERRUPTION_INFORMATION')).toBe(injection);
    // "The guest-state area is not modified."
    expect(read(m, 'GUEST_RIP')).toBe(0x1234n);
    expect(read(m, 'GUEST_RFLAGS')).toBe(0n);
  });
});
