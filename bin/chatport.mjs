#!/usr/bin/env node
// Runs the CLI compiled into dist/, compiling src/ first whenever it changed (bin/build.mjs), so
// `npm ci` stays the only set-up step and no process runs code older than its sources. Compiled
// JavaScript instead of the TypeScript loader (tsx) saves a worker process half its idle memory.
// Where dist/ cannot be written, it falls back on running the sources through tsx.
import { ensureBuilt } from './build.mjs';

let entry;
try {
  entry = await ensureBuilt();
} catch (error) {
  console.error(`chatport: could not compile src/ into dist/ (${error.message}); running it through tsx`);
}
if (entry) {
  // Stack traces name src/*.ts lines.
  process.setSourceMapsEnabled(true);
  const { main } = await import(entry);
  await main(process.argv);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli.ts');
  await main(process.argv);
}
