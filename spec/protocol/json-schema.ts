/**
 * The JSON Schema of the process protocol, generated from the zod schemas in ./schemas.ts with
 * zod's `z.toJSONSchema`. `npm run schema` writes it to docs/protocol.schema.json; a test checks
 * the committed file is up to date.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION } from './messages.ts';
import { emulatorHelloSchema, emulatorMessageSchema, harnessMessageSchema } from './schemas.ts';

/** Where the generated schema is committed, relative to the repository root. */
export const SCHEMA_PATH = 'docs/protocol.schema.json';

/** The schema document: one line of either side, every message type under `$defs`. */
export function protocolJsonSchema(): Record<string, unknown> {
  const line = z
    .union([harnessMessageSchema, emulatorHelloSchema, emulatorMessageSchema])
    .meta({
      title: `vmx-conformance process protocol, version ${PROTOCOL_VERSION}`,
      description:
        'One line of newline-delimited JSON, from either side. Harness to emulator: HarnessHello, Case, Bye. ' +
        'Emulator to harness: EmulatorHello, then ObservationMessage, End and Error. See docs/protocol.md.',
    });
  return z.toJSONSchema(line, { target: 'draft-2020-12', unrepresentable: 'throw' }) as Record<string, unknown>;
}

/** The text written to {@link SCHEMA_PATH}. */
export function protocolJsonSchemaText(): string {
  return `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
}
