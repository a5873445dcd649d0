import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { BSON } from 'mongodb';

const OP_MSG = 2013;

export interface TappedCommand {
  /** The command's name (`find`, `insert`, ...). */
  readonly name: string;
  /** The collection it names, when its first field's value is a string. */
  readonly collection: string | undefined;
  /** Its filter (`filter` of find, `query` of distinct and count, `q` of the first update or delete). */
  readonly filter: Readonly<Record<string, unknown>> | undefined;
}

const filterOf = (body: Record<string, unknown>): Record<string, unknown> | undefined => {
  const statements = (body.updates ?? body.deletes) as { q?: Record<string, unknown> }[] | undefined;
  return (body.filter ?? body.query ?? statements?.[0]?.q) as Record<string, unknown> | undefined;
};

/**
 * A TCP proxy in front of MongoDB/FerretDB that records the name and collection of every command
 * a client process sends (OP_MSG body sections; uncompressed wire traffic, the driver's default),
 * so that a spec can show what a real service process reads from the store.
 */
export class MongoCommandTap {
  readonly commands: TappedCommand[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private port = 0;

  private constructor(private readonly target: URL) {
    this.server = createServer((client) => this.relay(client));
  }

  static async start(targetUri: string): Promise<MongoCommandTap> {
    const tap = new MongoCommandTap(new URL(targetUri));
    await new Promise<void>((resolve) => tap.server.listen(0, '127.0.0.1', resolve));
    const address = tap.server.address();
    if (address === null || typeof address === 'string') throw new Error('the tap did not bind a TCP port');
    tap.port = address.port;
    return tap;
  }

  /** The URI a service should use instead of the target's. */
  get uri(): string {
    return `mongodb://127.0.0.1:${this.port}/?directConnection=true`;
  }

  /** Commands recorded from now on only. */
  reset(): void {
    this.commands.length = 0;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    const upstream = createConnection(Number(this.target.port || 27017), this.target.hostname);
    this.sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 16 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        const command = commandOf(pending.subarray(0, length));
        if (command) this.commands.push(command);
        pending = pending.subarray(length);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }
}

function commandOf(message: Buffer): TappedCommand | undefined {
  if (message.readInt32LE(12) !== OP_MSG) return undefined;
  let offset = 20; // header (16) + flagBits (4)
  while (offset < message.length) {
    const kind = message.readUInt8(offset);
    offset += 1;
    const size = message.readInt32LE(offset);
    if (kind === 0) {
      const body = BSON.deserialize(message.subarray(offset, offset + size));
      const name = Object.keys(body)[0];
      if (name === undefined) return undefined;
      const value: unknown = body[name];
      return { name, collection: typeof value === 'string' ? value : undefined, filter: filterOf(body) };
    }
    offset += size;
  }
  return undefined;
}
