#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx's loader, so `npm ci` is the only set-up step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv);
