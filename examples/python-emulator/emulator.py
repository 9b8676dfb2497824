#!/usr/bin/env python3
"""An example emulator for the vmx-conformance process protocol, version 1 (docs/protocol.md).

It is small on purpose and not part of the suite: a complete plug-in written in another
language, the way a user's emulator would be. Standard library only.

What it implements, from the SDM (Vol. 3C, December 2023, chapter 31 "VMX Instruction
Reference", each instruction's Operation section, and §31.2 "Conventions" for the flags):
VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD and VMWRITE in VMX root operation, with the
processor state they test (CR0, CR4, IA32_EFER.LMA, CS.L, CPL, RFLAGS.VM, IA32_FEATURE_CONTROL)
and physical memory. It never enters VMX non-root operation: VMLAUNCH, VMRESUME, INVEPT,
INVVPID, VMCALL and VMFUNC are not implemented, so its hello does not list them and the harness
does not send them. Were one sent anyway, it answers "unimplemented" and ends the case.

Run it by hand:  echo '{"type":"hello","protocol":1}' | python3 emulator.py
"""
import json
import sys

from fields import FIELDS

NAME = "python-example"
VERSION = "1.0"
PROTOCOL = 1

# The processor it emulates: Skylake-class VMX capability MSRs (the values of vmx-conformance's
# "skylake" profile, which follow what such processors report; SDM Vol. 3D Appendix A).
PROFILE = {
    "name": "python-example-skylake",
    "description": "the example emulator's Skylake-class processor",
    "physicalAddressWidth": 46,
    "featureControl": "0x5",
    "msrs": {
        "IA32_VMX_BASIC": "0xda040000000004",
        "IA32_VMX_PINBASED_CTLS": "0xff00000016",
        "IA32_VMX_PROCBASED_CTLS": "0xfff9fffe0401e172",
        "IA32_VMX_EXIT_CTLS": "0x1ffffff00036dff",
        "IA32_VMX_ENTRY_CTLS": "0x3ffff000011ff",
        "IA32_VMX_MISC": "0x7004c1e7",
        "IA32_VMX_CR0_FIXED0": "0x80000021",
        "IA32_VMX_CR0_FIXED1": "0xffffffff",
        "IA32_VMX_CR4_FIXED0": "0x2000",
        "IA32_VMX_CR4_FIXED1": "0x3767ff",
        "IA32_VMX_VMCS_ENUM": "0x32",
        "IA32_VMX_PROCBASED_CTLS2": "0x25f7fff00000000",
        "IA32_VMX_EPT_VPID_CAP": "0xf0106734141",
        "IA32_VMX_TRUE_PINBASED_CTLS": "0xff00000016",
        "IA32_VMX_TRUE_PROCBASED_CTLS": "0xfff9fffe04006172",
        "IA32_VMX_TRUE_EXIT_CTLS": "0x1ffffff00036dfb",
        "IA32_VMX_TRUE_ENTRY_CTLS": "0x3ffff000011fb",
        "IA32_VMX_VMFUNC": "0x1",
    },
}
OPERATIONS = [
    "vmxon", "vmxoff", "vmclear", "vmptrld", "vmptrst", "vmread", "vmwrite",
    "write-feature-control", "set", "write-memory",
]
MAX_PROCESSORS = 8


def msr(name):
    return int(PROFILE["msrs"][name], 16)


BASIC = msr("IA32_VMX_BASIC")
REVISION_ID = BASIC & 0x7FFFFFFF  # IA32_VMX_BASIC bits 30:0 (Appendix A.1)
# Bit 48 limits VMXON, VMCS and other pointers to 32 bits; otherwise MAXPHYADDR does.
POINTER_WIDTH = 32 if (BASIC >> 48) & 1 else PROFILE["physicalAddressWidth"]
CR0_FIXED0, CR0_FIXED1 = msr("IA32_VMX_CR0_FIXED0"), msr("IA32_VMX_CR0_FIXED1")
CR4_FIXED0, CR4_FIXED1 = msr("IA32_VMX_CR4_FIXED0"), msr("IA32_VMX_CR4_FIXED1")
VMWRITE_ANY_FIELD = (msr("IA32_VMX_MISC") >> 29) & 1  # Appendix A.6
# VMCS shadowing (secondary processor-based control bit 14) may be 1: VMPTRLD accepts shadow VMCSs.
SHADOWING = (msr("IA32_VMX_PROCBASED_CTLS2") >> 32 >> 14) & 1

