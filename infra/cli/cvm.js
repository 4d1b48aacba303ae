#!/usr/bin/env node
// Installed as the `cvm` binary: runs the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./main.ts');
await runCli(process.argv.slice(2));
