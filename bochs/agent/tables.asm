; GDT (code and data segments for CPL 0-3, 64-bit and 32-bit code), TSS with IST1, IDT.
        align 16
gdt64:  dq 0
        dq 0x00af9a000000ffff           ; 0x08 code64 DPL0
        dq 0x00cf92000000ffff           ; 0x10 data   DPL0
        dq 0x00cf9a000000ffff           ; 0x18 code32 DPL0
        dq 0x00afba000000ffff           ; 0x20 code64 DPL1
        dq 0x00cfb2000000ffff           ; 0x28 data   DPL1
        dq 0x00cfba000000ffff           ; 0x30 code32 DPL1
        dq 0x00afda000000ffff           ; 0x38 code64 DPL2
        dq 0x00cfd2000000ffff           ; 0x40 data   DPL2
        dq 0x00cfda000000ffff           ; 0x48 code32 DPL2
        dq 0x00affa000000ffff           ; 0x50 code64 DPL3
        dq 0x00cff2000000ffff           ; 0x58 data   DPL3
        dq 0x00cffa000000ffff           ; 0x60 code32 DPL3
gdt64_tss:
        dq 0, 0                         ; 0x68 TSS (filled by setup_tss)
.ptr:   dw $ - gdt64 - 1
        dq gdt64
gdt64.ptr equ gdt64_tss.ptr

        align 16
tss:    times 104 db 0
idt:    times 0x82 * 16 db 0
idt_ptr:
        dw 0x82 * 16 - 1
        dq idt

setup_tss:
        mov rax, AGENT_STACK
        mov [tss + 4], rax              ; RSP0
        mov rax, IST_STACK
        mov [tss + 0x24], rax           ; IST1
        mov word [tss + 0x66], 104      ; no I/O bitmap
        mov rax, tss
        mov word [gdt64_tss], 103       ; limit
        mov [gdt64_tss + 2], ax         ; base 15:0
        shr rax, 16
        mov [gdt64_tss + 4], al         ; base 23:16
        mov byte [gdt64_tss + 5], 0x89  ; present, 64-bit TSS (available)
        mov [gdt64_tss + 7], ah         ; base 31:24
        shr rax, 16
        mov [gdt64_tss + 8], eax        ; base 63:32
        mov ax, 0x68
        ltr ax
        ret

; gate rdi = vector, rsi = handler, dl = type/attributes
set_gate:
        shl rdi, 4
        add rdi, idt
        mov [rdi], si
        mov word [rdi + 2], 0x08
        mov byte [rdi + 4], 1           ; IST1
        mov [rdi + 5], dl
        mov rax, rsi
        shr rax, 16
        mov [rdi + 6], ax
        shr rax, 16
        mov [rdi + 8], eax
        ret

setup_idt:
        xor ebx, ebx
.next:  mov rdi, rbx
        mov rsi, [exception_entries + rbx * 8]
        mov dl, 0x8e
        call set_gate
        inc ebx
        cmp ebx, 32
        jb .next
        mov edi, 0x81                   ; the stubs' way back, callable from CPL 3
        mov rsi, stub_return
        mov dl, 0xee
        call set_gate
        lidt [idt_ptr]
        ret

%macro EXCEPTION 1
exception_%1:
  %if (%1 = 8) || (%1 >= 10 && %1 <= 14) || (%1 = 17) || (%1 = 21) || (%1 = 29) || (%1 = 30)
        push %1
  %else
        push 0
        push %1
  %endif
        jmp exception_common
%endmacro
%assign v 0
%rep 32
EXCEPTION v
%assign v v + 1
%endrep
exception_entries:
%assign v 0
%rep 32
        dq exception_ %+ v
%assign v v + 1
%endrep
