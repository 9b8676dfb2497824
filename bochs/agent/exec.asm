; Executing one stub: the iretq into the stub at the requested CPL and mode, and the two ways
; back (INT 81h after the instruction completed; an exception instead).
;
; exec: in  r12 = stub offset (its MOV SS entry), r13 = CPL, r14 = CS.L, r15 = MOV SS first,
;           [reg_rax], [reg_rcx], [reg_rdx], the scratch operand (both copies)
;       out [res_fault] 0 completed / 1 exception, [res_flags], [res_rax], [res_rdx],
;           [res_vector], [res_err]
exec:
        mov [agent_rsp], rsp
        mov byte [in_exec], 1
        mov eax, r13d
        imul eax, eax, 24
        lea r8d, [rax + 16]
        or r8d, r13d                    ; SS = data selector of the ring
        lea r9d, [rax + 8]              ; CS = code64 ...
        test r14d, r14d
        jnz .l
        lea r9d, [rax + 24]             ; ... or code32
.l:     or r9d, r13d
        mov r10, SUP_STUBS
        cmp r13d, 3
        jne .s
        mov r10, USER_PAGE
.s:     lea r11, [r10 + r12]
        test r15d, r15d
        jnz .ss
        add r11, 2                      ; skip the MOV SS, SI
.ss:    push r8                         ; SS
        lea rax, [r10 + STACK_OFF]
        push rax                        ; RSP
        mov rax, [case_flags]
        and eax, 0x8d5
        or eax, 2
        push rax                        ; RFLAGS
        push r9                         ; CS
        push r11                        ; RIP
        mov esi, r8d
        lea rbx, [r10 + SCRATCH_OFF]
        mov rax, [reg_rax]
        mov rcx, [reg_rcx]
        mov rdx, [reg_rdx]
        iretq

stub_return:                            ; INT 81h: the instruction completed
        mov [res_rax], rax
        mov [res_rdx], rdx
        mov [res_rcx], rcx
        mov rax, [rsp + 16]
        mov [res_flags], rax
        mov byte [res_fault], 0
        mov byte [in_exec], 0
        mov rsp, [agent_rsp]
        ret

exception_common:                       ; stack: vector, error code, RIP, CS, RFLAGS, RSP, SS
        cmp byte [in_exec], 0
        je agent_fault
        pop rax
        mov [res_vector], rax
        pop rax
        mov [res_err], rax
        mov rax, [rsp + 16]
        mov [res_flags], rax
        mov byte [res_fault], 1
        mov byte [in_exec], 0
        mov rsp, [agent_rsp]
        ret

agent_fault:                            ; an exception in the agent itself: report and stop
        mov rsi, msg_agent_fault
        call puts
        pop rax
        call put_hex
        mov al, ' '
        call putc
        pop rax
        call put_hex
        mov al, ' '
        call putc
        pop rax                         ; RIP
        call put_hex
        mov rsi, msg_close
        call puts
        jmp shutdown

msg_agent_fault: db 10, '<<VMXB-FATAL agent exception ', 0
msg_close:       db '>>', 10, 0

        align 8
agent_rsp:  dq 0
case_flags: dq 2
reg_rax:    dq 0
reg_rcx:    dq 0
reg_rdx:    dq 0
res_rax:    dq 0
res_rdx:    dq 0
res_rcx:    dq 0
res_flags:  dq 0
res_vector: dq 0
res_err:    dq 0
res_fault:  db 0
in_exec:    db 0
