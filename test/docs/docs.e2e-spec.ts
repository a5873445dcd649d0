import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

// The documentation stays true: README.md is a short front door whose commands exist, every
// relative link and anchor of the docs leads somewhere, the generated tables are what their
// sources generate, and the files docs/architecture.md names for each rule exist.

const repoRoot = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(repoRoot, file), 'utf8');
const docs = ['README.md', 'bench/README.md', ...readdirSync(join(repoRoot, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

/** Markdown without fenced code blocks and inline code (links there are examples, not links). */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors (github-slugger): lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of text.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const heading = (match[1] ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/`/g, '')
      .trim();
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function run(script: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, script), ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('documentation', () => {
  it('keeps README.md a front door under 150 lines whose two commands are the package scripts', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThan(150);
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toContain('scripts/start.mjs');
    expect(scripts.test).toBe('node scripts/test.mjs');
  });

  it('has no relative link or anchor that leads nowhere', () => {
    const broken: string[] = [];
    for (const doc of docs) {
      const text = prose(read(doc));
      for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#', 2) as [string, string | undefined];
        const file = path === '' ? join(repoRoot, doc) : resolve(dirname(join(repoRoot, doc)), decodeURIComponent(path));
        if (!existsSync(file)) {
          broken.push(`${doc}: ${target} (no such file)`);
          continue;
        }
        if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
          broken.push(`${doc}: ${target} (no heading ${relative(repoRoot, file)}#${anchor})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('keeps docs/performance.md what the published bench results generate, and notices a hand edit', () => {
    const check = run('bench/perf-doc.mjs', ['--check']);
    expect(check.output).toContain('up to date');
    expect(check.status).toBe(0);

    const dir = mkdtempSync(join(tmpdir(), 'kw-docs-spec-'));
    try {
      const copy = join(dir, 'performance.md');
      copyFileSync(join(repoRoot, 'docs', 'performance.md'), copy);
      const edited = readFileSync(copy, 'utf8').replace('| encrypt-1k |', '| encrypt-1k (faster) |');
      expect(edited).not.toBe(readFileSync(copy, 'utf8'));
      writeFileSync(copy, edited);
      expect(run('bench/perf-doc.mjs', ['--check', '--doc', copy]).status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the configuration table of docs/configuration.md what the settings schema generates', () => {
    // Reads the compiled schema: e2e specs run after npm run build.
    const check = run('scripts/config-doc.mjs', ['--check']);
    expect(check.output).toContain('up to date');
    expect(check.status).toBe(0);
  });

  it('names files that exist in "Where each rule lives"', () => {
    const text = read('docs/architecture.md');
    const section = text.slice(
      text.indexOf('## Where each rule lives'),
      text.indexOf('\n## ', text.indexOf('## Where each rule lives') + 1),
    );
    const rows = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Rule'));
    expect(rows.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const line of rows) {
      let dir = '';
      for (const [, name = ''] of line.matchAll(/`([\w./-]+\.(?:ts|mjs)|[\w./-]+\/)`/g)) {
        // A bare file name is in the folder of the path named before it in the same row.
        const path = name.includes('/') ? name : join(dir, name);
        if (name.includes('/')) dir = name.endsWith('/') ? name : dirname(name);
        if (!existsSync(join(repoRoot, path))) missing.push(path);
      }
    }
    expect(missing).toEqual([]);
  });
});