ALL64 = (1 << 64) - 1
LOW32 = 0xFFFFFFFF
INVALID_POINTER = ALL64  # the current-VMCS pointer when there is no current VMCS
CF, ZF = 1 << 0, 1 << 6

# CR0 and CR4 bits the checks below name.
CR0_PE, CR0_NW, CR0_CD, CR0_PG = 1 << 0, 1 << 29, 1 << 30, 1 << 31
CR4_PAE, CR4_VMXE = 1 << 5, 1 << 13
# IA32_FEATURE_CONTROL: lock (bit 0), VMX outside SMX (bit 2).
FC_LOCK, FC_VMX_OUTSIDE_SMX = 1 << 0, 1 << 2

# VM-instruction error numbers (§31.4 "VM Instruction Error Numbers").
ERR_VMCLEAR_INVALID_ADDRESS = 2
ERR_VMCLEAR_VMXON_POINTER = 3
ERR_VMPTRLD_INVALID_ADDRESS = 9
ERR_VMPTRLD_VMXON_POINTER = 10
ERR_VMPTRLD_REVISION = 11
ERR_UNSUPPORTED_FIELD = 12
ERR_READ_ONLY_FIELD = 13
ERR_VMXON_IN_ROOT = 15
VM_INSTRUCTION_ERROR_FIELD = 0x4400


class Fault(Exception):
    """#UD or #GP(0) delivered instead of the instruction; flags stay as they were."""

    def __init__(self, vector):
        super().__init__(vector)
        self.vector = vector


class Processor:
    """One logical processor in the harness's initial state (spec/initial-state.ts)."""

    def __init__(self):
        self.cr0, self.cr4 = 0x80000031, 0x2020
        self.lma, self.cs_l, self.cpl, self.vm, self.mov_ss = 1, 1, 0, 0, 0
        self.lme, self.cr3 = 1, 0
        self.feature_control = int(PROFILE["featureControl"], 16)
        self.flags = 0
        self.in_vmx = False
        self.vmxon_pointer = None
        self.current = INVALID_POINTER
        self.active = set()

    def bits64(self):
        return self.lma == 1 and self.cs_l == 1

    def operand(self, text):
        """A register operand: 64 bits in 64-bit mode, the low 32 bits otherwise."""
        value = int(text, 16)
        return value if self.bits64() else value & LOW32


