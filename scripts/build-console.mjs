// Builds the web console into dist/console (served by key-api at /console): its TypeScript compiled
// to plain ES modules by tsc (no bundler, no runtime dependency), its HTML and CSS copied as they are.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const source = join(root, 'services', 'key-api', 'console');
const out = join(root, 'dist', 'console');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(source, 'tsconfig.json')], { stdio: 'inherit' });
for (const file of ['index.html', 'console.css']) copyFileSync(join(source, file), join(out, file));
