// Shared plumbing of the keyward CLI: argument parsing, help, the key-api connection, output.
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

export const EX_USAGE = 64;
/** Exit code of a check that ran and found a problem (audit verify, replay): distinct from an error (1). */
export const EX_CHECK_FAILED = 2;

export class UsageError extends Error {}

const require = createRequire(import.meta.url);

/** A module of the built tree (dist/), with a clear message when it was not built. */
export function loadDist(relative) {
  const path = new URL(`../../../dist/${relative}`, import.meta.url).pathname;
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run build" in the Keyward folder first`);
  return require(path);
}

/** A dependency from the package's node_modules (kafkajs, mongodb, cli-progress). */
export function loadPackage(name) {
  return require(name);
}

export function parse(args, options, { positionals = false } = {}) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: positionals });
  } catch (err) {
    throw new UsageError(err.message);
  }
}

export function wholeNumber(name, text, { min = 0 } = {}) {
  if (text === undefined) throw new UsageError(`--${name} is required`);
  if (!/^[0-9]+$/.test(text) || Number(text) < min)
    throw new UsageError(`--${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, not "${text}"`);
  return Number(text);
}

/** Options every verb that talks to key-api takes. */
export const CONNECTION_OPTIONS = {
  url: { type: 'string', value: 'URL', description: 'key-api base URL, e.g. https://127.0.0.1:8443 (or KEYWARD_URL)' },
  'api-key': { type: 'string', value: 'KEY', description: 'API key of the principal to act as (or KEYWARD_API_KEY)' },
  ca: { type: 'string', value: 'FILE', description: 'CA certificate to trust for https, e.g. .keyward/tls/ca.crt (or KEYWARD_CA)' },
  cert: { type: 'string', value: 'FILE', description: 'client certificate (PEM) for mutual TLS (or KEYWARD_CERT)' },
  'cert-key': { type: 'string', value: 'FILE', description: 'private key of --cert (or KEYWARD_CERT_KEY)' },
  json: { type: 'boolean', description: "print the key-api's JSON answer (for scripts)" },
};

/** The key-api to talk to, from the options or the environment. */
export function connection(values, { apiKey = true } = {}) {
  const url = values.url ?? process.env.KEYWARD_URL;
  if (!url) throw new UsageError('--url is required (the key-api base URL, e.g. https://127.0.0.1:8443)');
  let base;
  try {
    base = new URL(url);
  } catch {
    throw new UsageError(`--url is not a URL: ${url}`);
  }
  const caFile = values.ca ?? process.env.KEYWARD_CA;
  const certFile = values.cert ?? process.env.KEYWARD_CERT;
  const certKeyFile = values['cert-key'] ?? process.env.KEYWARD_CERT_KEY;
  if ((certFile === undefined || certFile === '') !== (certKeyFile === undefined || certKeyFile === '')) {
    throw new UsageError('--cert and --cert-key go together');
  }
  const key = values['api-key'] ?? process.env.KEYWARD_API_KEY;
  if (apiKey && !key) throw new UsageError('--api-key is required (or set KEYWARD_API_KEY)');
  return {
    base,
    ca: caFile ? readFileSync(caFile) : undefined,
    cert: certFile ? readFileSync(certFile) : undefined,
    certKey: certKeyFile ? readFileSync(certKeyFile) : undefined,
    apiKey: key || undefined,
  };
}

function send(target, method, path, { body, headers = {}, onResponse }) {
  const url = new URL(path, target.base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const allHeaders = {
    accept: 'application/json',
    ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}),
    ...headers,
  };
  const tls = {
    ...(target.ca ? { ca: target.ca } : {}),
    ...(target.cert ? { cert: target.cert, key: target.certKey } : {}),
  };
  const transport = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolvePromise, reject) => {
    const req = transport(url, { method, headers: allHeaders, timeout: 300_000, ...tls }, (res) => onResponse(res, resolvePromise, reject));
    req.on('timeout', () => req.destroy(new Error('no answer within 300 s')));
    req.on('error', (err) => reject(new Error(`cannot reach ${url.origin}: ${err.message}`)));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Reads an answer whole: `{status, headers, json, text}` (json undefined when the body is not JSON). */
function readWhole(res, resolvePromise, reject) {
  const chunks = [];
  res.on('data', (c) => chunks.push(c));
  res.on('error', reject);
  res.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, json, text });
  });
}

/** One request; the whole answer in memory: `{status, headers, json, text}`. */
export function call(target, method, path, { body, headers } = {}) {
  return send(target, method, path, {
    body,
    headers,
    onResponse: readWhole,
  });
}

/** One request whose 2xx body is handed over as the response stream (for exports); other answers are read whole. */
export function stream(target, method, path) {
  return send(target, method, path, {
    headers: { accept: '*/*' },
    onResponse: (res, resolvePromise, reject) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return resolvePromise({ status, headers: res.headers, body: res });
      return readWhole(res, resolvePromise, reject);
    },
  });
}

