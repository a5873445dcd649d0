import { readFileSync } from 'node:fs';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { decodeTtlv, encodeTtlv, Tag, ttlv, ttlvFrameLength, type TtlvItem } from '@keyward/kmip';

/** A bare KMIP client over TLS built on Keyward's own codec, for what PyKMIP cannot send (2.0, malformed bytes). */
export class TtlvClient {
  private buffered = Buffer.alloc(0);
  private waiting: ((frame: Buffer | null) => void) | undefined;
  private closed = false;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.deliver();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.(null);
    });
    socket.on('error', () => undefined);
  }

  /** `tls`: further connection options (e.g. `maxVersion` to play an old client). */
  static open(port: number, ca: string, cert?: [string, string], tls: ConnectionOptions = {}): Promise<TtlvClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        ca: readFileSync(ca),
        ...(cert ? { cert: readFileSync(cert[0]), key: readFileSync(cert[1]) } : {}),
        checkServerIdentity: () => undefined,
        ...tls,
      });
      socket.once('secureConnect', () => resolve(new TtlvClient(socket)));
      socket.once('error', reject);
    });
  }

  private deliver(): void {
    if (!this.waiting || this.buffered.length < 8) return;
    const length = ttlvFrameLength(this.buffered.subarray(0, 8));
    if (this.buffered.length < length) return;
    const frame = this.buffered.subarray(0, length);
    this.buffered = this.buffered.subarray(length);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting(frame);
  }

  /** Sends raw bytes; answers the decoded response, or null when the server closed the connection instead. */
  send(bytes: Buffer): Promise<TtlvItem | null> {
    return new Promise((resolve) => {
      this.waiting = (frame) => resolve(frame ? decodeTtlv(frame) : null);
      if (this.closed) this.waiting(null);
      else this.socket.write(bytes);
      this.deliver();
    });
  }

  /** Waits for the next response without sending anything (for pipelined requests). */
  receive(): Promise<TtlvItem | null> {
    return new Promise((resolve) => {
      this.waiting = (frame) => resolve(frame ? decodeTtlv(frame) : null);
      if (this.closed) this.waiting(null);
      this.deliver();
    });
  }

  request(version: [number, number], items: [number, TtlvItem[]][]): Promise<TtlvItem | null> {
    return this.send(encodeTtlv(requestMessage(version, items)));
  }

  close(): void {
    this.socket.destroy();
  }
}

export function requestMessage(version: [number, number], items: [number, TtlvItem[]][]): TtlvItem {
  return ttlv.struct(Tag.RequestMessage, [
    ttlv.struct(Tag.RequestHeader, [
      ttlv.struct(Tag.ProtocolVersion, [ttlv.int(Tag.ProtocolVersionMajor, version[0]), ttlv.int(Tag.ProtocolVersionMinor, version[1])]),
      ttlv.int(Tag.BatchCount, items.length),
    ]),
    ...items.map(([operation, payload], i) =>
      ttlv.struct(Tag.BatchItem, [
        ttlv.enum(Tag.Operation, operation),
        ttlv.bytes(Tag.UniqueBatchItemId, Buffer.from([i])),
        ttlv.struct(Tag.RequestPayload, payload),
      ]),
    ),
  ]);
}
