/**
 * Finds the engine to test: our optimized emulator by default, or a plug-in module given on the
 * command line. A plug-in is any JavaScript (or TypeScript) module whose default export, or whose
 * `createEngine` export, is an EngineFactory (see spec/engine.ts and the README).
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createImplEngine } from '../impl/index.ts';
import type { Engine, EngineConfig, EngineFactory } from '../spec/engine.ts';
import { isolatedFactory } from './isolated-engine.ts';
import { UsageError } from './usage-error.ts';

/** An engine factory with the name reports use. */
export interface LoadedEngine {
  name: string;
  factory: EngineFactory;
}

/** Our emulator, the default engine. */
export function defaultEngine(): LoadedEngine {
  return { name: 'impl', factory: createImplEngine };
}

/**
 * Loads a plug-in module; throws {@link UsageError} saying what is wrong with it. Its engines run
 * in a worker thread with `stepTimeoutMs` per call (see isolated-engine.ts), unless `inProcess`.
 */
export async function loadEngine(modulePath: string | undefined, stepTimeoutMs = 10_000, inProcess = false): Promise<LoadedEngine> {
  if (modulePath === undefined) return defaultEngine();
  const file = resolve(modulePath);
  if (!existsSync(file)) throw new UsageError(`emulator module not found: ${file}`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`emulator module ${file} failed to load: ${(error as Error).message}`);
  }
  const exported = module.default ?? module.createEngine;
  if (typeof exported !== 'function') {
    throw new UsageError(
      `emulator module ${file} must export an engine factory as its default export or as "createEngine" (found ${Object.keys(module).join(', ') || 'no exports'})`,
    );
  }
  const name = basename(file).replace(/\.[cm]?[jt]s$/, '');
  if (inProcess) return { name, factory: checkedFactory(exported as EngineFactory, file) };
  return { name, factory: isolatedFactory(pathToFileURL(file).href, stepTimeoutMs) };
}

/** Wraps a plug-in factory so a malformed engine object is reported clearly, once, at creation. */
function checkedFactory(factory: EngineFactory, file: string): EngineFactory {
  return (config: EngineConfig): Engine => {
    const engine = factory(config) as Partial<Engine> | null | undefined;
    const missing = (['step', 'snapshot', 'restore'] as const).filter((m) => typeof engine?.[m] !== 'function');
    if (engine === null || engine === undefined || missing.length > 0) {
      throw new UsageError(`the engine created by ${file} lacks ${missing.join(', ') || 'everything'}: see the Engine interface in spec/engine.ts`);
    }
    return engine as Engine;
  };
}