/** The error for a refused request: status, problem slug and detail. */
export function refused(answer) {
  const doc = answer.json ?? {};
  const slug = typeof doc.type === 'string' ? doc.type.replace('urn:keyward:problem:', '') : 'error';
  return new Error(`refused (${answer.status} ${slug}): ${doc.detail ?? doc.title ?? answer.text}`);
}

/** Calls and insists on a 2xx answer; returns it. */
export async function expectOk(target, method, path, options) {
  const answer = await call(target, method, path, options);
  if (answer.status < 200 || answer.status >= 300) throw refused(answer);
  return answer;
}

/** A query string from the defined entries. */
export function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== false);
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
}

/** A key id or `alias/<name>`, as one path segment. */
export const keyPath = (ref) => encodeURIComponent(ref);

/** Prints rows as aligned columns under a header. */
export function table(rows, columns) {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map(([, get]) => String(get(row) ?? '')));
  const widths = columns.map(([title], i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (values) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([title]) => title.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Prints the JSON (for --json) or the text a verb makes of it. */
export function output(values, json, text) {
  console.log(values.json ? JSON.stringify(json) : typeof text === 'function' ? text(json) : text);
}

/** Follows nextCursor pages while --all asks for them; returns `{items, nextCursor}`. */
export async function pages(target, path, params, all) {
  const items = [];
  let cursor = params.cursor;
  for (;;) {
    const answer = await expectOk(target, 'GET', `${path}${query({ ...params, cursor })}`);
    items.push(...answer.json.items);
    cursor = answer.json.nextCursor;
    if (!all || !cursor) return { items, nextCursor: cursor ?? null };
  }
}

/** Renders the help of a verb from its definition. */
export function verbHelp(group, name, verb) {
  const lines = [`Usage: keyward ${group} ${name}${verb.args ? ` ${verb.args}` : ''} [options]`, '', verb.summary];
  if (verb.details) lines.push('', verb.details);
  const render = (opts) =>
    Object.entries(opts).map(([opt, o]) => {
      const left = `  --${opt}${o.value ? ` ${o.value}` : ''}`;
      return `${left.padEnd(30)}${o.description ?? ''}`;
    });
  if (verb.options && Object.keys(verb.options).length > 0) lines.push('', 'Options:', ...render(verb.options));
  if (verb.connection !== false) lines.push('', 'Connection:', ...render(CONNECTION_OPTIONS));
  return lines.join('\n');
}

/** Renders the help of a command group. */
export function groupHelp(group, summary, verbs) {
  const width = Math.max(...Object.keys(verbs).map((v) => v.length)) + 4;
  return [
    `Usage: keyward ${group} <verb> [options]`,
    '',
    summary,
    '',
    ...Object.entries(verbs).map(([name, verb]) => `  ${name.padEnd(width)}${verb.summary}`),
    '',
    `Run "keyward ${group} <verb> --help" for the options of a verb.`,
  ].join('\n');
}

/**
 * Runs `keyward <group> <verb> ...` for a group of verbs: help for the group and every verb, parsing
 * (connection options included unless the verb says otherwise), and the verb itself.
 */
export async function runGroup(group, summary, verbs, args) {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return console.log(groupHelp(group, summary, verbs));
  const verb = verbs[name];
  if (!verb) throw new UsageError(`unknown command "${group} ${name}"`);
  const options = Object.fromEntries(
    Object.entries({ ...(verb.connection === false ? {} : CONNECTION_OPTIONS), ...(verb.options ?? {}) }).map(([opt, o]) => [
      opt,
      { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) },
    ]),
  );
  const { values, positionals } = parse(rest, options, { positionals: true });
  if (values.help) return console.log(verbHelp(group, name, verb));
  const expected = verb.args ? verb.args.split(' ').filter((a) => a.startsWith('<')).length : 0;
  const optional = verb.args ? verb.args.split(' ').filter((a) => a.startsWith('[')).length : 0;
  if (positionals.length < expected || positionals.length > expected + optional) {
    throw new UsageError(`keyward ${group} ${name} takes ${verb.args ?? 'no arguments'}`);
  }
  return verb.run({ values, positionals, target: verb.connection === false ? undefined : () => connection(values, verb.connection ?? {}) });
}

/** A progress bar on standard error when it is a terminal (never mixed into standard output). */
export function progressBar(format, total) {
  if (!process.stderr.isTTY) return { update() {}, increment() {}, setTotal() {}, stop() {} };
  const { SingleBar, Presets } = loadPackage('cli-progress');
  const bar = new SingleBar({ format, stream: process.stderr, hideCursor: true, etaBuffer: 50, fps: 10 }, Presets.shades_classic);
  bar.start(total, 0);
  return bar;
}
