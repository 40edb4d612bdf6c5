#!/usr/bin/env node
/**
 * Compiles src/ into dist/: one ES module bundle (esbuild), split so that `chatport worker` never loads
 * the HTTP stack, with source maps. The dependencies are bundled too: a worker then holds one module
 * instead of hundreds (Kysely alone is 260 modules), 30 MB less than loading them from node_modules.
 * Left out: better-sqlite3 (a native addon, found from dist/ in node_modules) and pg's optional
 * pg-native.
 *
 * bin/chatport.mjs calls ensureBuilt() on every start: dist/build-info.json records the size and
 * modification time of every file the bundle was built from, and any change rebuilds it first (a few
 * hundred milliseconds), so a process never runs code older than its sources. `node bin/build.mjs`
 * (`npm run build`) builds unconditionally.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const THIS_FILE = fileURLToPath(import.meta.url);

/** Not bundled: a native addon, and an optional native driver pg asks for only when told to. */
const EXTERNAL = ['better-sqlite3', 'pg-native'];

/** CommonJS dependencies call require(); an ES module has none of its own. */
const REQUIRE_SHIM =
  'import { createRequire as __chatportCreateRequire } from "node:module"; ' +
  'const require = __chatportCreateRequire(import.meta.url);';

/** File times come from a coarser clock than Date.now(): a file written at the start may look older by this. */
const CLOCK_SLACK_MILLIS = 50;

/** Chunks no build references any more are removed once this old (a process may still be loading them). */
const STALE_CHUNK_MILLIS = 10 * 60 * 1000;

const paths = (root) => ({
  dist: path.join(root, 'dist'),
  entry: path.join(root, 'dist', 'chatport.js'),
  info: path.join(root, 'dist', 'build-info.json'),
});

/** True when dist/ holds a build of exactly the files it was built from, as they are now. */
export function isBuildFresh(root = ROOT) {
  const { entry, info } = paths(root);
  let inputs;
  try {
    inputs = JSON.parse(fs.readFileSync(info, 'utf8')).inputs;
  } catch {
    return false;
  }
  if (!fs.existsSync(entry) || typeof inputs !== 'object' || inputs === null) return false;
  for (const [file, [mtimeMs, size]] of Object.entries(inputs)) {
    let stat;
    try {
      stat = fs.statSync(path.join(root, file));
    } catch {
      return false;
    }
    if (stat.mtimeMs !== mtimeMs || stat.size !== size) return false;
  }
  return true;
}

/** Writes `contents` to `file` through a temporary name: a concurrent reader sees the old or the new file. */
function writeAtomically(file, contents) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, file);
}

/**
 * The CLI, and the importer's parser thread as an entry of its own: its modules then form a chunk
 * without the HTTP stack, the database drivers or Kysely, which is what a parser thread loads
 * (src/modules/imports/import-parser-thread.ts loads the chunk it finds itself in).
 */
const PARSER_THREAD = 'src/modules/imports/import-parser-thread.ts';

function entryPoints(root) {
  const entries = { chatport: 'src/cli.ts' };
  if (fs.existsSync(path.join(root, PARSER_THREAD))) entries['import-parser-thread'] = PARSER_THREAD;
  return entries;
}

/** The build under way in this process, if any. */
let building = Promise.resolve();

/**
 * Compiles src/cli.ts and everything it imports into dist/chatport.js (and dist/chunks/), then records
 * the inputs in dist/build-info.json. Safe to run from several processes at once: each output file
 * replaces the last whole, chunks (named by content) before the entry that imports them, the record last.
 */
export function build(root = ROOT) {
  // One at a time in a process: each stops esbuild's service when done, which would fail another's.
  const result = building.then(() => compile(root));
  building = result.catch(() => undefined);
  return result;
}

async function compile(root) {
  const { dist, entry, info } = paths(root);
  const esbuild = await import('esbuild');
  const startedAt = Date.now();
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: entryPoints(root),
    outdir: dist,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    banner: { js: REQUIRE_SHIM },
    sourcemap: true,
    // Stack traces need only the mappings; the sources are in src/. Smaller maps load faster.
    sourcesContent: false,
    metafile: true,
    write: false,
    logLevel: 'error',
  });
  // The service process esbuild started is not needed again by this process.
  await esbuild.stop();
  const outputs = [...result.outputFiles].sort((a, b) => rank(a.path, entry) - rank(b.path, entry));
  for (const file of outputs) writeAtomically(file.path, file.contents);

  const inputs = {};
  const inputFiles = [...Object.keys(result.metafile.inputs), path.relative(root, THIS_FILE)];
  // npm may give installed files one fixed modification time; its record of the install changes.
  const installRecord = path.join('node_modules', '.package-lock.json');
  if (fs.existsSync(path.join(root, installRecord))) inputFiles.push(installRecord);
  for (const file of inputFiles) {
    let stat;
    try {
      stat = fs.statSync(path.join(root, file));
    } catch {
      continue;
    }
    if (!stat.isFile()) continue;
    // Changed while esbuild was reading it: what was bundled may be either version, so build again next time.
    inputs[file] = [stat.mtimeMs >= startedAt - CLOCK_SLACK_MILLIS ? -1 : stat.mtimeMs, stat.size];
  }
  writeAtomically(info, `${JSON.stringify({ esbuild: esbuild.version, inputs })}\n`);
  removeStaleChunks(path.join(dist, 'chunks'), new Set(outputs.map((file) => file.path)));
  return entry;
}

/** Chunks first, the entry's source map, the entry last. */
function rank(file, entry) {
  if (file === entry) return 2;
  return file === `${entry}.map` ? 1 : 0;
}

function removeStaleChunks(directory, current) {
  let names;
  try {
    names = fs.readdirSync(directory);
  } catch {
    return;
  }
  for (const name of names) {
    const file = path.join(directory, name);
    if (current.has(file)) continue;
    try {
      if (Date.now() - fs.statSync(file).mtimeMs > STALE_CHUNK_MILLIS) fs.rmSync(file, { force: true });
    } catch {
      // Removed by another build meanwhile.
    }
  }
}

/** The file URL of dist/chatport.js, built first unless it is fresh. */
export async function ensureBuilt(root = ROOT) {
  const { entry } = paths(root);
  if (!isBuildFresh(root)) await build(root);
  return pathToFileURL(entry).href;
}

if (process.argv[1] && path.resolve(process.argv[1]) === THIS_FILE) {
  await build();
}
