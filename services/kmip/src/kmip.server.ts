import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { ensureServerTls } from '@keyward/crypto';
import { decodeTtlv, KmipDecodeError, type TtlvItem, type TtlvLimits } from '@keyward/kmip';
import { KEYWARD_CONFIG } from '@keyward/platform';
import { ConnectionCaps } from './kmip-connection-caps';
import { FrameReader } from './kmip-frame-reader';
import { identityOf } from './kmip-principal';
import { writeResponse } from './kmip-reply';
import { KmipMetrics } from './kmip.metrics';
import { KmipOperations } from './kmip.operations';

/** A connection closed for a reason gets this long to take its last answer before it is destroyed. */
const CLOSE_GRACE_MS = 2_000;
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
  private readonly caps: ConnectionCaps;

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly operations: KmipOperations,
    @Optional() private readonly metrics?: KmipMetrics,
  ) {
    this.limits = { maxMessageBytes: config.kmip.maxMessageBytes, maxDepth: config.kmip.maxDepth };
    this.caps = new ConnectionCaps(config.kmip.maxConnectionsPerCert);
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
    this.server = createServer(
      {
        cert,
        key,
        ca,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: kmip.tlsMinVersion,
        handshakeTimeout: kmip.readTimeoutMs,
      },
      (socket) => this.serve(socket),
    );
    // The overall cap, before any TLS work: Node closes a connection over it as soon as it is accepted.
    this.server.maxConnections = kmip.maxConnections;
    this.server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      this.metrics?.connections.inc({ outcome: 'over-limit' });
      this.logger.warn(
        `KMIP connection from ${data?.remoteAddress}:${data?.remotePort} refused: ${kmip.maxConnections} connections are open`,
      );
    });
    this.server.on('tlsClientError', (err: Error) => {
      this.metrics?.connections.inc({ outcome: 'refused' });
      this.logger.debug(`TLS handshake refused: ${err.message}`);
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(kmip.port, kmip.host, () => resolve());
    });
    this.logger.log(`kmip listening on ${kmip.host}:${kmip.port} (mutual TLS from ${kmip.tlsMinVersion}, client CA ${kmip.clientCaFile})`);
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
    const { kmip } = this.config;
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err: Error) => this.logger.debug(`connection error: ${err.message}`));
    // The per-certificate cap, before anything is read from the connection.
    const fingerprint = (socket.getPeerCertificate().fingerprint256 as string | undefined) ?? 'none';
    const release = this.caps.acquire(fingerprint);
    if (release === undefined) {
      this.metrics?.connections.inc({ outcome: 'over-limit' });
      this.logger.warn(`KMIP connection from ${peer} refused: its certificate ${fingerprint} has ${kmip.maxConnectionsPerCert} open`);
      socket.destroy();
      return;
    }
    this.metrics?.connections.inc({ outcome: 'accepted' });
    this.metrics?.openConnections.inc();
    socket.on('close', () => {
      release();
      this.metrics?.openConnections.dec();
    });
    socket.setNoDelay(true); // one response per request: do not let Nagle hold its last segment
    let closing = false;
    /** Closes the connection for a reason (logged): answers it first when `answer` is given. */
    const close = (reason: string, answer?: TtlvItem): void => {
      if (closing) return;
      closing = true;
      this.logger.warn(`closing KMIP connection from ${peer}: ${reason}`);
      if (answer) this.reply(socket, answer);
      socket.pause();
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    };
    socket.setTimeout(kmip.idleTimeoutMs, () => close(`idle for ${kmip.idleTimeoutMs / 1000} s`));
    const identity = socket.authorized ? identityOf(socket.getPeerCertificate()) : 'the client certificate is not trusted';
    const reader = new FrameReader(this.limits);
    // A started message must be complete within the read timeout (an idle timer alone lets a client trickle bytes).
    let readTimer: NodeJS.Timeout | undefined;
    const watchPartial = (): void => {
      if (!reader.partial) {
        clearTimeout(readTimer);
        readTimer = undefined;
      } else if (readTimer === undefined) {
        readTimer = setTimeout(() => {
          readTimer = undefined;
          if (socket.isPaused() && !closing)
            watchPartial(); // held back by us, not by the client
          else if (reader.partial) close(`message not complete within ${kmip.readTimeoutMs / 1000} s`);
        }, kmip.readTimeoutMs);
        readTimer.unref();
      }
    };
    socket.on('close', () => clearTimeout(readTimer));
    let busy = Promise.resolve();
    let pending = 0;
    let reading = true;
    socket.on('data', (chunk: Buffer) => {
      if (!reading || closing) return;
      const { frames, error } = reader.push(chunk);
      for (const frame of frames) {
        // Requests are answered in order; a client that sends faster than it reads is paused.
        pending++;
        if (pending >= MAX_PENDING) socket.pause();
        busy = busy
          .then(async () => {
            await this.answer(socket, frame, identity);
            if (--pending < MAX_PENDING && reading && !closing && !socket.destroyed && !socket.writableEnded) socket.resume();
          })
          .catch((err: unknown) => {
            this.logger.error(`KMIP connection failed: ${String(err)}`);
            socket.destroy();
          });
      }
      // Framing is lost: answer once (after the requests before it), then close.
      if (error !== undefined) {
        reading = false;
        socket.pause();
        busy = busy.then(() => close(error, KmipOperations.invalidMessage(error)));
        clearTimeout(readTimer);
        return;
      }
      watchPartial();
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

  /** Writes one response; its key material is zeroed once written (kmip-reply). */
  private reply(socket: TLSSocket, response: TtlvItem, scrub: Buffer[] = []): void {
    writeResponse(socket, response, scrub);
  }
}
