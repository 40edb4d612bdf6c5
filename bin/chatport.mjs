#!/usr/bin/env node
// Runs the CLI compiled into dist/, compiling src/ first whenever it changed (bin/build.mjs), so
// `npm ci` stays the only set-up step and no process runs code older than its sources. Compiled
// JavaScript instead of the TypeScript loader (tsx) saves a worker process half its idle memory.
// Where dist/ cannot be written, it falls back on running the sources through tsx.
// `serve`, `worker` and `import` first run themselves again with glibc malloc settings that keep a
// process's memory flat (bin/relaunch.mjs); this process then only waits for that child.
import { dieWithLauncher, relaunchWithMallocSettings } from './relaunch.mjs';

if (!(await relaunchWithMallocSettings())) {
  dieWithLauncher();
  await run();
}

async function run() {
  const { ensureBuilt } = await import('./build.mjs');
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
}
