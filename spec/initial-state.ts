/**
 * The state every logical processor of a fresh engine starts in, so that every engine starts
 * from the same point: 64-bit mode at CPL 0 with paging on (IA32_EFER.LME = LMA = 1, CR3 = 0)
 * and CR4.VMXE already set (as a VMM does before VMXON), outside VMX operation, and a zeroed physical memory. IA32_FEATURE_CONTROL
 * starts as the profile's `featureControl`. Cases reach the other states with `mov-cr0`,
 * `mov-cr4`, `set` and `write-feature-control` operations.
 */

/** Initial processor state of every logical processor (besides IA32_FEATURE_CONTROL). */
export const initialProcessorState = {
  /** CR0: PG (31), NE (5), ET (4), PE (0). */
  cr0: 0x8000_0031n,
  /** CR4: PAE (5) and VMXE (13). */
  cr4: 0x2020n,
  /** CR3: 0 (no paging structures laid out; bits 11:0 clear, as CR4.PCIDE = 1 would require). */
  cr3: 0n,
  /** IA32_EFER.LME: IA-32e mode enabled (64-bit mode needs it). */
  eferLme: 1,
  /** IA32_EFER.LMA. */
  eferLma: 1,
  /** CS.L: with LMA = 1, 64-bit mode. */
  csL: 1,
  cpl: 0,
  rflagsVm: 0,
  movSsBlocking: 0,
  /** Arithmetic flags of RFLAGS. */
  flags: 0,
} as const;
