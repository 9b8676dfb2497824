import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DumpParseError } from '../../../cli/explain/vmcs-dump.ts';
import { readDump } from '../../../cli/explain/read-dump.ts';
import { stripLogPrefix } from '../../../cli/explain/log-prefix.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/dumps/${name}`, import.meta.url), 'utf8');

describe('reading a KVM dump_vmcs log', () => {
  const dump = readDump(fixture('kvm-invalid-guest.txt'));

  it('recognizes the format', () => {
    expect(dump.format).toBe('kvm');
  });

  it('reads control registers with their shadows and masks', () => {
    expect(dump.fields.get('GUEST_CR0')).toBe(0x80050033n);
    expect(dump.fields.get('CR0_READ_SHADOW')).toBe(0x80050033n);
    expect(dump.fields.get('CR0_GUEST_HOST_MASK')).toBe(0xfffffffffffefff7n);
    expect(dump.fields.get('GUEST_CR4')).toBe(0x3726e0n);
    expect(dump.fields.get('GUEST_CR3')).toBe(0x10a3c4000n);
  });

  it('reads segment registers: selector, access rights, limit, base', () => {
    expect(dump.fields.get('GUEST_CS_SELECTOR')).toBe(0x10n);
    expect(dump.fields.get('GUEST_CS_ACCESS_RIGHTS')).toBe(0xa09bn);
    expect(dump.fields.get('GUEST_TR_LIMIT')).toBe(0x4087n);
    expect(dump.fields.get('GUEST_GS_BASE')).toBe(0xffff9d4f7fa00000n);
    expect(dump.fields.get('GUEST_LDTR_ACCESS_RIGHTS')).toBe(0x10000n);
    expect(dump.fields.get('GUEST_GDTR_LIMIT')).toBe(0x7fn);
    expect(dump.fields.get('GUEST_IDTR_BASE')).toBe(0xfffffe0000000000n);
  });

  it('tells guest and host lines of the same shape apart by section', () => {
    expect(dump.fields.get('GUEST_RIP')).toBe(0xffffffff81e0a2c5n);
    expect(dump.fields.get('HOST_RIP')).toBe(0xffffffffc0a8d3b0n);
    expect(dump.fields.get('GUEST_IA32_SYSENTER_ESP')).toBe(0xfffffe0000003000n);
    expect(dump.fields.get('HOST_IA32_SYSENTER_ESP')).toBe(0xfffffe0000045000n);
    expect(dump.fields.get('GUEST_IA32_EFER')).toBe(0xd01n);
    expect(dump.fields.get('HOST_IA32_EFER')).toBe(0xd01n);
    expect(dump.fields.get('HOST_TR_SELECTOR')).toBe(0x40n);
  });

  it('reads the control state in the newer KVM order', () => {
    expect(dump.fields.get('PRIMARY_PROCESSOR_BASED_CONTROLS')).toBe(0xb5a06dfan);
    expect(dump.fields.get('TERTIARY_PROCESSOR_BASED_CONTROLS')).toBe(0n);
    expect(dump.fields.get('PIN_BASED_CONTROLS')).toBe(0xffn);
    expect(dump.fields.get('VM_ENTRY_CONTROLS')).toBe(0xd3ffn);
    expect(dump.fields.get('PRIMARY_VM_EXIT_CONTROLS')).toBe(0x2befffn);
    expect(dump.fields.get('VM_ENTRY_INTERRUPTION_INFORMATION')).toBe(0x80000b0en);
    expect(dump.fields.get('VM_ENTRY_EXCEPTION_ERROR_CODE')).toBe(3n);
    expect(dump.fields.get('EXIT_REASON')).toBe(0x80000021n);
    expect(dump.fields.get('TPR_THRESHOLD')).toBe(0n);
    expect(dump.fields.get('APIC_ACCESS_ADDRESS')).toBe(0x103d2e000n);
    expect(dump.fields.get('VIRTUAL_APIC_ADDRESS')).toBe(0x11e5b3000n);
    expect(dump.fields.get('EPT_POINTER')).toBe(0x10bd6d05en);
    expect(dump.fields.get('VPID')).toBe(1n);
  });

  it('keeps the guest MSR autoload list as the VM-entry MSR-load area, with a note', () => {
    expect(dump.msrLoadArea).toEqual([{ position: 0, msr: 0x600n, value: 0xfffffe0000042000n }]);
    expect(dump.notes.join('\n')).toMatch(/MSR-load count/);
  });

  it('leaves fields the dump does not print unknown', () => {
    expect(dump.fields.has('VMCS_LINK_POINTER')).toBe(false);
    expect(dump.fields.has('CR3_TARGET_COUNT')).toBe(false);
  });

  it('records the line each value came from', () => {
    expect(dump.lineOf.get('GUEST_CR3')).toBe(6);
  });
});

