import { randomBytes } from 'node:crypto';
import type { Balancer } from './balancer';

/** A command the balancer acknowledged (2xx with its seq), and during which phase. */
export interface AckedCommand {
  readonly seq: number;
  /** Unique label value of a key creation (`drillop`), absent for a rotation. */
  readonly token?: string;
  readonly phase: string;
  readonly at: number;
}

/** A ciphertext the balancer returned, with its plaintext. */
export interface AckedCiphertext {
  readonly ciphertext: string;
  readonly plaintext: string;
}

export interface Failure {
  readonly at: number;
  readonly phase: string;
  readonly what: string;
}

export interface LoadTargets {
  readonly adminKey: string;
  readonly userKey: string;
  /** Keys that are rotated and used for encryption. */
  readonly keyIds: readonly string[];
}

export interface LoadRates {
  /** A lifecycle command (a key creation with a unique label, or a rotation, in turn). */
  readonly commandEveryMs: number;
  /** An encrypt, then a decrypt of an earlier ciphertext. */
  readonly cryptoEveryMs: number;
  /** A list of the tenant's keys, then a get of one key (none when absent). */
  readonly readEveryMs?: number;
}

/**
 * Step intervals for `rate` requests a second, the soak's mix: 20 % lifecycle commands, 50 %
 * encrypt and decrypt, 30 % list and get (a command is one request, a crypto or read step two).
 */
export function mixedRates(rate: number): LoadRates {
  return { commandEveryMs: 1000 / (0.2 * rate), cryptoEveryMs: 1000 / (0.25 * rate), readEveryMs: 1000 / (0.15 * rate) };
}

/**
 * A steady load through the balancer at `rates` (each loop waits for its answer, so a slow answer
 * slows its loop). Records what was acknowledged and every failed request.
 */
export class DrillLoad {
  readonly commands: AckedCommand[] = [];
  readonly ciphertexts: AckedCiphertext[] = [];
  readonly failures: Failure[] = [];
  requests = 0;
  phase = 'warm-up';
  private running = false;
  private loops: Promise<void>[] = [];
  private counter = 0;

  constructor(
    private readonly balancer: Balancer,
    private readonly targets: LoadTargets,
    private readonly rates: LoadRates,
  ) {}

  start(): void {
    this.running = true;
    this.loops = [this.loop(this.rates.commandEveryMs, () => this.command()), this.loop(this.rates.cryptoEveryMs, () => this.crypto())];
    if (this.rates.readEveryMs !== undefined) this.loops.push(this.loop(this.rates.readEveryMs, () => this.read()));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(everyMs: number, step: () => Promise<void>): Promise<void> {
    while (this.running) {
      const started = Date.now();
      await step();
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - started))));
    }
  }

  private async command(): Promise<void> {
    const n = this.counter++;
    const phase = this.phase;
    if (n % 2 === 0) {
      const token = `c${n}-${randomBytes(3).toString('hex')}`;
      await this.call('create', phase, 'POST', '/v1/keys', this.targets.adminKey, { labels: { drillop: token } }, (body) =>
        this.commands.push({ seq: (JSON.parse(body) as { seq: number }).seq, token, phase, at: Date.now() }),
      );
    } else {
      const keyId = this.targets.keyIds[n % this.targets.keyIds.length]!;
      await this.call('rotate', phase, 'POST', `/v1/keys/${keyId}/rotate`, this.targets.adminKey, undefined, (body) =>
        this.commands.push({ seq: (JSON.parse(body) as { seq: number }).seq, phase, at: Date.now() }),
      );
    }
  }

  private async crypto(): Promise<void> {
    const phase = this.phase;
    const keyId = this.targets.keyIds[this.counter % this.targets.keyIds.length]!;
    const plaintext = randomBytes(24).toString('base64');
    await this.call('encrypt', phase, 'POST', `/v1/keys/${keyId}/encrypt`, this.targets.userKey, { plaintext }, (body) =>
      this.ciphertexts.push({ ciphertext: (JSON.parse(body) as { ciphertext: string }).ciphertext, plaintext }),
    );
    const earlier = this.ciphertexts[Math.floor(Math.random() * this.ciphertexts.length)];
    if (!earlier) return;
    await this.call('decrypt', phase, 'POST', '/v1/decrypt', this.targets.userKey, { ciphertext: earlier.ciphertext }, (body) => {
      if ((JSON.parse(body) as { plaintext: string }).plaintext !== earlier.plaintext)
        throw new Error('decrypt returned another plaintext');
    });
  }

  private async read(): Promise<void> {
    const phase = this.phase;
    await this.call('list', phase, 'GET', '/v1/keys?limit=20', this.targets.adminKey, undefined, () => undefined);
    const keyId = this.targets.keyIds[this.requests % this.targets.keyIds.length]!;
    await this.call('get', phase, 'GET', `/v1/keys/${keyId}`, this.targets.adminKey, undefined, () => undefined);
  }

  private async call(
    what: string,
    phase: string,
    method: string,
    path: string,
    key: string,
    body: unknown,
    onSuccess: (body: string) => void,
  ): Promise<void> {
    this.requests++;
    try {
      const answer = await this.balancer.send(method, path, key, body);
      if (answer.status < 200 || answer.status > 299) throw new Error(`${answer.status} ${answer.body.slice(0, 160)}`);
      onSuccess(answer.body);
    } catch (err: unknown) {
      // A failure counts for the phase it ended in (a request sent just before a fault fails in the fault's phase).
      this.failures.push({ at: Date.now(), phase: this.phase, what: `${what}: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
}