class Machine:
    """Processors sharing memory (32-bit words) and the data of every VMCS region by address."""

    def __init__(self, processors):
        self.cpus = [Processor() for _ in range(processors)]
        self.memory = {}
        self.vmcs = {}

    # --- outcomes (§31.2 "Conventions")
    def succeed(self, cpu, value=None):
        cpu.flags = 0
        return {"kind": "vmsucceed", "flags": 0} if value is None else {"kind": "vmsucceed", "value": hex(value), "flags": 0}

    def fail_invalid(self, cpu):
        cpu.flags = CF
        return {"kind": "vmfail-invalid", "flags": CF}

    def fail_valid(self, cpu, error):
        self.vmcs.setdefault(cpu.current, {})[VM_INSTRUCTION_ERROR_FIELD] = error
        cpu.flags = ZF
        return {"kind": "vmfail-valid", "error": error, "flags": ZF}

    def fail(self, cpu, error):
        return self.fail_invalid(cpu) if cpu.current == INVALID_POINTER else self.fail_valid(cpu, error)

    # --- the checks every VMX instruction but VMXON starts with
    def root_checks(self, cpu, op, memory_operand):
        if memory_operand and op.get("form") == "register":
            raise Fault("UD")
        if not cpu.in_vmx or cpu.cr0 & CR0_PE == 0 or cpu.vm == 1 or (cpu.lma == 1 and cpu.cs_l == 0):
            raise Fault("UD")
        if cpu.cpl > 0:
            raise Fault("GP")

    def bad_pointer(self, address):
        return address & 0xFFF != 0 or address >> POINTER_WIDTH != 0

    # --- the instructions
    def vmxon(self, cpu, op):
        if op.get("form") == "register":
            raise Fault("UD")
        if cpu.cr0 & CR0_PE == 0 or cpu.cr4 & CR4_VMXE == 0 or cpu.vm == 1 or (cpu.lma == 1 and cpu.cs_l == 0):
            raise Fault("UD")
        if cpu.in_vmx:
            if cpu.cpl > 0:
                raise Fault("GP")
            return self.fail(cpu, ERR_VMXON_IN_ROOT)
        if cpu.cpl > 0 or not fixed_bits_ok(cpu.cr0, CR0_FIXED0, CR0_FIXED1) or not fixed_bits_ok(cpu.cr4, CR4_FIXED0, CR4_FIXED1):
            raise Fault("GP")
        if cpu.feature_control & FC_LOCK == 0 or cpu.feature_control & FC_VMX_OUTSIDE_SMX == 0:
            raise Fault("GP")
        address = int(op["pointer"], 16)
        if self.bad_pointer(address):
            return self.fail_invalid(cpu)
        word = self.memory.get(address, 0)
        if word & 0x7FFFFFFF != REVISION_ID or word >> 31 == 1:
            return self.fail_invalid(cpu)
        cpu.in_vmx, cpu.vmxon_pointer, cpu.current = True, address, INVALID_POINTER
        return self.succeed(cpu)

    def vmxoff(self, cpu, op):
        self.root_checks(cpu, op, memory_operand=False)
        cpu.in_vmx, cpu.vmxon_pointer, cpu.current = False, None, INVALID_POINTER
        cpu.active.clear()
        return self.succeed(cpu)

    def vmclear(self, cpu, op):
        self.root_checks(cpu, op, memory_operand=True)
        address = int(op["pointer"], 16)
        if self.bad_pointer(address):
            return self.fail(cpu, ERR_VMCLEAR_INVALID_ADDRESS)
        if address == cpu.vmxon_pointer:
            return self.fail(cpu, ERR_VMCLEAR_VMXON_POINTER)
        cpu.active.discard(address)
        if cpu.current == address:
            cpu.current = INVALID_POINTER
        return self.succeed(cpu)

    def vmptrld(self, cpu, op):
        self.root_checks(cpu, op, memory_operand=True)
        address = int(op["pointer"], 16)
        if self.bad_pointer(address):
            return self.fail(cpu, ERR_VMPTRLD_INVALID_ADDRESS)
        if address == cpu.vmxon_pointer:
            return self.fail(cpu, ERR_VMPTRLD_VMXON_POINTER)
        word = self.memory.get(address, 0)
        if word & 0x7FFFFFFF != REVISION_ID or (word >> 31 == 1 and not SHADOWING):
            return self.fail(cpu, ERR_VMPTRLD_REVISION)
        cpu.active.add(address)
        cpu.current = address
        return self.succeed(cpu)

    def vmptrst(self, cpu, op):
        self.root_checks(cpu, op, memory_operand=True)
        return self.succeed(cpu, cpu.current)

    def field_checks(self, cpu, encoding):
        """VMfail outcomes VMREAD and VMWRITE share, or None when the field may be accessed."""
        if cpu.current == INVALID_POINTER:
            return self.fail_invalid(cpu)
        if encoding >> 32 != 0 or not field_exists(encoding):
            return self.fail_valid(cpu, ERR_UNSUPPORTED_FIELD)
        return None

    def vmread(self, cpu, op):
        self.root_checks(cpu, op, memory_operand=False)
        encoding = cpu.operand(op["encoding"])
        failed = self.field_checks(cpu, encoding)
        if failed:
            return failed
        value = self.vmcs.setdefault(cpu.current, {}).get(encoding & ~1, 0)
        width = field_width(encoding)
        if encoding & 1:
            value = value >> 32
        elif width == 16:
            value &= 0xFFFF
        elif width == 32 or not cpu.bits64():
            value &= LOW32
        return self.succeed(cpu, value)

    def vmwrite(self, cpu, op):
        self.root_checks(cpu, op, memory_operand=False)
        encoding = cpu.operand(op["encoding"])
        source = cpu.operand(op["value"])
        failed = self.field_checks(cpu, encoding)
        if failed:
            return failed
        if (encoding >> 10) & 3 == 1 and not VMWRITE_ANY_FIELD:
            return self.fail_valid(cpu, ERR_READ_ONLY_FIELD)
        fields = self.vmcs.setdefault(cpu.current, {})
        full = encoding & ~1
        width = field_width(encoding)
        if encoding & 1:
            fields[full] = (fields.get(full, 0) & LOW32) | ((source & LOW32) << 32)
        elif width == 16:
            fields[full] = source & 0xFFFF
        else:
            fields[full] = source & (LOW32 if width == 32 else ALL64)
        return self.succeed(cpu)

    # --- processor state (MOV to CR0/CR4 and WRMSR checks: SDM Vol. 2 MOV, WRMSR; §24.8 for VMX)
    def write_feature_control(self, cpu, op):
        if cpu.vm == 1 or cpu.cpl > 0 or cpu.feature_control & FC_LOCK:
            raise Fault("GP")
        cpu.feature_control = int(op["value"], 16)
        return {"kind": "ok", "flags": cpu.flags}

    def set_state(self, cpu, op):
        attribute = {"efer.lma": "lma", "efer.lme": "lme", "cs.l": "cs_l", "cpl": "cpl", "rflags.vm": "vm",
                     "mov-ss-blocking": "mov_ss", "cr3": "cr3"}[op["what"]]
        setattr(cpu, attribute, op["value"])
        return {"kind": "ok", "flags": cpu.flags}

    def write_memory(self, cpu, op):
        self.memory[int(op["address"], 16)] = int(op["value"], 16)
        return {"kind": "ok", "flags": cpu.flags}

    def step(self, op):
        cpu = self.cpus[op["cpu"]]
        handler = HANDLERS.get(op["kind"])
        if handler is None:
            return {"kind": "unimplemented", "what": op["kind"] + " is not implemented by " + NAME, "flags": cpu.flags}
        if op["kind"] in ("vmclear", "vmptrld", "vmptrst") and op.get("form") == "register":
            # 0F C7 /6 and /7 with a register operand are RDRAND and RDSEED on this Skylake-class
            # processor (SDM Vol. 2): a random value was available, CF = 1, the other flags clear.
            cpu.flags = CF
            return {"kind": "ok", "flags": CF}
        try:
            return handler(self, cpu, op)
        except Fault as fault:
            return {"kind": "fault", "vector": fault.vector, "flags": cpu.flags}


