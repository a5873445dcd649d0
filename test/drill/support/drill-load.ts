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

/**
 * A steady load through the balancer: a lifecycle command every `commandEveryMs` (key creations
 * with a unique label, and rotations, in turn) and an encrypt then a decrypt of an earlier
 * ciphertext every `cryptoEveryMs`. Records what was acknowledged and every failed request.
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
    private readonly rates: { readonly commandEveryMs: number; readonly cryptoEveryMs: number },
  ) {}

  start(): void {
    this.running = true;
    this.loops = [this.loop(this.rates.commandEveryMs, () => this.command()), this.loop(this.rates.cryptoEveryMs, () => this.crypto())];
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
