import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { ensureServerTls } from '@keyward/crypto';
import { decodeTtlv, encodeTtlv, KmipDecodeError, ttlvFrameLength, type TtlvLimits } from '@keyward/kmip';
import { KEYWARD_CONFIG } from '@keyward/platform';
import { identityOf } from './kmip-principal';
import { KmipMetrics } from './kmip.metrics';
import { KmipOperations } from './kmip.operations';

/** A connection that sends nothing for this long is closed (also bounds a slowly trickled message). */
const IDLE_MS = 120_000;
const HEADER = 8;
/** Requests read ahead of their answers, per connection, before the socket is paused. */
const MAX_PENDING = 8;

/**
 * KMIP over mutual TLS: every client presents a certificate issued by a CA of KMIP_CLIENT_CA (the
 * handshake fails otherwise). Requests are handled one at a time per connection, in order.
 */
@Injectable()
export class KmipServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('kmip-server');
  private server: Server | undefined;
  private readonly sockets = new Set<TLSSocket>();
  private readonly limits: TtlvLimits;

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly operations: KmipOperations,
    @Optional() private readonly metrics?: KmipMetrics,
  ) {
    this.limits = { maxMessageBytes: config.kmip.maxMessageBytes, maxDepth: config.kmip.maxDepth };
  }

  async onApplicationBootstrap(): Promise<void> {
    const { kmip } = this.config;
    if (kmip.clientCaFile === null) throw new Error('KMIP_CLIENT_CA is required in production (every KMIP client presents a certificate)');
    let cert: Buffer;
    let key: Buffer;
    if ('certFile' in kmip.tls) {
      cert = readFileSync(kmip.tls.certFile);
      key = readFileSync(kmip.tls.keyFile);
    } else {
      if (this.config.env === 'production') throw new Error('KMIP_TLS_CERT and KMIP_TLS_KEY are required in production');
      // key-api generates the development CA and server certificate in the same folder: give it a
      // moment on a first start, so that two processes do not each make a CA.
      const dir = kmip.tls.generated;
      for (let i = 0; i < 40 && !['ca.crt', 'server.crt', 'server.key'].every((f) => existsSync(join(dir, f))); i++) await delay(500);
      ({ cert, key } = await ensureServerTls(dir, kmip.host));
    }
    const ca = readFileSync(kmip.clientCaFile);
    this.server = createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, (socket) =>
      this.serve(socket),
    );
    this.server.on('tlsClientError', (err: Error) => {
      this.metrics?.connections.inc({ outcome: 'refused' });
      this.logger.debug(`TLS handshake refused: ${err.message}`);
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(kmip.port, kmip.host, () => resolve());
    });
    this.logger.log(`kmip listening on ${kmip.host}:${kmip.port} (mutual TLS, client CA ${kmip.clientCaFile})`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const socket of this.sockets) socket.end();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
        resolve();
      }, 2_000).unref();
    });
  }

  /** Whether the KMIP port accepts connections (a readiness check). */
  get listening(): boolean {
    return this.server?.listening === true;
  }

  private serve(socket: TLSSocket): void {
    this.sockets.add(socket);
    this.metrics?.connections.inc({ outcome: 'accepted' });
    this.metrics?.openConnections.inc();
    socket.setNoDelay(true); // one response per request: do not let Nagle hold its last segment
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.metrics?.openConnections.dec();
    });
    socket.on('error', (err: Error) => this.logger.debug(`connection error: ${err.message}`));
    const identity = socket.authorized ? identityOf(socket.getPeerCertificate()) : 'the client certificate is not trusted';
    let buffered: Buffer = Buffer.alloc(0);
    let busy = Promise.resolve();
    let pending = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      for (;;) {
        if (buffered.length < HEADER) return;
        let length: number;
        try {
          length = ttlvFrameLength(buffered.subarray(0, HEADER), this.limits);
        } catch (err: unknown) {
          // Framing is lost: answer once, then close.
          this.reply(socket, KmipOperations.invalidMessage(err instanceof KmipDecodeError ? err.message : 'invalid message'));
          socket.end();
          socket.pause();
          buffered = Buffer.alloc(0);
          return;
        }
        if (buffered.length < length) return;
        const frame = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        // Requests are answered in order; a client that sends faster than it reads is paused.
        pending++;
        if (pending >= MAX_PENDING) socket.pause();
        busy = busy
          .then(async () => {
            await this.answer(socket, frame, identity);
            if (--pending < MAX_PENDING && !socket.destroyed && !socket.writableEnded) socket.resume();
          })
          .catch((err: unknown) => {
            this.logger.error(`KMIP connection failed: ${String(err)}`);
            socket.destroy();
          });
      }
    });
  }

  private async answer(socket: TLSSocket, frame: Buffer, identity: ReturnType<typeof identityOf>): Promise<void> {
    if (socket.destroyed) return;
    let message;
    try {
      message = decodeTtlv(frame, this.limits);
    } catch (err: unknown) {
      this.reply(socket, KmipOperations.invalidMessage(err instanceof KmipDecodeError ? err.message : 'invalid message'));
      socket.end();
      return;
    }
    const scrub: Buffer[] = [];
    const response = await this.operations.handle(message, identity, scrub);
    this.reply(socket, response, scrub);
    if (typeof identity === 'string') socket.end();
  }

  /**
   * Writes one response. Key material in it (`scrub`: the raw copies, and then the encoded
   * message) is zeroed once TLS has taken the bytes, or at once when they cannot be sent.
   */
  private reply(socket: TLSSocket, response: Parameters<typeof encodeTtlv>[0], scrub: Buffer[] = []): void {
    const encoded = encodeTtlv(response);
    for (const b of scrub) b.fill(0);
    const wipe = (): void => {
      if (scrub.length > 0) encoded.fill(0);
    };
    if (!socket.destroyed && socket.writable) socket.write(encoded, wipe);
    else wipe();
  }
}
