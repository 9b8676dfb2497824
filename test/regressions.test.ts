/**
 * Every divergence ever found between engines and the model is kept in regressions/ as a case
 * file; each must replay conformant on our emulator.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../cli/load-profile.ts';
import { createImplEngine } from '../impl/index.ts';
import { parseCase } from '../properties/case.ts';
import { runDifferential } from '../properties/differential.ts';
import { renderTrace } from '../properties/trace.ts';

const dir = resolve(import.meta.dirname, '../regressions');
const files = readdirSync(dir).filter((f) => f.endsWith('.case.json'));

describe('regression cases', () => {
  it('exist', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s replays conformant on our emulator', (file) => {
    const path = join(dir, file);
    const testCase = parseCase(readFileSync(path, 'utf8'), path);
    const { profile } = resolveProfile(testCase.profile);
    const engine = createImplEngine({ profile: profile.data, logicalProcessors: testCase.logicalProcessors });
    const outcome = runDifferential(engine, profile, testCase.logicalProcessors, testCase.operations);
    expect(outcome.kind === 'conformant' ? '' : renderTrace(outcome, file)).toBe('');
  });
});
