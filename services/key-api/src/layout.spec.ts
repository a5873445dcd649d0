import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * key-api is organised by feature: a route, its schemas and its command handler live in one folder.
 * Folders depend on each other in one direction only (no arrow runs back up): each may import the
 * folders listed here and no other. A new folder must be placed here before it is used.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  // Left for s16/keys: commit-listeners.ts and domain-problem.ts move to libs/keys and the exception filter.
  commands: [],
  // crypto/ outside the data plane: root key, material, key state, usage (the key core, bound for libs/keys).
  'key-core': ['commands'],
  // The exception filter s16/keys adds (errors/): libs only, usable by every folder.
  errors: [],
  // Wiring shared by every feature: event log module, Caller, decision context, zod pipe, common schemas, view reads.
  platform: ['commands', 'key-core', 'errors'],
  auth: ['key-core', 'errors', 'platform'],
  // How any command becomes an approval request, and how a pending one is answered.
  'dual-control': ['commands', 'errors', 'platform'],
  // The data plane: crypto routes, their schemas and the Fastify server.
  crypto: ['commands', 'key-core', 'errors', 'platform', 'auth'],
  sys: ['key-core', 'errors', 'platform', 'auth'],
  keys: ['commands', 'key-core', 'errors', 'platform', 'auth', 'dual-control'],
  enrollment: ['commands', 'key-core', 'errors', 'platform', 'auth', 'dual-control'],
  principals: ['commands', 'key-core', 'errors', 'platform', 'auth', 'dual-control', 'enrollment'],
  tenants: ['commands', 'key-core', 'errors', 'platform', 'auth', 'dual-control', 'enrollment', 'principals'],
  approvals: ['commands', 'key-core', 'errors', 'platform', 'auth', 'dual-control', 'enrollment'],
  // Grants: who may use which keys (the data plane enforces them through libs/keys).
  grants: ['commands', 'key-core', 'errors', 'platform', 'auth', 'dual-control'],
  // Console sign-in: opens, describes and closes the session the auth folder authenticates.
  session: ['errors', 'platform', 'auth'],
  // The console's static assets and their security headers.
  console: [],
  audit: ['key-core', 'errors', 'platform', 'auth', 'dual-control', 'keys', 'principals', 'approvals', 'grants'],
};
/** The data-plane files of crypto/; the rest of crypto/ is the key core. */
const DATA_PLANE = new Set(['crypto/crypto.routes.ts', 'crypto/data-plane.server.ts', 'crypto/crypto.schema.ts', 'crypto/crypto.batch.ts']);
/** main.ts, key-api.module.ts and openapi.ts assemble everything. */
const ROOT = '.';

const SRC = __dirname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The layout folder of a file of src/ (crypto/ split into the data plane and the key core). */
export function folderOf(file: string): string {
  const path = relative(SRC, file).split('\\').join('/');
  if (!path.includes('/')) return ROOT;
  const top = path.slice(0, path.indexOf('/'));
  if (top === 'crypto' && !DATA_PLANE.has(path.endsWith('.ts') ? path : `${path}.ts`)) return 'key-core';
  return top;
}

/** Every relative import of a file, as the folder it lands in. */
function importedFolders(file: string, text: string): { spec: string; folder: string }[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.\.?\/[^']+)'/g)].map(([, spec]) => ({
    spec: spec!,
    folder: folderOf(resolve(dirname(file), spec!)),
  }));
}

/** The arrows that break the layout, as `file -> import (folder)`. */
export function violations(files: readonly string[], read = (file: string) => readFileSync(file, 'utf8')): string[] {
  const found: string[] = [];
  for (const file of files) {
    const from = folderOf(file);
    if (from === ROOT) continue;
    const allowed = MAY_IMPORT[from];
    for (const { spec, folder } of importedFolders(file, read(file))) {
      if (folder === from) continue;
      if (allowed === undefined) found.push(`${relative(SRC, file)}: folder ${from} is not placed in the layout (MAY_IMPORT)`);
      else if (!allowed.includes(folder)) found.push(`${relative(SRC, file)} -> ${spec} (${from} may not import ${folder})`);
    }
  }
  return found;
}

describe('key-api layout', () => {
  it('no import runs back up: every folder imports only the folders below it', () => {
    expect(violations(sourceFiles(SRC))).toEqual([]);
  });

  it('the allowed arrows form no cycle', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const cycleFrom = (folder: string, path: readonly string[]): string[] | undefined => {
      if (done.has(folder)) return undefined;
      if (visiting.has(folder)) return [...path, folder];
      visiting.add(folder);
      for (const next of MAY_IMPORT[folder] ?? []) {
        const cycle = cycleFrom(next, [...path, folder]);
        if (cycle) return cycle;
      }
      visiting.delete(folder);
      done.add(folder);
      return undefined;
    };
    for (const folder of Object.keys(MAY_IMPORT)) expect(cycleFrom(folder, [])).toBeUndefined();
  });

  it('catches an arrow back up, and a folder the layout does not place', () => {
    const importing = (spec: string) => () => `import { X } from '${spec}';\n`;
    expect(violations([join(SRC, 'auth', 'api-key.strategy.ts')], importing('../keys/keys.controller'))).toEqual([
      'auth/api-key.strategy.ts -> ../keys/keys.controller (auth may not import keys)',
    ]);
    expect(violations([join(SRC, 'crypto', 'usage.recorder.ts')], importing('./crypto.routes'))).toEqual([
      'crypto/usage.recorder.ts -> ./crypto.routes (key-core may not import crypto)',
    ]);
    expect(violations([join(SRC, 'keys', 'keys.controller.ts')], importing('../auth/decorators'))).toEqual([]);
    expect(violations([join(SRC, 'http', 'x.ts')], importing('../platform/caller'))).toEqual([
      'http/x.ts: folder http is not placed in the layout (MAY_IMPORT)',
    ]);
  });
});
