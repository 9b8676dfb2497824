; The capability report and the case interpreter. The bytecode (cli/bochs/bytecode.ts) starts
; at BYTECODE_BASE with the magic "VMXB", a version dword (2) and a resume dword (0 from the
; host; the agent writes there the offset of each case it begins); then records, one opcode byte each:
;   00 end of batch
;   01 case begin (u32 id, u32 offset of the record after its case end, u32 sum of the bytes after this record up to there)
;   02 case end           03 zero page (u32 address)
;   04 write memory (u32 address, u32 value)       05 set CPL (u8)      06 set CS.L (u8)
;   07 set MOV-SS blocking (u8)                    08 ok (nothing to do) 09 unimplemented
;   10+n instruction stub n (stubs.asm), its operands as the stub's mask says (u64 each)
; Results, per case one line on port E9: "@<id>;" then per step one record:
;   O<f> ok   S<f> VMsucceed   V<f><value>; VMsucceed with a value   I<f> VMfailInvalid
;   F<f><error>; VMfailValid   X<f><vector>;<error code>; exception   U unimplemented
; where <f> is one character, '0' + the six arithmetic flags (CF PF AF ZF SF OF as bits 0-5).
; A case that loses the agent (Bochs accepts a VM entry and the host state it loads triple
; faults) resets the processor (bochsrc reset_on_triple_fault=1): the BIOS boots the agent again,
; the bytecode stays in memory, and a resume dword that is not 0 names the case the reset
; interrupted. The agent prints "<<VMXB-LOST <id>>>" for it and goes on with the next case. The
; lost case may have stored anywhere (its guest and host ran on garbage), and in long no-guests
; batches a case's bytes were once found changed even without a reset (cause not found), so each
; case's bytes are checked against their sum before it runs: "<<VMXB-DAMAGED <id>>>" ends the
; batch before a damaged case (the host runs it and the rest in a new boot).

copy_stubs:
        mov rsi, stubs_start
        mov rdi, SUP_STUBS
        mov ecx, stubs_end - stubs_start
        rep movsb
        mov rsi, stubs_start
        mov rdi, USER_PAGE
        mov ecx, stubs_end - stubs_start
        rep movsb
        ret

; exec stub edi at ring 0, 64-bit, without MOV SS; the operands as already set
exec_agent:
        xor r13d, r13d
        mov r14d, 1
        xor r15d, r15d
exec_index:
        movzx r12d, word [stub_table + rdi * 8]
        jmp exec

clear_operands:
        xor eax, eax
        mov [reg_rax], rax
        mov [reg_rcx], rax
        mov [reg_rdx], rax
        ret

report_capabilities:
        mov ebx, 0x3a
        call report_msr
        mov ebx, 0x480
.msr:   call report_msr
        inc ebx
        cmp ebx, 0x494
        jb .msr
        mov ebx, 0x80000008
        call report_cpuid
        mov ebx, 1
        call report_cpuid
        ret

report_msr:                             ; ebx = MSR
        push rbx
        mov rsi, msg_msr
        call puts
        mov eax, ebx
        call put_hex
        mov al, ' '
        call putc
        call clear_operands
        mov [reg_rcx], rbx
        mov edi, STUB_RDMSR
        call exec_agent
        cmp byte [res_fault], 0
        jne .fault
        mov rax, [res_rdx]
        shl rax, 32
        mov edx, [res_rax]
        or rax, rdx
        call put_hex
        jmp .done
.fault: mov al, '#'
        call putc
        mov rax, [res_vector]
        call put_hex
.done:  mov rsi, msg_close
        call puts
        pop rbx
        ret

report_cpuid:                           ; ebx = leaf: prints EAX, ECX
        push rbx
        mov rsi, msg_cpuid
        call puts
        mov eax, ebx
        call put_hex
        mov al, ' '
        call putc
        call clear_operands
        mov [reg_rax], rbx
        mov edi, STUB_CPUID
        call exec_agent
        mov eax, [res_rax]
        call put_hex
        mov al, ' '
        call putc
        mov rax, [res_rcx]
        mov eax, eax
        call put_hex
        mov rsi, msg_close
        call puts
        pop rbx
        ret