describe('reading a Xen vmcs_dump_vcpu log', () => {
  const dump = readDump(fixture('xen-vmentry-failure.txt'));

  it('recognizes the format behind "(XEN) [time]" prefixes', () => {
    expect(dump.format).toBe('xen');
  });

  it('joins a line a mail client wrapped', () => {
    expect(dump.fields.get('CR0_GUEST_HOST_MASK')).toBe(0xffffffffffffffffn);
    expect(dump.fields.get('GUEST_CR0')).toBe(0x31n);
  });

  it('reads the columns of the segment table', () => {
    expect(dump.fields.get('GUEST_CS_SELECTOR')).toBe(8n);
    expect(dump.fields.get('GUEST_CS_ACCESS_RIGHTS')).toBe(0xc09bn);
    expect(dump.fields.get('GUEST_TR_ACCESS_RIGHTS')).toBe(0x1008bn);
    expect(dump.fields.get('GUEST_GDTR_LIMIT')).toBe(0x27n);
  });

  it('skips Xen\'s own register copies in parentheses', () => {
    expect(dump.fields.get('GUEST_RSP')).toBe(0x7000n);
    expect(dump.fields.get('GUEST_RIP')).toBe(0x100000n);
    expect(dump.fields.get('GUEST_RFLAGS')).toBe(2n);
  });

  it('reads Xen-only lines: EFER(VMCS) with PAT, preemption timer, host RIP with its symbol', () => {
    expect(dump.fields.get('GUEST_IA32_EFER')).toBe(0n);
    expect(dump.fields.get('GUEST_IA32_PAT')).toBe(0x7040600070406n);
    expect(dump.fields.get('VMX_PREEMPTION_TIMER_VALUE')).toBe(0n);
    expect(dump.fields.get('HOST_RIP')).toBe(0xffff82d0402a1a40n);
    expect(dump.fields.get('HOST_IA32_PAT')).toBe(0x50100070406n);
  });

  it('reads the control state in the older order', () => {
    expect(dump.fields.get('SECONDARY_PROCESSOR_BASED_CONTROLS')).toBe(0x14ebn);
    expect(dump.fields.get('VM_ENTRY_CONTROLS')).toBe(0x53ffn);
    expect(dump.fields.get('EPTP_INDEX')).toBe(0n);
    expect(dump.fields.get('VM_FUNCTION_CONTROLS')).toBe(0n);
    expect(dump.fields.get('TSC_MULTIPLIER')).toBe(0n);
  });
});

describe('bad input', () => {
  it('names the line a dump section does not explain', () => {
    const text = '*** Guest State ***\nCR3 = 0x1000\nthis is not a dump line\n';
    expect(() => readDump(text)).toThrow(DumpParseError);
    expect(() => readDump(text)).toThrow(/line 3: .*"this is not a dump line"/);
  });

  it('refuses text that is no dump at all', () => {
    expect(() => readDump('hello\nworld\n')).toThrow(/not a recognized VMCS dump/);
  });

  it('refuses a dump giving one field two values', () => {
    const text = '*** Guest State ***\nCR3 = 0x1000\nCR3 = 0x2000\n';
    expect(() => readDump(text)).toThrow(/line 3: GUEST_CR3 is 0x2000 here but was 0x1000 on line 2/);
  });

  it('notes KVM\'s effective EFER instead of taking it as the field', () => {
    const dump = readDump('*** Guest State ***\nEFER= 0x0000000000000500 (effective)\n');
    expect(dump.fields.has('GUEST_IA32_EFER')).toBe(false);
    expect(dump.notes[0]).toMatch(/line 2: .*not the VMCS's guest IA32_EFER field/);
  });
});

describe('the JSON form', () => {
  it('takes field names and encodings', () => {
    const dump = readDump(JSON.stringify({ format: 'vmx-conformance-vmcs/1', fields: { GUEST_CR0: '0x31', '0x6802': '0x1000' } }));
    expect(dump.format).toBe('json');
    expect(dump.fields.get('GUEST_CR0')).toBe(0x31n);
    expect(dump.fields.get('GUEST_CR3')).toBe(0x1000n);
  });

  it('names an unknown field, a high-half encoding and a malformed value', () => {
    const doc = (fields: Record<string, string>): string => JSON.stringify({ format: 'vmx-conformance-vmcs/1', fields });
    expect(() => readDump(doc({ GUEST_CR9: '0x1' }))).toThrow(/fields.GUEST_CR9: not a VMCS field name/);
    expect(() => readDump(doc({ '0x2801': '0x1' }))).toThrow(/full encoding of a 64-bit field \(0x2800\)/);
    expect(() => readDump(doc({ GUEST_CR0: '12' }))).toThrow(/hexadecimal/);
  });

  it('reports JSON syntax errors', () => {
    expect(() => readDump('{"format": ')).toThrow(/not valid JSON/);
  });
});

describe('log prefixes', () => {
  it.each([
    ['[ 4570.000003] kvm_intel: CR3 = 0x1', 'CR3 = 0x1'],
    ['Dec  1 12:00:00 host kernel: [  12.5] kvm_intel: CR3 = 0x1', 'CR3 = 0x1'],
    ['2026-12-01T12:00:00+0000 host kernel: kvm: CR3 = 0x1', 'CR3 = 0x1'],
    ['(XEN) [2019-11-02 14:09:46] CR3 = 0x1', 'CR3 = 0x1'],
    ['>> (XEN) CR3 = 0x1', 'CR3 = 0x1'],
    ['(XEN)   CS: 0008 0c09b ffffffff 0000000000000000', '  CS: 0008 0c09b ffffffff 0000000000000000'],
  ])('%s', (line, text) => {
    expect(stripLogPrefix(line)).toBe(text);
  });
});