HANDLERS = {
    "vmxon": Machine.vmxon, "vmxoff": Machine.vmxoff, "vmclear": Machine.vmclear,
    "vmptrld": Machine.vmptrld, "vmptrst": Machine.vmptrst, "vmread": Machine.vmread,
    "vmwrite": Machine.vmwrite,
    "write-feature-control": Machine.write_feature_control, "set": Machine.set_state,
    "write-memory": Machine.write_memory,
}


def fixed_bits_ok(value, fixed0, fixed1):
    """§24.8: bits set in FIXED0 must be 1, bits clear in FIXED1 must be 0 (Appendix A.7, A.8)."""
    return value & fixed0 == fixed0 and value & ~fixed1 & ALL64 == 0


def field_width(encoding):
    return {0: 16, 1: 64, 2: 32, 3: "natural"}[(encoding >> 13) & 3]


def field_exists(encoding):
    """A supported field; the high access (bit 0 = 1) exists only for 64-bit fields."""
    if encoding & 1:
        return field_width(encoding) == 64 and (encoding & ~1) in FIELDS
    return encoding in FIELDS


def main():
    out = sys.stdout
    log = sys.stderr
    for line in sys.stdin:
        message = json.loads(line)
        kind = message.get("type")
        if kind == "hello":
            if message.get("protocol") != PROTOCOL:
                log.write("the harness speaks protocol %s; this emulator speaks %d\n" % (message.get("protocol"), PROTOCOL))
            out.write(json.dumps({"type": "hello", "protocol": PROTOCOL, "name": NAME, "version": VERSION,
                                  "profile": PROFILE, "operations": OPERATIONS,
                                  "logicalProcessors": MAX_PROCESSORS}) + "\n")
            out.flush()
            log.write("%s %s ready (protocol %d)\n" % (NAME, VERSION, PROTOCOL))
            log.flush()
        elif kind == "case":
            machine = Machine(message["logicalProcessors"])
            case = message["id"]
            for index, operation in enumerate(message["operations"]):
                observation = machine.step(operation)
                out.write(json.dumps({"type": "observation", "case": case, "index": index, "observation": observation}) + "\n")
                if observation["kind"] == "unimplemented":
                    break
            out.write(json.dumps({"type": "end", "case": case}) + "\n")
            out.flush()
        elif kind == "bye":
            return


if __name__ == "__main__":
    main()
