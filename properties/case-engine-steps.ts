/**
 * Step-by-step engines over a {@link CaseEngine}, for the metamorphic properties, which step an
 * engine one operation at a time. The suite announces the sequence a property is about to step
 * (`expect`); the first step then runs the whole sequence as one case and the following steps
 * take its observations in turn. A step that leaves the announced sequence re-runs everything
 * stepped so far as a new case (slower, still correct for an engine that starts each case fresh).
 * There is no snapshot/restore.
 */
import type { Engine, EngineFactory } from '../spec/engine.ts';
import type { Observation } from '../spec/observations.ts';
import type { Operation } from '../spec/operations.ts';
import type { CaseEngine } from './differential.ts';

/** An engine factory over a case engine, told in advance what its next engine will be asked. */
export interface SteppingFactory extends EngineFactory {
  /** The operations the next engine created will be stepped through, in order. */
  expect(operations: readonly Operation[]): void;
}

/** Engines that answer each step from whole cases run on `caseEngine`. */
export function steppingFactory(caseEngine: CaseEngine): SteppingFactory {
  let script: readonly Operation[] = [];
  const factory = ({ logicalProcessors }: { logicalProcessors: number }): Engine => {
    const planned = script;
    const stepped: Operation[] = [];
    let answers: readonly unknown[] | undefined;
    let onScript = true;
    const run = (operations: readonly Operation[]): readonly unknown[] => caseEngine.runCase(logicalProcessors, operations);
    return {
      name: caseEngine.name,
      step(operation: Operation): Observation {
        const index = stepped.length;
        stepped.push(operation);
        onScript &&= JSON.stringify(planned[index]) === JSON.stringify(operation);
        if (onScript) {
          answers ??= run(planned);
          return answers[index] as Observation;
        }
        const again = run(stepped);
        return again[again.length - 1] as Observation;
      },
      snapshot(): unknown {
        throw new Error(`${caseEngine.name} runs whole cases and has no snapshot`);
      },
      restore(): void {
        throw new Error(`${caseEngine.name} runs whole cases and has no restore`);
      },
    };
  };
  return Object.assign(factory, {
    expect(operations: readonly Operation[]): void {
      script = [...operations];
    },
  });
}
