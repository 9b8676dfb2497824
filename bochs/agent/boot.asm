; Boot sector (16-bit, at 0x7C00): copies the floppy image, one head-track at a time through a
; bounce buffer below 1 MB, to IMAGE_BASE with INT 15h AH=87h, then enters 32-bit protected
; mode and jumps to the agent. The host patches the track count at TRACKS_OFFSET.
        bits 16
        section boot start=0 vstart=0x7c00
boot:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov [boot_drive], dl
        in al, 0x92                     ; fast A20
        or al, 2
        and al, 0xfe
        out 0x92, al
        xor si, si                      ; SI = head-track index
.track:
        cmp si, [tracks]
        jae .loaded
        mov di, 3                       ; tries
.retry:
        mov ax, BOUNCE_SEG
        mov es, ax
        xor bx, bx
        mov ax, si
        shr ax, 1
        mov ch, al                      ; cylinder
        mov dh, 0
        test si, 1
        jz .h0
        mov dh, 1                       ; head
.h0:    mov cl, 1                       ; first sector
        mov dl, [boot_drive]
        mov ax, 0x0200 | 18
        int 0x13
        jnc .copy
        xor ax, ax
        mov dl, [boot_drive]
        int 0x13                        ; reset and retry
        dec di
        jnz .retry
        mov si, msg_disk
        jmp fail16
.copy:                                  ; destination = IMAGE_BASE + SI * TRACK_BYTES
        mov ax, si
        mov bx, TRACK_BYTES
        mul bx                          ; DX:AX
        add dx, IMAGE_BASE >> 16
        mov [gdt87.dst + 2], ax
        mov [gdt87.dst + 4], dl
        mov [gdt87.dst + 7], dh
        xor ax, ax
        mov es, ax
        push si
        mov si, gdt87
        mov cx, TRACK_BYTES / 2
        mov ah, 0x87
        int 0x15
        pop si
        jc .copyfail
        inc si
        jmp .track
.copyfail:
        mov si, msg_copy
        jmp fail16
.loaded:
        cli
        lgdt [gdt32.ptr]
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        jmp dword 0x08:AGENT_BASE

fail16:                                 ; print DS:SI on port E9, then shut down
        lodsb
        test al, al
        jz .done
        out 0xe9, al
        jmp fail16
.done:  mov dx, 0x8900
        mov si, boot_shutdown
.sd:    lodsb
        test al, al
        jz .halt
        out dx, al
        jmp .sd
.halt:  hlt
        jmp .halt

boot_drive: db 0
msg_disk:   db 10, '<<VMXB-FATAL boot: floppy read failed>>', 10, 0
msg_copy:   db 10, '<<VMXB-FATAL boot: INT 15h copy failed>>', 10, 0
boot_shutdown: db 'Shutdown', 0

        align 8
gdt87:  dq 0, 0
.src:   dw 0xffff, 0x0000
        db BOUNCE_SEG >> 12, 0x93, 0, 0
.dst:   dw 0xffff, 0x0000
        db 0x10, 0x93, 0, 0
        dq 0, 0
gdt32:  dq 0
        dq 0x00cf9a000000ffff           ; 0x08 flat 32-bit code
        dq 0x00cf92000000ffff           ; 0x10 flat data
.ptr:   dw $ - gdt32 - 1
        dd gdt32

        times TRACKS_OFFSET - ($ - $$) db 0
tracks: dw 1
        times 510 - ($ - $$) db 0
        dw 0xaa55