run_batch:
        mov rbp, BYTECODE_BASE
        cmp dword [rbp], 'VMXB'
        jne bad_bytecode
        mov ebx, [rbp + 8]              ; the case a reset interrupted, if any
        add rbp, 12
        test ebx, ebx
        jz .next
        mov rsi, msg_lost
        call puts
        mov eax, [BYTECODE_BASE + rbx + 1]
        call put_hex
        mov rsi, msg_close
        call puts
        mov ebp, [BYTECODE_BASE + rbx + 5]      ; the record after that case
        add rbp, BYTECODE_BASE
.next:  movzx eax, byte [rbp]
        inc rbp
        cmp al, 0x10
        jae op_insn
        cmp al, 0x09
        ja bad_bytecode
        jmp [op_table + rax * 8]

op_table:
        dq op_end_batch, op_case_begin, op_case_end, op_zero_page, op_write_memory
        dq op_set_cpl, op_set_csl, op_set_movss, op_ok, op_unimplemented

op_end_batch:
        ret

op_case_begin:
        mov ecx, [rbp + 4]              ; the case's bytes must add up to its sum
        add rcx, BYTECODE_BASE
        lea rsi, [rbp + 12]
        xor edx, edx
        xor eax, eax
.sum:   cmp rsi, rcx
        jae .summed
        lodsb
        add edx, eax
        jmp .sum
.summed:
        cmp edx, [rbp + 8]
        je .sound
        mov rsi, msg_damaged
        call puts
        mov eax, [rbp]
        call put_hex
        mov rsi, msg_close
        call puts
        ret                             ; out of run_batch: the batch ends here
.sound: lea rax, [rbp - 1 - BYTECODE_BASE]
        mov [BYTECODE_BASE + 8], eax    ; resume here after a reset: this case lost the agent
        mov edi, STUB_VMXOFF            ; leave VMX operation, whatever the case did
        call clear_operands
        call exec_agent
        mov eax, 0x2020                 ; the initial state of spec/initial-state.ts
        mov cr4, rax
        mov eax, 0x80000031
        mov cr0, rax
        mov qword [case_flags], 2
        mov byte [cpl], 0
        mov byte [csl], 1
        mov byte [movss], 0
        mov al, '@'
        call putc
        mov eax, [rbp]
        add rbp, 12
        call put_hex_term
        jmp run_batch.next

op_case_end:
        mov al, 10
        call putc
        jmp run_batch.next

op_zero_page:
        mov edi, [rbp]
        add rbp, 4
        xor eax, eax
        mov ecx, 512
        rep stosq
        jmp run_batch.next

op_write_memory:
        mov edi, [rbp]
        mov eax, [rbp + 4]
        add rbp, 8
        mov [rdi], eax
        jmp record_ok

op_set_cpl:
        mov al, [rbp]
        inc rbp
        mov [cpl], al
        jmp record_ok

op_set_csl:
        mov al, [rbp]
        inc rbp
        mov [csl], al
        jmp record_ok

op_set_movss:
        mov al, [rbp]
        inc rbp
        mov [movss], al
        jmp record_ok

op_ok:
record_ok:
        mov al, 'O'
        call putc
        mov rax, [case_flags]
        call put_flags
        jmp run_batch.next

op_unimplemented:
        mov al, 'U'
        call putc
        jmp run_batch.next

op_insn:
        sub eax, 0x10
        cmp eax, STUB_COUNT
        jae bad_bytecode
        mov edi, eax
        movzx ebx, byte [stub_table + rdi * 8 + 2]     ; operand mask
        movzx ecx, byte [stub_table + rdi * 8 + 3]     ; class
        mov [cur_class], cl
        call clear_operands
        xor eax, eax
        mov [scratch], rax
        mov [scratch + 8], rax
        test bl, 1
        jz .m1
        mov rax, [rbp]
        add rbp, 8
        mov [scratch], rax
