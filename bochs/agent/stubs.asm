; The instruction stubs, copied to SUP_STUBS (CPL 0-2) and USER_PAGE (CPL 3). Each is
; "MOV SS, SI; <instruction>; INT 81h" and is entered at its MOV SS (MOV-SS blocking wanted) or
; two bytes later. The bytes mean the same in 64-bit and in compatibility mode (no REX prefix):
; memory operand [RBX] / [EBX]; VMREAD/VMWRITE encoding in RCX, value in RDX; INVEPT/INVVPID
; type in RCX; ModRM.mod = 11b register forms for the #UD cases.
;
; Operand mask (what the bytecode supplies, in this order): 1 scratch qword 0, 2 scratch qword 1,
; 4 RAX, 8 RCX, 16 RDX. Class: 0 VMX instruction (flags give VMsucceed/VMfail), 1 VMX with the
; value in RDX, 2 VMX with the value in scratch qword 0, 3 ordinary instruction (ok).
%assign stubn 0
%macro STUB 3+                          ; mask, class, instruction bytes
stub_%[stubn]:
        db 0x8e, 0xd6                   ; mov ss, si
        db %3
        db 0xcd, 0x81                   ; int 0x81
%assign stubmask_%[stubn] %1
%assign stubclass_%[stubn] %2
%assign stubn stubn + 1
%endmacro

stubs_start:
        STUB 1,  0, 0xf3, 0x0f, 0xc7, 0x33        ; 0  vmxon [rbx]
        STUB 0,  0, 0xf3, 0x0f, 0xc7, 0xf0        ; 1  vmxon rax (register form)
        STUB 1,  0, 0x66, 0x0f, 0xc7, 0x33        ; 2  vmclear [rbx]
        STUB 0,  0, 0x66, 0x0f, 0xc7, 0xf0        ; 3  vmclear rax
        STUB 1,  0, 0x0f, 0xc7, 0x33              ; 4  vmptrld [rbx]
        STUB 0,  0, 0x0f, 0xc7, 0xf0              ; 5  vmptrld rax
        STUB 0,  2, 0x0f, 0xc7, 0x3b              ; 6  vmptrst [rbx]
        STUB 0,  0, 0x0f, 0xc7, 0xf8              ; 7  vmptrst rax
        STUB 8,  2, 0x0f, 0x78, 0x0b              ; 8  vmread [rbx], rcx
        STUB 8,  1, 0x0f, 0x78, 0xca              ; 9  vmread rdx, rcx
        STUB 9,  0, 0x0f, 0x79, 0x0b              ; 10 vmwrite rcx, [rbx]
        STUB 24, 0, 0x0f, 0x79, 0xca              ; 11 vmwrite rcx, rdx
        STUB 0,  0, 0x0f, 0x01, 0xc2              ; 12 vmlaunch
        STUB 0,  0, 0x0f, 0x01, 0xc3              ; 13 vmresume
        STUB 0,  0, 0x0f, 0x01, 0xc4              ; 14 vmxoff
        STUB 0,  0, 0x0f, 0x01, 0xc1              ; 15 vmcall
        STUB 12, 0, 0x0f, 0x01, 0xd4              ; 16 vmfunc
        STUB 11, 0, 0x66, 0x0f, 0x38, 0x80, 0x0b  ; 17 invept rcx, [rbx]
        STUB 8,  0, 0x66, 0x0f, 0x38, 0x80, 0xca  ; 18 invept rcx, rdx (register form)
        STUB 11, 0, 0x66, 0x0f, 0x38, 0x81, 0x0b  ; 19 invvpid rcx, [rbx]
        STUB 8,  0, 0x66, 0x0f, 0x38, 0x81, 0xca  ; 20 invvpid rcx, rdx (register form)
        STUB 4,  3, 0x0f, 0x22, 0xc0              ; 21 mov cr0, rax
        STUB 4,  3, 0x0f, 0x22, 0xe0              ; 22 mov cr4, rax
        STUB 28, 3, 0x0f, 0x30                    ; 23 wrmsr
        STUB 8,  3, 0x0f, 0x32                    ; 24 rdmsr (the agent's own)
        STUB 12, 3, 0x0f, 0xa2                    ; 25 cpuid (the agent's own)
stubs_end:

        align 8
stub_table:                             ; opcode 0x10 + index: stub offset, mask, class
%assign i 0
%rep stubn
        dw stub_%[i] - stubs_start
        db stubmask_%[i], stubclass_%[i], 0, 0, 0, 0
%assign i i + 1
%endrep
STUB_COUNT equ stubn
STUB_VMREAD_REG equ 9
STUB_VMXOFF     equ 14
STUB_RDMSR      equ 24
STUB_CPUID      equ 25

