/**
 * The process protocol's definition: the committed JSON Schema is generated from the zod schemas,
 * the example exchange in docs/protocol.md is valid and is what the example emulator answers, and
 * the schemas reject what docs/protocol.md says they reject.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocolJsonSchemaText, SCHEMA_PATH } from '../../spec/protocol/json-schema.ts';
import { MAX_LINE_BYTES, PROTOCOL_VERSION } from '../../spec/protocol/messages.ts';
import { caseMessageSchema, emulatorHelloSchema, emulatorMessageSchema, harnessMessageSchema } from '../../spec/protocol/schemas.ts';

const root = resolve(import.meta.dirname, '../..');
const doc = readFileSync(join(root, 'docs/protocol.md'), 'utf8');

function block(language: string, after: string): string {
  const start = doc.indexOf(after);
  const open = doc.indexOf(`\`\`\`${language}\n`, start);
  const close = doc.indexOf('```', open + 3 + language.length);
  return doc.slice(open + language.length + 4, close);
}

const exchange = block('text', '## Example exchange').split('\n').filter((l) => l !== '');
const harnessLines = exchange.filter((l) => l.startsWith('> ')).map((l) => l.slice(2));
const emulatorLines = exchange.filter((l) => l.startsWith('< {')).map((l) => l.slice(2));
const documentedHello: unknown = JSON.parse(block('json', "The emulator's hello"));

describe('docs/protocol.schema.json', () => {
  it('is what `npm run schema` generates from spec/protocol/schemas.ts', () => {
    expect(readFileSync(join(root, SCHEMA_PATH), 'utf8')).toBe(protocolJsonSchemaText());
  });

  it('names every message type and the engine contract types under $defs', () => {
    const defs = Object.keys((JSON.parse(protocolJsonSchemaText()) as { $defs: object }).$defs).sort();
    expect(defs).toEqual(['Bye', 'Case', 'EmulatorHello', 'End', 'Error', 'HarnessHello', 'Observation', 'ObservationMessage', 'Operation'].sort());
  });
});

describe('the example exchange in docs/protocol.md', () => {
  it('has valid harness lines and emulator lines', () => {
    expect(harnessLines.length).toBe(4);
    for (const line of harnessLines) expect(harnessMessageSchema.safeParse(JSON.parse(line)).success, line).toBe(true);
    expect(emulatorLines.length).toBe(13);
    for (const line of emulatorLines) expect(emulatorMessageSchema.safeParse(JSON.parse(line)).success, line).toBe(true);
    expect(emulatorHelloSchema.safeParse(documentedHello).success).toBe(true);
  });

  it('is exactly what the example emulator answers', () => {
    const run = spawnSync('python3', [join(root, 'examples/python-emulator/emulator.py')], {
      input: `${harnessLines.join('\n')}\n`,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    const [hello, ...rest] = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(hello).toEqual(documentedHello);
    expect(rest).toEqual(emulatorLines.map((l) => JSON.parse(l) as unknown));
    expect(run.stderr).toContain('python-example 1.0 ready');
  });
});

describe('the message schemas', () => {
  const hello = documentedHello as Record<string, unknown>;

  it('speak protocol version 1 with a 1 MiB line limit', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(MAX_LINE_BYTES).toBe(1_048_576);
  });

  it('reject a hello of another version, with unknown members, or with a name unfit for file names', () => {
    expect(emulatorHelloSchema.safeParse({ ...hello, protocol: 2 }).success).toBe(false);
    expect(emulatorHelloSchema.safeParse({ ...hello, snapshots: true }).success).toBe(false);
    expect(emulatorHelloSchema.safeParse({ ...hello, name: 'my/emulator' }).success).toBe(false);
    expect(emulatorHelloSchema.safeParse({ ...hello, operations: [] }).success).toBe(false);
    expect(emulatorHelloSchema.safeParse({ ...hello, operations: ['vmxon', 'halt'] }).success).toBe(false);
  });

  it('reject a profile MSR that is not a hex string, or an MSR the contract does not know', () => {
    const profile = hello.profile as { msrs: Record<string, string> };
    expect(emulatorHelloSchema.safeParse({ ...hello, profile: { ...profile, msrs: { ...profile.msrs, IA32_VMX_MISC: 1879359975 } } }).success).toBe(false);
    expect(emulatorHelloSchema.safeParse({ ...hello, profile: { ...profile, msrs: { ...profile.msrs, IA32_VMX_FOO: '0x1' } } }).success).toBe(false);
  });

  it('check observations and operations with the engine contract schemas', () => {
    const observation = { type: 'observation', case: 0, index: 0 };
    expect(emulatorMessageSchema.safeParse({ ...observation, observation: { kind: 'vmfail-valid', error: 10, flags: 64 } }).success).toBe(true);
    expect(emulatorMessageSchema.safeParse({ ...observation, observation: { kind: 'vmfail-valid', flags: 64 } }).success).toBe(false);
    expect(emulatorMessageSchema.safeParse({ type: 'end' }).success).toBe(false);
    expect(emulatorMessageSchema.safeParse({ type: 'error', message: 'out of memory' }).success).toBe(true);
    const operations = [{ kind: 'write-memory', cpu: 0, address: '0x1002', value: '0x4' }];
    expect(caseMessageSchema.safeParse({ type: 'case', id: 0, logicalProcessors: 1, operations }).success).toBe(false);
  });
});
