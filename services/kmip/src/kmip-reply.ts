import { encodeTtlv, type TtlvItem } from '@keyward/kmip';

/** Where a response goes (a TLS socket). */
export interface ResponseSink {
  readonly destroyed: boolean;
  readonly writable: boolean;
  write(data: Buffer, done: (err?: Error | null) => void): boolean;
}

/**
 * Encodes and writes one response. Key material in it (`scrub`: the buffers the operations put in
 * the response) is zeroed as soon as it has been encoded, and the encoded message (the encoder's
 * only copy) once the socket has taken it, or at once when it cannot be sent.
 */
export function writeResponse(sink: ResponseSink, response: TtlvItem, scrub: readonly Buffer[] = []): void {
  let encoded: Buffer;
  try {
    encoded = encodeTtlv(response);
  } finally {
    for (const b of scrub) b.fill(0);
  }
  const wipe = (): void => {
    if (scrub.length > 0) encoded.fill(0);
  };
  if (!sink.destroyed && sink.writable) sink.write(encoded, wipe);
  else wipe();
}
