; Output on port E9 (Bochs's port_e9_hack prints each byte on its standard output).
putc:                                   ; al
        out 0xe9, al
        ret

puts:                                   ; rsi = NUL-terminated string
        lodsb
        test al, al
        jz .done
        out 0xe9, al
        jmp puts
.done:  ret

put_hex:                                ; rax, lower-case hexadecimal without leading zeros
        push rcx
        push rdx
        mov rdx, rax
        mov ecx, 60
.skip:  test ecx, ecx
        jz .digit
        mov rax, rdx
        shr rax, cl
        test al, 0xf
        jnz .digit
        sub ecx, 4
        jmp .skip
.digit: mov rax, rdx
        shr rax, cl
        and eax, 0xf
        mov al, [hex_digits + rax]
        out 0xe9, al
        sub ecx, 4
        jns .digit
        pop rdx
        pop rcx
        ret

put_hex_term:                           ; rax in hex, then ';'
        call put_hex
        mov al, ';'
        out 0xe9, al
        ret

put_flags:                              ; rax = RFLAGS: CF PF AF ZF SF OF as 6 bits, '0' + bits
        push rcx
        mov rcx, rax
        xor eax, eax
        test ecx, 1 << 0
        jz .1
        or eax, 1
.1:     test ecx, 1 << 2
        jz .2
        or eax, 2
.2:     test ecx, 1 << 4
        jz .3
        or eax, 4
.3:     test ecx, 1 << 6
        jz .4
        or eax, 8
.4:     test ecx, 1 << 7
        jz .5
        or eax, 16
.5:     test ecx, 1 << 11
        jz .6
        or eax, 32
.6:     add eax, '0'
        out 0xe9, al
        pop rcx
        ret

hex_digits: db '0123456789abcdef'
