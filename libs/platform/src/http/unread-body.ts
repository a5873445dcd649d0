import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Most bytes of an unread request body read (and dropped) after its answer; beyond, the connection is cut. */
export const UNREAD_BODY_DRAIN_MAX_BYTES = 8 * 1024 * 1024;

/**
 * An answer sent before its request's body was read (413 for a body over the limit, from its
 * Content-Length or part way through): Fastify then closes the connection, and the kernel resets
 * it while the client is still sending, so a client that reads only once it has sent everything
 * (Python's requests, curl without Expect) sees "connection reset" / a TLS EOF instead of the 413.
 * Instead the rest of the body is read and dropped (a lingering close, as nginx does), up to
 * `maxBytes` and within the request deadline, and the connection stays open for the next request;
 * a client that keeps sending beyond that is cut off.
 */
export function drainUnreadBodies(fastify: FastifyInstance, maxBytes = UNREAD_BODY_DRAIN_MAX_BYTES): void {
  fastify.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, value: unknown) => void) => {
    const raw = request.raw;
    if (!raw.complete && !raw.readableEnded && !raw.destroyed && reply.getHeader('connection') === 'close') {
      void reply.removeHeader('connection');
      let dropped = 0;
      raw.on('data', (chunk: Buffer) => {
        dropped += chunk.length;
        if (dropped > maxBytes) raw.socket.destroy();
      });
    }
    done(null, payload);
  });
}
