; vmx-conformance guest agent: the whole boot image (boot sector + agent), assembled with
;   nasm -f bin -o agent.bin image.asm
; The host appends the case bytecode at IMAGE_BYTECODE and patches the track count at
; offset TRACKS_OFFSET of the boot sector (cli/bochs/image.ts). Layout: memory-map.inc.
%include "memory-map.inc"
%include "boot.asm"
%include "agent.asm"
