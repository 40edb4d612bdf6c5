/** True when dist/ holds a build of exactly the files it was built from, as they are now. */
export function isBuildFresh(root?: string): boolean;
/** Compiles src/ into dist/ unconditionally; resolves with the entry's path. */
export function build(root?: string): Promise<string>;
/** The file URL of dist/chatport.js, built first unless it is fresh. */
export function ensureBuilt(root?: string): Promise<string>;
