// A scale run's data folder kept between runs (--scale-data-dir): the FerretDB and Kafka data
// (infra/), key-api's and the projector's folder (stack/: root key, TLS, provider-admin key,
// logs) and state.json: the run id (database and topic names), the ports the store and broker
// listened on, and the fill (tenants, their admin keys, keys and last seqs) so that a later run
// goes on filling or measures without filling again. The folder holds a root key and API keys:
// it is written owner-only, and it is a benchmark's, never a deployment's.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const VERSION = 1;

export class ScaleState {
  constructor(dir) {
    this.dir = dir;
    this.file = join(dir, 'state.json');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  get infraDir() {
    return join(this.dir, 'infra');
  }

  get stackDir() {
    return join(this.dir, 'stack');
  }

  /** What an earlier run saved, or null for a new folder. */
  load() {
    if (!existsSync(this.file)) return null;
    const saved = JSON.parse(readFileSync(this.file, 'utf8'));
    if (saved.version !== VERSION) throw new Error(`${this.file}: state version ${saved.version}, this bench reads ${VERSION}`);
    this.saved = saved;
    return saved;
  }

  /** Merges `part` into the saved state and writes it (atomically: a new file renamed over the old). */
  save(part) {
    this.saved = { ...this.saved, ...part, version: VERSION, updatedAt: new Date().toISOString() };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.saved) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
