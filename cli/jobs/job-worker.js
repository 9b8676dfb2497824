// A worker of `vmx-conformance run --jobs`: loads the TypeScript sources through tsx, then runs
// the shares of the run the main thread sends it (cli/jobs/job-runner.ts).
import { register } from 'tsx/esm/api';

register();
await import('./job-runner.ts');
