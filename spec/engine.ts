/**
 * The engine contract: anything that executes the operation vocabulary one step at a time and
 * reports observations. Our optimized emulator (impl/) is one engine; a third-party emulator is
 * plugged in as a JavaScript module whose default export (or `createEngine` export) is an
 * {@link EngineFactory}.
 */
import type { Observation } from './observations.ts';
import type { Operation } from './operations.ts';
import type { ProfileData } from './profile-data.ts';

/** What an engine is created with. */
export interface EngineConfig {
  /** The capability MSRs and other implementation-specific facts the engine must present. */
  profile: ProfileData;
  /** Number of logical processors sharing physical memory (at least 1; the suite uses 2). */
  logicalProcessors: number;
}

/**
 * One emulated machine: some logical processors in the {@link initialProcessorState} and a zeroed
 * physical memory. Its state changes only through {@link Engine.step} and {@link Engine.restore}.
 */
export interface Engine {
  /** Name shown in reports, for example `"impl"` or `"bochs-2.7"`. */
  readonly name: string;
  /** Executes one operation and reports what the architecture makes visible. */
  step(operation: Operation): Observation;
  /**
   * Captures the whole machine state (processors, any VMCS data cached on them, memory). The value is opaque to
   * callers; it is only ever passed back to {@link Engine.restore} of the same engine.
   */
  snapshot(): unknown;
  /** Puts the machine back into a state captured by {@link Engine.snapshot}. */
  restore(snapshot: unknown): void;
}

/** Creates a fresh engine; the export a plug-in module provides. */
export type EngineFactory = (config: EngineConfig) => Engine;
