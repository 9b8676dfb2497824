// A worker of `vmx-conformance run --emulator bochs --jobs <n>`: loads the TypeScript sources
// through tsx, then judges the batches of cases the main thread sends it on its own Bochs
// (cli/bochs/bochs-job-runner.ts).
import { register } from 'tsx/esm/api';

register();
await import('./bochs-job-runner.ts');
