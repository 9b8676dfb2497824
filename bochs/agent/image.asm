; vmx-conformance guest agent: the whole boot image (boot sector + agent), assembled with
;   nasm -f bin -o agent.bin image.asm
; The host patches the track count at offset TRACKS_OFFSET of the boot sector and has Bochs load
; the case bytecode at BYTECODE_BASE (cli/bochs/boot.ts). Layout: memory-map.inc.
%include "memory-map.inc"
%include "boot.asm"
%include "agent.asm"
