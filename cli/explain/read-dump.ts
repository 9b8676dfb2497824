/**
 * Reads any input `explain` accepts, deciding the format from the text: the JSON form, or a KVM or
 * Xen log dump with or without log prefixes.
 */
import { readJsonDump } from './json-dump.ts';
import { readLinuxDump } from './linux-dump.ts';
import { stripLogPrefix } from './log-prefix.ts';
import type { VmcsDump } from './vmcs-dump.ts';
import { DumpParseError } from './vmcs-dump.ts';

/** Marks of Xen's dump that KVM's never has. */
const XEN_MARKS: readonly RegExp[] = [/^\(XEN\)/m, /EFER\((?:VMCS|MSR LL)\)/, /^\s*sel\s+attr\s+limit\s+base\s*$/, /^\s*(?:CS|SS|TR): [0-9a-f]{4} [0-9a-f]{5} /];

/** The dump in `text`; throws {@link DumpParseError} naming the line for input it cannot read. */
export function readDump(text: string): VmcsDump {
  if (text.trimStart().startsWith('{')) return readJsonDump(text);
  const lines = text.split('\n');
  const stripped = lines.map(stripLogPrefix);
  if (!stripped.some((line) => /^\*\*\* (?:Guest|Host|Control) State \*\*\*$/.test(line.trim()))) {
    throw new DumpParseError(
      undefined,
      'not a recognized VMCS dump: expected the JSON form ({"format": "vmx-conformance-vmcs/1", ...}) or a KVM or Xen dump with a "*** Guest State ***" section',
    );
  }
  const isXen = XEN_MARKS.some((mark) => lines.some((line) => mark.test(line)) || stripped.some((line) => mark.test(line)));
  return readLinuxDump(text, isXen ? 'xen' : 'kvm');
}
