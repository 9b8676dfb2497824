/**
 * Finds the engine to test: our optimized emulator by default, or a plug-in module given on the
 * command line. A plug-in is any JavaScript (or TypeScript) module whose default export, or whose
 * `createEngine` export, is an EngineFactory (see spec/engine.ts and the README). The main thread
 * never imports a plug-in unless `--in-process` asks for it: the module is loaded inside its
 * worker (see isolated-engine.ts), so whatever it does at load time stays there.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register as registerCommonJs } from 'tsx/cjs/api';
import { createImplEngine } from '../impl/index.ts';
import type { Engine, EngineConfig, EngineFactory } from '../spec/engine.ts';
import type { Observation } from '../spec/observations.ts';
import { EmulatorFault, type FaultRecord } from './engine-fault.ts';
import { InProcessGuard } from './in-process-guard.ts';
import { isolatedFactory, PluginHost } from './isolated-engine.ts';
import { UsageError } from './usage-error.ts';

/** An engine factory with the name reports use. */
export interface LoadedEngine {
  name: string;
  factory: EngineFactory;
  /** The emulator fault (crash, hang, garbage...) of the latest engine created, if any. */
  lastFault(): FaultRecord | undefined;
  /** Releases the worker and shows the plug-in's remaining output. */
  dispose(): void;
}

/** How to load a plug-in. */
export interface LoadOptions {
  /** Milliseconds a plug-in may take per call. */
  stepTimeoutMs?: number;
  /** Milliseconds a plug-in may take to load (the handshake). */
  handshakeTimeoutMs?: number;
  /** Run in the main thread (no time limits, no crash isolation). */
  inProcess?: boolean;
  /** Heap limit of the plug-in's worker in MB (tests use it to make out-of-memory quick). */
  maxOldGenerationSizeMb?: number;
}

/** Our emulator, the default engine. */
export function defaultEngine(): LoadedEngine {
  return { name: 'impl', factory: createImplEngine, lastFault: () => undefined, dispose() {} };
}

/**
 * Loads a plug-in module; throws {@link UsageError} saying what is wrong with it, or
 * {@link EmulatorFault} when it crashes or hangs while loading.
 */
export async function loadEngine(modulePath: string | undefined, options: LoadOptions = {}): Promise<LoadedEngine> {
  if (modulePath === undefined) return defaultEngine();
  const file = resolve(modulePath);
  if (!existsSync(file)) throw new UsageError(`emulator module not found: ${file}`);
  const url = pathToFileURL(file).href;
  if (options.inProcess) return loadInProcess(file, url);
  const host = new PluginHost(url, {
    stepTimeoutMs: options.stepTimeoutMs ?? 10_000,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 30_000,
    maxOldGenerationSizeMb: options.maxOldGenerationSizeMb,
  });
  try {
    host.start();
  } catch (error) {
    host.dispose();
    throw error;
  }
  return { name: host.name, factory: isolatedFactory(host), lastFault: () => host.lastFault, dispose: () => host.dispose() };
}

/** The factory a module exports; a CommonJS module's exports arrive as the default export. */
function pickFactory(module: Record<string, unknown>): EngineFactory | undefined {
  for (const exports of [module, module.default as Record<string, unknown> | undefined]) {
    const candidate = exports?.default ?? exports?.createEngine;
    if (typeof candidate === 'function') return candidate as EngineFactory;
  }
  return undefined;
}

let commonJsRegistered = false;

async function loadInProcess(file: string, url: string): Promise<LoadedEngine> {
  if (!commonJsRegistered) {
    // A TypeScript plug-in in a package that is not an ES-module package is CommonJS.
    registerCommonJs();
    commonJsRegistered = true;
  }
  const name = basename(file).replace(/\.[cm]?[jt]sx?$/, '');
  const guard = new InProcessGuard(name);
  let module: Record<string, unknown>;
  try {
    module = await guard.runAsync('loading the module', async () => (await import(url)) as Record<string, unknown>);
  } catch (error) {
    if (error instanceof EmulatorFault) throw error;
    throw new UsageError(`emulator module ${file} failed to load: ${(error as Error).message}`);
  }
  const exported = pickFactory(module);
  if (exported === undefined) {
    throw new UsageError(
      `emulator module ${file} must export an engine factory as its default export or as "createEngine" (found ${Object.keys(module).join(', ') || 'no exports'})`,
    );
  }
  let lastFault: FaultRecord | undefined;
  const guarded = <T>(during: string, body: () => T): T => {
    try {
      return guard.run(during, body);
    } catch (error) {
      if (error instanceof EmulatorFault) lastFault = { kind: error.kind, message: error.message };
      throw error;
    }
  };
  const factory = (config: EngineConfig): Engine => {
    lastFault = undefined;
    const engine = guarded('creating the engine', () => (exported as EngineFactory)(config)) as Partial<Engine> | null | undefined;
    const missing = (['step', 'snapshot', 'restore'] as const).filter((m) => typeof engine?.[m] !== 'function');
    if (engine === null || engine === undefined || missing.length > 0) {
      throw new UsageError(`the engine created by ${file} lacks ${missing.join(', ') || 'everything'}: see the Engine interface in spec/engine.ts`);
    }
    const e = engine as Engine;
    return {
      name: e.name,
      step: (operation) => guarded(`step ${operation.kind} (cpu${operation.cpu})`, () => e.step(operation)) as Observation,
      snapshot: () => guarded('snapshot', () => e.snapshot()),
      restore: (snapshot) => guarded('restore', () => e.restore(snapshot)),
    };
  };
  return { name, factory, lastFault: () => lastFault, dispose: () => guard.flush() };
}
