/**
 * impl/machine.ts and the layers in impl/machine/ keep their own copies of the row offsets of impl/cpu-row.ts (a speed trick);
 * mov-cr.ts uses cpu-row.ts. Each state the machine sets must land where cpu-row.ts says.
 */
import { describe, expect, it } from 'vitest';
import {
  S_CPL,
  S_CR0_HI,
  S_CR0_LO,
  S_CR3_HI,
  S_CR3_LO,
  S_CR4_HI,
  S_CR4_LO,
  S_CSL,
  S_IN_VMX,
  S_LMA,
  S_LME,
  S_VM,
  S_WIDE,
  STRIDE,
} from '../../impl/cpu-row.ts';
import { ImplMachine, SET_CPL, SET_CR3, SET_CS_L, SET_EFER_LMA, SET_EFER_LME, SET_RFLAGS_VM } from '../../impl/index.ts';
import { createProfile } from '../../spec/profile.ts';
import { SKYLAKE, VMXON_0 } from './fixtures.ts';

describe('the processor row layout (impl/cpu-row.ts) and impl/machine.ts with impl/machine/ agree', () => {
  it('on every word MOV to CR0/CR4 reads or writes, for the second processor too', () => {
    const profile = createProfile(SKYLAKE);
    const m = new ImplMachine(profile, 2);
    const b = STRIDE;
    m.setState(1, SET_CR3, 0xabc0_0000);
    m.setState(1, SET_EFER_LME, 0);
    m.setState(1, SET_RFLAGS_VM, 1);
    m.setState(1, SET_CPL, 2);
    let row = m.snapshot().state;
    expect([row[b + S_CR3_LO]! >>> 0, row[b + S_CR3_HI], row[b + S_LME], row[b + S_VM], row[b + S_CPL]]).toEqual([0xabc0_0000, 0, 0, 1, 2]);
    expect([row[b + S_LMA], row[b + S_CSL], row[b + S_WIDE], row[b + S_IN_VMX]]).toEqual([1, 1, 1, 0]);
    m.setState(1, SET_RFLAGS_VM, 0);
    m.setState(1, SET_CPL, 0);
    m.setState(1, SET_EFER_LME, 1);
    m.movCr4(1, 0x2060, 0);
    m.movCr0(1, 0xc000_0031, 0);
    m.writeMemory(1, VMXON_0, 0, profile.revisionId);
    m.vmxon(1, VMXON_0, 0);
    m.setState(1, SET_CS_L, 0);
    m.setState(1, SET_EFER_LMA, 0);
    row = m.snapshot().state;
    expect([row[b + S_CR4_LO], row[b + S_CR4_HI], row[b + S_CR0_LO]! >>> 0, row[b + S_CR0_HI]]).toEqual([0x2060, 0, 0xc000_0031, 0]);
    expect([row[b + S_IN_VMX], row[b + S_CSL], row[b + S_LMA], row[b + S_WIDE]]).toEqual([1, 0, 0, 0]);
  });
});
