/**
 * VMREAD and VMWRITE in VMX non-root operation: a VM exit, or an access to the shadow VMCS named by
 * the VMCS link pointer. SDM Vol. 3C, December 2023, §31.3 "VMREAD—Read Field from
 * Virtual-Machine Control Structure" and "VMWRITE—Write Field to Virtual-Machine Control
 * Structure" (Operation sections), §25.10 "VMCS Types: Ordinary and Shadow", §25.6.15
 * "VMCS Shadowing Bitmap Addresses":
 * 1. The instruction exits when "VMCS shadowing" is 0 (or the secondary controls are not
 *    activated), when the field encoding sets a bit in 63:15 (only bits 31:0 count outside
 *    64-bit mode, where the register has 32 bits), or when the VMREAD (VMWRITE) bitmap has a 1
 *    at the bit numbered by encoding bits 14:0 (bitmap in physical memory, bit n in byte n / 8).
 * 2. Otherwise #GP(0) at CPL > 0.
 * 3. VMfailInvalid when the VMCS link pointer is FFFFFFFF_FFFFFFFFH (not valid).
 * 4. VMfailValid(12) for an encoding the processor does not support; VMWRITE: VMfailValid(13)
 *    for a VM-exit information field unless IA32_VMX_MISC[29] ("VMWRITE to any field").
 *    VMfailValid writes the VM-instruction error field of the *current* VMCS (the ordinary
 *    VMCS controlling the guest): §31.2 "Conventions" defines VMfailValid as executed only
 *    with a current VMCS and setting its VM-instruction error field, and in VMX non-root
 *    operation the current VMCS is the ordinary one (the shadow VMCS is only referenced by its
 *    link pointer). Bochs writes the same field.
 * 5. Otherwise the field of the shadow VMCS is read or written, with VMREAD's and VMWRITE's
 *    operand-size rules, and the instruction completes (VMsucceed).
 *
 * VM entry has checked that a link pointer other than all ones names a shadow VMCS (§27.3.1.5
 * "Checks on Guest Non-Register State"); impl/ keeps every VMCS's data in its region
 * (impl/README.md), so the shadow VMCS is read and written in its region in memory, in the same
 * layout as any VMCS.
 */
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { VMCS_SHADOWING_BITMAP_INDEX_MASK } from '../../spec/exit-bitmaps.ts';
import { ARITHMETIC_FLAGS } from '../../spec/observations.ts';
import { S_CPL, S_CUR_BASE, S_FLAGS, S_WIDE } from '../cpu-row.ts';
import { READ_ONLY, readFieldInto, writeFieldFrom } from '../field-table.ts';
import { chunkNumber, type PhysicalMemory } from '../memory.ts';
import { STATUS_FAIL_INVALID, STATUS_GP, STATUS_SUCCEED } from '../status.ts';

/** Returned instead of a status when the instruction causes a VM exit (the caller performs it). */
export const SHADOW_EXIT = -100;

const ACTIVATE_SECONDARY = 1 << PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS;
const VMCS_SHADOWING = 1 << SECONDARY_CONTROL.VMCS_SHADOWING;
/** Encoding bits 31:15, which the bitmaps do not index (bits 63:32 are tested separately). */
const ENCODING_HIGH_BITS = ~Number(VMCS_SHADOWING_BITMAP_INDEX_MASK);

/** Word offsets (impl/'s VMCS layout) of the fields this file reads; -1 when the profile lacks one. */
export interface ShadowingWords {
  readonly PRIMARY_PROCESSOR_BASED_CONTROLS: number;
  readonly SECONDARY_PROCESSOR_BASED_CONTROLS: number;
  readonly VMREAD_BITMAP_ADDRESS: number;
  readonly VMWRITE_BITMAP_ADDRESS: number;
  readonly VMCS_LINK_POINTER: number;
}

/** VMREAD/VMWRITE of a guest, on a machine's state rows, memory and VMREAD result. */
export class VmcsShadowing {
  constructor(
    private readonly state: Int32Array,
    private readonly memory: PhysicalMemory,
    private readonly result: Int32Array,
    private readonly fieldEntry: Int16Array,
    private readonly regionChunks: number,
    private readonly errorWord: number,
    private readonly anyFieldWritable: boolean,
    private readonly words: ShadowingWords,
  ) {}

