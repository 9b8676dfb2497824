/** docs/protocol.md names every operation kind of the engine contract. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUEST_OPERATION_KINDS } from '../../spec/guest-operations.ts';
import { VMX_INSTRUCTION_KINDS, type OperationKind } from '../../spec/operations.ts';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const kinds: readonly OperationKind[] = [...VMX_INSTRUCTION_KINDS, 'mov-cr0', 'mov-cr4', 'write-feature-control', 'set', 'write-memory', ...GUEST_OPERATION_KINDS];

describe('the protocol document', () => {
  it.each(kinds)('lists the operation kind %s', (kind) => {
    expect(doc).toContain(`\`${kind}\``);
  });
});