.m1:    test bl, 2
        jz .a
        mov rax, [rbp]
        add rbp, 8
        mov [scratch + 8], rax
.a:     test bl, 4
        jz .c
        mov rax, [rbp]
        add rbp, 8
        mov [reg_rax], rax
.c:     test bl, 8
        jz .d
        mov rax, [rbp]
        add rbp, 8
        mov [reg_rcx], rax
.d:     test bl, 16
        jz .go
        mov rax, [rbp]
        add rbp, 8
        mov [reg_rdx], rax
.go:    mov rax, [scratch]              ; both copies of the memory operand
        mov rdx, [scratch + 8]
        mov rcx, SUP_STUBS + SCRATCH_OFF
        mov [rcx], rax
        mov [rcx + 8], rdx
        mov rcx, USER_ALIAS + SCRATCH_OFF
        mov [rcx], rax
        mov [rcx + 8], rdx
        movzx r13d, byte [cpl]
        movzx r14d, byte [csl]
        movzx r15d, byte [movss]
        mov byte [movss], 0             ; blocking lasts one instruction
        call exec_index
        mov rax, [res_flags]
        and eax, 0x8d5
        or eax, 2
        mov [case_flags], rax
        cmp byte [res_fault], 0
        jne .fault
        cmp byte [cur_class], 3
        je record_ok
        test byte [case_flags], 1       ; CF: VMfailInvalid
        jz .zf
        mov al, 'I'
        call putc
        mov rax, [case_flags]
        call put_flags
        jmp run_batch.next
.zf:    test byte [case_flags], 0x40    ; ZF: VMfailValid, error from the VMCS
        jz .ok
        mov al, 'F'
        call putc
        mov rax, [case_flags]
        call put_flags
        call clear_operands
        mov qword [reg_rcx], 0x4400     ; VM-instruction error field
        mov edi, STUB_VMREAD_REG
        call exec_agent
        mov eax, 0xffffffff
        cmp byte [res_fault], 0
        jne .err
        test byte [res_flags], 0x41
        jnz .err
        mov rax, [res_rdx]
.err:   call put_hex_term
        jmp run_batch.next
.ok:    cmp byte [cur_class], 0
        jne .value
        mov al, 'S'
        call putc
        mov rax, [case_flags]
        call put_flags
        jmp run_batch.next
.value: mov al, 'V'
        call putc
        mov rax, [case_flags]
        call put_flags
        mov rax, [res_rdx]
        cmp byte [cur_class], 1
        je .put
        mov rcx, SUP_STUBS + SCRATCH_OFF
        cmp byte [cpl], 3
        jne .sup
        mov rcx, USER_ALIAS + SCRATCH_OFF
.sup:   mov rax, [rcx]
.put:   call put_hex_term
        jmp run_batch.next
.fault: mov al, 'X'
        call putc
        mov rax, [case_flags]
        call put_flags
        mov rax, [res_vector]
        call put_hex_term
        mov rax, [res_err]
        call put_hex_term
        jmp run_batch.next

bad_bytecode:
        mov rsi, msg_bad_bytecode
        call puts
        mov rax, rbp
        call put_hex
        mov rsi, msg_close
        call puts
        ret

msg_msr:          db '<<MSR ', 0
msg_cpuid:        db '<<CPUID ', 0
msg_bad_bytecode: db 10, '<<VMXB-FATAL bad bytecode at ', 0
msg_lost:         db 10, '<<VMXB-LOST ', 0
msg_damaged:      db 10, '<<VMXB-DAMAGED ', 0
        align 8
scratch:   dq 0, 0
cpl:       db 0
csl:       db 1
movss:     db 0
cur_class: db 0