  /**
   * VMREAD by the guest on the processor row `b`: a status code (the value in the result
   * halves on success), or {@link SHADOW_EXIT}.
   */
  vmread(b: number, encodingLo: number, encodingHi: number): number {
    const shadow = this.target(b, encodingLo, encodingHi, this.words.VMREAD_BITMAP_ADDRESS);
    if (shadow < 0) return shadow;
    const s = this.state;
    const entry = this.fieldEntry[encodingLo] as number;
    if (entry < 0) return this.failValid(b, VM_ERROR.UNSUPPORTED_FIELD);
    const wide = s[b + S_WIDE] as number;
    readFieldInto(this.memory.words, shadow, entry, wide, this.result);
    s[b + S_FLAGS] = 0;
    return STATUS_SUCCEED;
  }

  /** VMWRITE by the guest on the processor row `b`: a status code, or {@link SHADOW_EXIT}. */
  vmwrite(b: number, encodingLo: number, encodingHi: number, valueLo: number, valueHi: number): number {
    const shadow = this.target(b, encodingLo, encodingHi, this.words.VMWRITE_BITMAP_ADDRESS);
    if (shadow < 0) return shadow;
    const s = this.state;
    const entry = this.fieldEntry[encodingLo] as number;
    if (entry < 0) return this.failValid(b, VM_ERROR.UNSUPPORTED_FIELD);
    if ((entry & READ_ONLY) !== 0 && !this.anyFieldWritable) return this.failValid(b, VM_ERROR.READ_ONLY_FIELD);
    const wide = s[b + S_WIDE] as number;
    writeFieldFrom(this.memory.words, shadow, entry, wide, valueLo, valueHi);
    s[b + S_FLAGS] = 0;
    return STATUS_SUCCEED;
  }

  /**
   * Steps 1-3 above: {@link SHADOW_EXIT}, STATUS_GP, STATUS_FAIL_INVALID (flags set), or the
   * offset of the shadow VMCS's region in the memory slab (its chunks placed side by side, so
   * `memory.words` must be read after this call).
   */
  private target(b: number, encodingLo: number, encodingHi: number, bitmapWord: number): number {
    const s = this.state;
    const w = this.words;
    const base = s[b + S_CUR_BASE] as number;
    const v = this.memory.words;
    const primary = w.PRIMARY_PROCESSOR_BASED_CONTROLS < 0 ? 0 : (v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number);
    const secondary = w.SECONDARY_PROCESSOR_BASED_CONTROLS < 0 ? 0 : (v[base + w.SECONDARY_PROCESSOR_BASED_CONTROLS] as number);
    if ((primary & ACTIVATE_SECONDARY) === 0 || (secondary & VMCS_SHADOWING) === 0 || bitmapWord < 0) return SHADOW_EXIT;
    // Outside 64-bit mode the encoding register has 32 bits: bits 63:32 of the operand do not exist.
    const high = (s[b + S_WIDE] === 1 ? encodingHi : 0) | (encodingLo & ENCODING_HIGH_BITS);
    if (high !== 0) return SHADOW_EXIT;
    // Bit n of the bitmap is bit n % 8 of byte n / 8 (spec/exit-bitmaps.ts), that is bit n % 32 of
    // the little-endian word at byte 4 * (n / 32). The bitmap is 4-KByte aligned (a VM-entry
    // check), so the offset never carries into bits 63:32.
    const bitmapLo = v[base + bitmapWord] as number;
    const bitmapHi = v[base + bitmapWord + 1] as number;
    const word = this.memory.read32((bitmapLo + ((encodingLo >>> 5) << 2)) | 0, bitmapHi);
    if (((word >>> (encodingLo & 31)) & 1) === 1) return SHADOW_EXIT;
    if (s[b + S_CPL] !== 0) return STATUS_GP;
    const linkLo = v[base + w.VMCS_LINK_POINTER] as number;
    const linkHi = v[base + w.VMCS_LINK_POINTER + 1] as number;
    if ((linkLo & linkHi) === -1) {
      s[b + S_FLAGS] = ARITHMETIC_FLAGS.CF;
      return STATUS_FAIL_INVALID;
    }
    return this.memory.region(chunkNumber(linkLo, linkHi), this.regionChunks);
  }

  /** VMfailValid(error) with the error in the current (ordinary) VMCS; see step 4. */
  private failValid(b: number, error: number): number {
    const s = this.state;
    this.memory.words[(s[b + S_CUR_BASE] as number) + this.errorWord] = error;
    s[b + S_FLAGS] = ARITHMETIC_FLAGS.ZF;
    return error;
  }
}
