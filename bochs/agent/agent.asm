; The agent proper: 32-bit entry from the boot sector, long-mode set-up, then (64-bit) the
; capability-MSR report and the case interpreter. Runs at AGENT_BASE (image offset 0x200).
        section agent start=0x200 vstart=AGENT_BASE
        bits 32
agent_entry:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, AGENT_STACK
        mov edi, PML4                   ; zero the paging structures
        mov ecx, (PD_ALIAS + 0x1000 - PML4) / 4
        xor eax, eax
        rep stosd
        mov dword [PML4], PDPT | 7
        mov dword [PML4 + 8], PDPT_ALIAS | 7
        mov dword [PDPT], PD0 | 7
        mov dword [PDPT_ALIAS], PD_ALIAS | 7
        mov dword [PD_ALIAS], USER_PAGE | 0x83          ; supervisor alias of the user page
        mov edi, PD0                    ; identity map of 1 GB in 2 MB pages, supervisor
        mov eax, 0x83
        mov ecx, 512
.pde:   mov [edi], eax
        add eax, 0x200000
        add edi, 8
        loop .pde
        or dword [PD0 + (USER_PAGE >> 21) * 8], 4        ; the user page
        mov eax, 0x20                   ; CR4.PAE
        mov cr4, eax
        mov eax, PML4
        mov cr3, eax
        mov ecx, 0xc0000080             ; IA32_EFER.LME
        rdmsr
        or eax, 0x100
        wrmsr
        lgdt [gdt64.ptr]
        mov eax, 0x80000031             ; PG NE ET PE, caches on (the BIOS left CD/NW set)
        mov cr0, eax
        jmp 0x08:long_entry

        bits 64
long_entry:
        mov ax, 0x10
        mov ss, ax
        mov ax, 0x5b                    ; ring-3 data: usable at every CPL, in both modes
        mov ds, ax
        mov es, ax
        xor eax, eax
        mov fs, ax
        mov gs, ax
        mov rsp, AGENT_STACK
        call setup_tss
        call setup_idt
        call copy_stubs
        mov rsi, msg_hello
        call puts
        cmp dword [BYTECODE_BASE + 8], 0        ; booted again after a reset: reported already
        jne .resumed
        call report_capabilities
.resumed:
        call run_batch
        mov rsi, msg_end
        call puts
shutdown:
        mov dx, 0x8900
        mov rsi, msg_shutdown
.sd:    lodsb
        test al, al
        jz .halt
        out dx, al
        jmp .sd
.halt:  cli
        hlt
        jmp .halt

%include "tables.asm"
%include "exec.asm"
%include "interp.asm"
%include "print.asm"
%include "stubs.asm"

msg_hello:    db 10, '<<VMXB-AGENT 1>>', 10, 0
msg_end:      db '<<VMXB-END>>', 10, 0
msg_shutdown: db 'Shutdown', 0
