/**
 * VM function 0, EPTP switching, executed by VMFUNC in VMX non-root operation. SDM Vol. 3C,
 * December 2023, §26.5.6.3 "EPTP Switching" (the function's pseudocode), §25.6.14 "VM-Function
 * Controls" (the EPTP list: a 4-KByte page of 512 8-byte entries at the EPTP-list address):
 * 1. ECX >= 512 (ECX unsigned, 32 bits): VM exit.
 * 2. The 8-byte entry ECX of the EPTP list is the tentative EPTP; a value that would make VM entry
 *    fail if it were in the EPTP field (§27.2.1.1 "VM-Execution Control Fields", the same checks
 *    impl/vm-entry/execution-controls.ts makes): VM exit.
 * 3. Otherwise it is written to the EPTP field of the current VMCS and, where the processor
 *    supports the 1-setting of "EPT-violation #VE" (it then has the EPTP-index field), ECX[15:0]
 *    to the EPTP-index field. The instruction completes; the flags are unchanged.
 * No translations are cached here, so the new EPTP has no other effect.
 */
import type { PhysicalMemory } from '../memory.ts';
import { eptPointerOk } from '../vm-entry/execution-controls.ts';
import type { EntryFacts } from '../vm-entry/facts.ts';

/** Entries in the EPTP list. */
const EPTP_LIST_ENTRIES = 512;

/**
 * Performs EPTP switching to list entry `ecx` for the current VMCS at `base`; `eptpIndexWord` is
 * the word offset of the EPTP-index field, -1 when the processor lacks it. Returns false when the
 * function fails, which causes a VM exit (the caller performs it).
 */
export function switchEptp(f: EntryFacts, memory: PhysicalMemory, base: number, ecx: number, eptpIndexWord: number): boolean {
  if (ecx >>> 0 >= EPTP_LIST_ENTRIES) return false;
  const w = f.words;
  const v = memory.words;
  const listLo = v[base + w.EPTP_LIST_ADDRESS] as number;
  const listHi = v[base + w.EPTP_LIST_ADDRESS + 1] as number;
  // The list is 4-KByte aligned (a VM-entry check) and ECX < 512, so the offset never carries.
  const entryLo = (listLo + ecx * 8) | 0;
  const eptpLo = memory.read32(entryLo, listHi);
  const eptpHi = memory.read32(entryLo + 4, listHi);
  if (!eptPointerOk(f, eptpLo, eptpHi)) return false;
  const words = memory.words;
  words[base + w.EPT_POINTER] = eptpLo;
  words[base + w.EPT_POINTER + 1] = eptpHi;
  if (eptpIndexWord >= 0) words[base + eptpIndexWord] = ecx & 0xffff;
  return true;
}
