import { KmipDecodeError, ttlvFrameLength, type TtlvLimits } from '@keyward/kmip';

const HEADER = 8;

/** What one chunk of a connection's bytes gave: whole request frames, and why framing is lost, if it is. */
export interface FramesRead {
  readonly frames: Buffer[];
  /** Set once the stream cannot be framed any more (the connection must close; nothing more is read). */
  readonly error?: string;
}

/**
 * Cuts a connection's byte stream into TTLV request frames. Every frame it hands out has a length
 * from 16 to the message limit, so each step of its loop consumes bytes and it cannot spin; a
 * header of zero, negative or over-limit length ends the stream with a reason instead.
 */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly limits: TtlvLimits) {}

  /** Whether part of a message has arrived and waits for the rest. */
  get partial(): boolean {
    return this.buffered.length > 0;
  }

  push(chunk: Buffer): FramesRead {
    const frames: Buffer[] = [];
    if (this.failed) return { frames, error: 'framing already lost' };
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= HEADER) {
      let length: number;
      try {
        length = ttlvFrameLength(this.buffered.subarray(0, HEADER), this.limits);
      } catch (err: unknown) {
        return this.fail(frames, err instanceof KmipDecodeError ? err.message : 'invalid message header');
      }
      // The codec guarantees this; checked again here because the loop's progress depends on it.
      if (!Number.isSafeInteger(length) || length <= HEADER || length > this.limits.maxMessageBytes) {
        return this.fail(frames, `invalid frame length ${length}`);
      }
      if (this.buffered.length < length) break;
      frames.push(this.buffered.subarray(0, length));
      this.buffered = this.buffered.subarray(length);
    }
    return { frames };
  }

  private fail(frames: Buffer[], error: string): FramesRead {
    this.failed = true;
    this.buffered = Buffer.alloc(0);
    return { frames, error };
  }
}
