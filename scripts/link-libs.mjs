// After `tsc`, make `require('@keyward/<lib>')` resolve inside dist/ without workspaces or
// runtime path hooks: Node walks up from dist/services/... and finds dist/node_modules/@keyward.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
for (const lib of readdirSync(join(root, 'libs'))) {
  const dir = join(root, 'dist', 'node_modules', '@keyward', lib);
  mkdirSync(dir, { recursive: true });
  const pkg = { name: `@keyward/${lib}`, private: true, main: `../../../libs/${lib}/src/index.js` };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
}
