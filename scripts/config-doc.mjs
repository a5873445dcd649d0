// Prints the README's configuration table from the settings schema (the single source).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { settingsSchema } = require('../dist/libs/config/src/settings.schema.js');

const rows = Object.entries(settingsSchema.shape).map(([name, schema]) => {
  const parsed = schema.safeParse(undefined);
  const fallback = parsed.success && parsed.data !== undefined ? `\`${parsed.data}\`` : '—';
  return `| \`${name}\` | ${fallback} | ${schema.description ?? ''} |`;
});
console.log(['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n'));
