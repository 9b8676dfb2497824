#!/usr/bin/env node
// Entry point of the `vmx-conformance` command: loads the TypeScript sources through tsx, so the
// tool runs straight from a clone without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
