// A FerretDB and a Kafka of the bench's own, started with the project's scripts
// (infra/ferretdb/ferretdb.sh, infra/kafka/kafka.sh) on free ports with a KEYWARD_DATA of their
// own: the scale scenario measures the store's size on disk and the idle CPU of every process,
// which a store and a broker shared with other work would blur. Stopped (and their data removed,
// unless persistent: a scale run kept for a later one) by stop(); the scripts' pid files name
// exactly the processes started here.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { freePort, repoRoot } from './util.mjs';

function script(component, verb, env) {
  const result = spawnSync('bash', [join(repoRoot, 'infra', component, `${component}.sh`), verb], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { code: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

const pidIn = (dataDir, name) => {
  try {
    return Number(readFileSync(join(dataDir, 'run', `${name}.pid`), 'utf8').trim()) || null;
  } catch {
    return null;
  }
};

/** Whether 127.0.0.1:<port> can be listened on now. */
const portFree = (port) =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

export class OwnInfra {
  /**
   * @param persistent keep the data on stop() (and the logs)
   * @param ports { mongo, kafka, controller } of an earlier start on the same data, reused when free
   */
  constructor(dataDir, { persistent = false, ports } = {}) {
    this.dataDir = dataDir;
    this.persistent = persistent;
    this.wantedPorts = ports;
    this.started = [];
  }

  /** Starts FerretDB, then Kafka; throws with the script's output when one does not come up. */
  async start() {
    const wanted = this.wantedPorts;
    const reuse = wanted && (await portFree(wanted.mongo)) && (await portFree(wanted.kafka)) && (await portFree(wanted.controller));
    const [mongoPort, kafkaPort, controllerPort] = reuse
      ? [wanted.mongo, wanted.kafka, wanted.controller]
      : [await freePort(), await freePort(), await freePort()];
    this.ports = { mongo: mongoPort, kafka: kafkaPort, controller: controllerPort };
    this.env = {
      KEYWARD_DATA: this.dataDir,
      MONGO_PORT: String(mongoPort),
      KAFKA_PORT: String(kafkaPort),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_SECURE: '0',
    };
    for (const component of ['ferretdb', 'kafka']) {
      const { code, output } = script(component, 'start', this.env);
      if (code !== 0) throw new Error(`${component} of the bench's own did not start (exit ${code}):\n${output.slice(-2000)}`);
      this.started.push(component);
    }
    return {
      KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      MONGODB_URI: `mongodb://127.0.0.1:${mongoPort}`,
    };
  }

  get pids() {
    return { ferretdb: pidIn(this.dataDir, 'ferretdb'), kafka: pidIn(this.dataDir, 'kafka') };
  }

  /** FerretDB's SQLite directory (ferretdb.sh: $KEYWARD_DATA/ferretdb/data). */
  get storeDir() {
    return join(this.dataDir, 'ferretdb', 'data');
  }

  /** Stops what start() started (by the scripts' pid files) and removes its data. */
  stop({ keepLogs = false } = {}) {
    for (const component of [...this.started].reverse()) {
      const { code, output } = script(component, 'stop', this.env);
      if (code !== 0) console.error(`bench: stopping the bench's ${component}: ${output.slice(-500)}`);
    }
    this.started = [];
    if (this.persistent) {
      // Kept for a later run.
    } else if (keepLogs) {
      for (const dir of ['ferretdb', 'kafka', 'run']) rmSync(join(this.dataDir, dir), { recursive: true, force: true });
    } else {
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}
