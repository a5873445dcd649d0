// `npm run config:doc`: writes the configuration table of docs/configuration.md (between its
// config-table markers) from the settings schema, the single source. Needs `npm run build` first
// (it reads the compiled schema).
//   --print   print the table instead of writing it
//   --check   write nothing; exit 1 when the document's table differs from the schema's
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { replaceBetweenMarkers } from './lib/markers.mjs';

const require = createRequire(import.meta.url);
const { settingsSchema } = require('../dist/libs/config/src/settings.schema.js');
const doc = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
const { values } = parseArgs({ options: { print: { type: 'boolean', default: false }, check: { type: 'boolean', default: false } } });

const rows = Object.entries(settingsSchema.shape).map(([name, schema]) => {
  const parsed = schema.safeParse(undefined);
  const fallback = parsed.success && parsed.data !== undefined ? `\`${parsed.data}\`` : '—';
  return `| \`${name}\` | ${fallback} | ${schema.description ?? ''} |`;
});
const table = ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');

if (values.print) {
  console.log(table);
} else {
  const before = readFileSync(doc, 'utf8');
  const after = replaceBetweenMarkers(before, 'config-table', table);
  if (values.check) {
    if (after !== before) {
      console.error('config:doc: docs/configuration.md is out of date; run npm run build && npm run config:doc');
      process.exit(1);
    }
    console.log('config:doc: docs/configuration.md is up to date');
  } else if (after === before) {
    console.log('config:doc: docs/configuration.md already up to date');
  } else {
    writeFileSync(doc, after);
    console.log('config:doc: wrote the configuration table of docs/configuration.md');
  }
}
