/** `npm run schema`: writes docs/protocol.schema.json from the protocol's zod schemas. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { protocolJsonSchemaText, SCHEMA_PATH } from './json-schema.ts';

const target = resolve(import.meta.dirname, '../..', SCHEMA_PATH);
writeFileSync(target, protocolJsonSchemaText());
process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
