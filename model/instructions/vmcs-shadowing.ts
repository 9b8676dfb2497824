/**
 * VMCS shadowing: whether VMREAD or VMWRITE in VMX non-root operation exits or accesses the VMCS
 * the VMCS link pointer references. SDM Vol. 3C (December 2023), the Operation sections of VMREAD
 * and VMWRITE in §31.3, §25.6.15 "VMCS Shadowing Bitmap Addresses" and §26.1.3 "Instructions That
 * Cause VM Exits Conditionally":
 *
 * - "VMCS shadowing" (secondary control 14) = 0: VM exit.
 * - The field encoding (the whole register in 64-bit mode, bits 31:0 elsewhere) sets any of bits
 *   63:15: VM exit.
 * - Otherwise bits 14:0 of the encoding select a bit of the 4-KByte VMREAD or VMWRITE bitmap, at
 *   the physical address in the VMCS: byte (encoding >> 3), bit (encoding & 7). A 1 is a VM exit.
 * - A 0 lets the instruction go on (CPL check, then the link pointer, then the field).
 */
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { vmcsShadowingBitmapPosition } from '../../spec/exit-bitmaps.ts';
import { readByte } from '../memory.ts';
import { bitOf, controlField, secondaryControlsInEffect } from '../non-root.ts';
import type { ModelState } from '../state.ts';

/** What VMCS shadowing decides for one VMREAD or VMWRITE in VMX non-root operation. */
export type ShadowingDecision = 'exit-shadowing-off' | 'exit-encoding-above-bit-14' | 'exit-bitmap' | 'controls-unknown' | 'access-shadow';

/**
 * The decision for field encoding `encoding` (already cut to the operand size) on processor `cpu`,
 * with `bitmapField` the encoding of the VMREAD-bitmap or VMWRITE-bitmap address.
 */
export function shadowingDecision(state: ModelState, cpu: number, encoding: bigint, bitmapField: number): ShadowingDecision {
  const secondary = secondaryControlsInEffect(state, cpu);
  if (secondary === undefined) return 'controls-unknown';
  if (!bitOf(secondary, SECONDARY_CONTROL.VMCS_SHADOWING)) return 'exit-shadowing-off';
  const position = vmcsShadowingBitmapPosition(encoding);
  if (position === undefined) return 'exit-encoding-above-bit-14';
  const bitmap = controlField(state, cpu, bitmapField);
  if (bitmap === undefined) return 'controls-unknown';
  const byte = readByte(state, bitmap + BigInt(position.byteOffset));
  return ((byte >> position.bit) & 1) === 1 ? 'exit-bitmap' : 'access-shadow';
}
