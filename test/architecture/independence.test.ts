/**
 * model/ and impl/ are two independent implementations of the same SDM semantics; their
 * agreement means something only if neither borrows from the other. Both may import spec/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, resolved to a path under the repo. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => m[1] ?? m[2] ?? '',
  );
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(root, resolve(file, '..', s)));
}

function crossings(from: string, forbidden: string[]): string[] {
  return sources(join(root, from)).flatMap((file) =>
    importsOf(file)
      .filter((target) => forbidden.some((dir) => target === dir || target.startsWith(`${dir}/`)))
      .map((target) => `${relative(root, file)} imports ${target}`),
  );
}

describe('independence of the two implementations', () => {
  it('model/ imports nothing from impl/, properties/ or cli/', () => {
    expect(sources(join(root, 'model')).length).toBeGreaterThan(0);
    expect(crossings('model', ['impl', 'properties', 'cli'])).toEqual([]);
  });

  it('impl/ imports nothing from model/, properties/ or cli/', () => {
    expect(sources(join(root, 'impl')).length).toBeGreaterThan(0);
    expect(crossings('impl', ['model', 'properties', 'cli'])).toEqual([]);
  });

  it('spec/ imports only spec/ (both implementations depend on it alone)', () => {
    expect(crossings('spec', ['model', 'impl', 'properties', 'cli'])).toEqual([]);
  });

  it('the import scanner sees a crossing when there is one', () => {
    // Guards the guard: a file of properties/ imports model/, so the scanner must report it.
    expect(crossings('properties', ['model']).length).toBeGreaterThan(0);
  });
});
