/**
 * Opcodes of the guest operations (case format 4, spec/guest-operations.ts; case format 5,
 * spec/system-instruction-operations.ts) in compiled records (impl/program.ts), after the VMX
 * instructions and processor-state operations (1..18).
 */
export const OP_CPUID = 19;
export const OP_HLT = 20;
export const OP_INVD = 21;
export const OP_WBINVD = 22;
export const OP_INVLPG = 23;
export const OP_RDTSC = 24;
export const OP_RDTSCP = 25;
export const OP_RDPMC = 26;
export const OP_PAUSE = 27;
export const OP_MOV_FROM_CR = 28;
export const OP_MOV_CR3 = 29;
export const OP_MOV_CR8 = 30;
export const OP_CLTS = 31;
export const OP_LMSW = 32;
export const OP_MOV_DR = 33;
export const OP_RDMSR = 34;
export const OP_WRMSR = 35;
export const OP_IO = 36;
export const OP_XSETBV = 37;
export const OP_MONITOR = 38;
export const OP_MWAIT = 39;
export const OP_EXCEPTION = 40;
// Case format 5 (impl/system-program.ts encodes and executes them).
export const OP_RDRAND = 41;
export const OP_RDSEED = 42;
export const OP_INVPCID = 43;
export const OP_DESCRIPTOR_TABLE = 44;
export const OP_GETSEC = 45;
export const OP_XSAVES = 46;
export const OP_XRSTORS = 47;
/** Flag in word 0 (bits 15:8 are flags): a register operand (LMSW's register form). */
export const GUEST_REGISTER_FORM = 0x100;
/** Flag in word 0 of a MOV DR record: MOV from the debug register. */
export const FROM_FLAG = 0x200;
/** Flag in word 0 of a WBINVD record: the WBNOINVD variant (F3 0F 09). */
export const WBNOINVD_FLAG = 0x100;
