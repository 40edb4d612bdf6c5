import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt, isBuildFresh } from '../bin/build.mjs';

const run = promisify(execFile);

/** A project of its own: src/cli.ts importing one module, compiled into its own dist/. */
function project(): { root: string; write(file: string, text: string): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-build-'));
  fs.writeFileSync(path.join(root, 'package.json'), '{"type":"module"}');
  let tick = 0;
  const write = (file: string, text: string) => {
    const target = path.join(root, 'src', file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
    // Each version a second apart, older than now: as an edit made before the build started.
    const when = new Date(Date.now() - 60_000 + 1000 * tick++);
    fs.utimesSync(target, when, when);
  };
  write('greeting.ts', "export const greeting: string = 'one';\n");
  write('cli.ts', "import { greeting } from './greeting.js';\nexport const main = () => greeting;\n");
  return { root, write };
}

async function runBuilt(root: string): Promise<string> {
  const entry = await ensureBuilt(root);
  const { stdout } = await run(process.execPath, [
    '--input-type=module',
    '-e',
    `const { main } = await import(${JSON.stringify(entry)}); console.log(main());`,
  ]);
  return stdout.trim();
}

describe('the compiled build (bin/build.mjs)', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  });

  it('compiles on first use, and again after any source it was built from changes', async () => {
    const { root, write } = project();
    roots.push(root);
    expect(isBuildFresh(root)).toBe(false);
    expect(await runBuilt(root)).toBe('one');
    expect(isBuildFresh(root)).toBe(true);

    write('greeting.ts', "export const greeting: string = 'two';\n");
    expect(isBuildFresh(root)).toBe(false);
    expect(await runBuilt(root)).toBe('two');
    expect(isBuildFresh(root)).toBe(true);
  }, 60_000);

  it('leaves a fresh build alone', async () => {
    const { root } = project();
    roots.push(root);
    await ensureBuilt(root);
    const entry = path.join(root, 'dist', 'chatport.js');
    const before = fs.statSync(entry).mtimeMs;
    await ensureBuilt(root);
    expect(fs.statSync(entry).mtimeMs).toBe(before);
  }, 60_000);

  it('rebuilds when a file of the build is missing', async () => {
    const { root } = project();
    roots.push(root);
    await ensureBuilt(root);
    fs.rmSync(path.join(root, 'dist', 'chatport.js'));
    expect(isBuildFresh(root)).toBe(false);
    expect(await runBuilt(root)).toBe('one');
  }, 60_000);
});
