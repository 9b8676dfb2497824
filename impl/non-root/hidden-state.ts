/**
 * Processor state with no room in the processor row (impl/cpu-row.ts):
 * - the descriptor-table registers of a logical processor outside VMX non-root operation: GDTR
 *   and IDTR (base and limit), and the LDTR and TR selectors. In VMX non-root operation the
 *   guest's live in the guest-state fields of the current VMCS, where VM entry found them and a VM
 *   exit leaves them (impl/non-root/descriptor-tables.ts reads and writes them there);
 * - IA32_XSS (Vol. 4 Table 2-2, DA0H; 0 after reset), which WRMSR writes and XSAVES/XRSTORS read
 *   (impl/non-root/xsaves.ts, msr.ts).
 *
 * Values (SDM Vol. 3A, December 2023, §10.1.1 "Processor State After Reset", Table 10-1: GDTR and
 * IDTR base 0, limit FFFFH; LDTR and TR selector 0), changed by LGDT, LIDT and LLDT (a null
 * selector) outside a guest and by every host-state load (Vol. 3C §28.5.2 "Loading Host Segment and
 * Descriptor-Table Registers": GDTR and IDTR bases from the host-state fields, limits FFFFH; TR
 * selector from the host TR-selector field; LDTR selector 0000H, unusable).
 *
 * Trick: the processor row has no room for these words, so they live in a hidden memory chunk
 * (impl/memory.ts: a chunk no physical address reaches), sixteen words per processor, 16
 * processors a chunk. Snapshots capture them with memory; a processor that never wrote them has
 * no words yet and reads the reset values.
 */
import { STRIDE } from '../cpu-row.ts';
import type { PhysicalMemory } from '../memory.ts';
import type { NonRootWords } from './words.ts';

/** Word offsets in a processor's eight words. */
const WRITTEN = 0;
export const GDTR_LIMIT = 1;
export const GDTR_BASE_LO = 2;
export const GDTR_BASE_HI = 3;
export const IDTR_LIMIT = 4;
export const IDTR_BASE_LO = 5;
export const IDTR_BASE_HI = 6;
/** LDTR selector in bits 15:0, TR selector in bits 31:16. */
export const SELECTORS = 7;
/** IA32_XSS bits 31:0 and 63:32. */
export const XSS_LO = 8;
export const XSS_HI = 9;

const WORDS_PER_PROCESSOR = 16;
const PROCESSORS_PER_CHUNK = 16;
/** Limit of GDTR and IDTR after reset and after every host-state load. */
export const LIMIT_AFTER_RESET_AND_EXIT = 0xffff;

/** Where processor `cpu`'s words are in `memory.words`, or -1 while they hold the reset values. */
function peek(memory: PhysicalMemory, cpu: number): number {
  const chunk = memory.hiddenOffset((cpu / PROCESSORS_PER_CHUNK) | 0);
  if (chunk < 0) return -1;
  const at = chunk + ((cpu | 0) % PROCESSORS_PER_CHUNK) * WORDS_PER_PROCESSOR;
  return memory.words[at + WRITTEN] === 0 ? -1 : at;
}

/** Where processor `cpu`'s words are, created with the reset values if needed (`memory.words` may be replaced). */
function slot(memory: PhysicalMemory, cpu: number): number {
  const found = peek(memory, cpu);
  if (found >= 0) return found;
  const at = memory.hiddenChunk((cpu / PROCESSORS_PER_CHUNK) | 0) + ((cpu | 0) % PROCESSORS_PER_CHUNK) * WORDS_PER_PROCESSOR;
  const v = memory.words;
  v[at + WRITTEN] = 1;
  v[at + GDTR_LIMIT] = LIMIT_AFTER_RESET_AND_EXIT;
  v[at + GDTR_BASE_LO] = 0;
  v[at + GDTR_BASE_HI] = 0;
  v[at + IDTR_LIMIT] = LIMIT_AFTER_RESET_AND_EXIT;
  v[at + IDTR_BASE_LO] = 0;
  v[at + IDTR_BASE_HI] = 0;
  v[at + SELECTORS] = 0;
  v[at + XSS_LO] = 0;
  v[at + XSS_HI] = 0;
  return at;
}

/** One word (`which`: GDTR_LIMIT ... XSS_HI) of the processor at row `b`. */
export function readHiddenWord(memory: PhysicalMemory, b: number, which: number): number {
  const at = peek(memory, (b / STRIDE) | 0);
  if (at >= 0) return memory.words[at + which] as number;
  return which === GDTR_LIMIT || which === IDTR_LIMIT ? LIMIT_AFTER_RESET_AND_EXIT : 0;
}

/** Writes one word (`which`: GDTR_LIMIT ... XSS_HI) of the processor at row `b`. */
export function writeHiddenWord(memory: PhysicalMemory, b: number, which: number, value: number): void {
  const at = slot(memory, (b / STRIDE) | 0);
  memory.words[at + which] = value;
}

/**
 * Host-state loading (§28.5.2) of the descriptor-table registers of the processor at row `b` from
 * the VMCS whose region starts at word `base`.
 */
export function loadHostDescriptorTables(memory: PhysicalMemory, words: NonRootWords, b: number, base: number): void {
  // (b / STRIDE) | 0: the processor index typed as an int32 (a JavaScript division alone is a
  // floating-point one), so that the chunk arithmetic below can stay int32 arithmetic.
  const at = slot(memory, (b / STRIDE) | 0);
  const v = memory.words;
  v[at + GDTR_LIMIT] = LIMIT_AFTER_RESET_AND_EXIT;
  v[at + GDTR_BASE_LO] = field(v, base, words.HOST_GDTR_BASE, 0);
  v[at + GDTR_BASE_HI] = field(v, base, words.HOST_GDTR_BASE, 1);
  v[at + IDTR_LIMIT] = LIMIT_AFTER_RESET_AND_EXIT;
  v[at + IDTR_BASE_LO] = field(v, base, words.HOST_IDTR_BASE, 0);
  v[at + IDTR_BASE_HI] = field(v, base, words.HOST_IDTR_BASE, 1);
  v[at + SELECTORS] = (field(v, base, words.HOST_TR_SELECTOR, 0) & 0xffff) << 16;
}

/** Word `high` (0 or 1) of a VMCS field at word offset `word` (-1: the profile lacks it, reads 0). */
function field(v: Int32Array, base: number, word: number, high: number): number {
  return word < 0 ? 0 : (v[base + word + high] as number);
}
