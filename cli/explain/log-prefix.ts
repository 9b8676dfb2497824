/**
 * Lines of a VMCS dump as people paste them: from `dmesg`, `journalctl`, syslog files, Xen's
 * console ring, mail quotes. Each reader first strips what the logging added in front of the text
 * the hypervisor printed.
 */

/** Prefixes, tried in order and repeatedly, that logging puts before a printed line. */
const PREFIXES: readonly RegExp[] = [
  // mail quoting: "> ", ">> ", "> > "
  /^(?:>\s?)+/,
  // syslog / journalctl: "Dec  1 12:00:00 host kernel: " or ISO time "2026-12-01T12:00:00+0000 host kernel: "
  /^(?:[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\S+)\s+\S+\s+kernel:\s?/,
  // Xen console: "(XEN) " or "(d1) "
  /^\((?:XEN|d\d+)\)\s?/,
  // a bracketed timestamp: "[  123.456789] ", "[2019-11-02 14:09:46] ", "[T1234] "
  /^\[[^\]]{1,40}\]\s?/,
  // the module name KVM's messages carry
  /^(?:kvm_intel|kvm-intel|kvm):\s?/,
];

/** `line` without the logging prefixes in front of it, and without trailing white space. */
export function stripLogPrefix(line: string): string {
  let text = line.replace(/\r$/, '');
  for (let changed = true; changed; ) {
    changed = false;
    for (const prefix of PREFIXES) {
      const next = text.replace(prefix, '');
      if (next !== text) {
        text = next;
        changed = true;
      }
    }
  }
  return text.trimEnd();
}
