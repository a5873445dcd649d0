/** KMIP TTLV item types (KMIP 1.x §9.1.1.3, KMIP 2.0 §9.1.1.3). */
export const ItemType = {
  Structure: 0x01,
  Integer: 0x02,
  LongInteger: 0x03,
  BigInteger: 0x04,
  Enumeration: 0x05,
  Boolean: 0x06,
  TextString: 0x07,
  ByteString: 0x08,
  DateTime: 0x09,
  Interval: 0x0a,
} as const;
export type ItemType = (typeof ItemType)[keyof typeof ItemType];

export type TtlvItem =
  | { tag: number; type: typeof ItemType.Structure; value: TtlvItem[] }
  | { tag: number; type: typeof ItemType.Integer; value: number }
  | { tag: number; type: typeof ItemType.LongInteger; value: bigint }
  | { tag: number; type: typeof ItemType.BigInteger; value: bigint }
  | { tag: number; type: typeof ItemType.Enumeration; value: number }
  | { tag: number; type: typeof ItemType.Boolean; value: boolean }
  | { tag: number; type: typeof ItemType.TextString; value: string }
  | { tag: number; type: typeof ItemType.ByteString; value: Buffer }
  /** Seconds since the Unix epoch (a signed 64-bit integer on the wire). */
  | { tag: number; type: typeof ItemType.DateTime; value: bigint }
  /** Seconds (an unsigned 32-bit integer on the wire). */
  | { tag: number; type: typeof ItemType.Interval; value: number };

export type TtlvStructure = Extract<TtlvItem, { type: typeof ItemType.Structure }>;

/** The only error the decoder throws: the bytes are not one well-formed TTLV item within the limits. */
export class KmipDecodeError extends Error {
  constructor(
    message: string,
    /** Byte offset in the message where the problem was found. */
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
    this.name = 'KmipDecodeError';
  }
}

/** Raised by the encoder for values that cannot be represented (a programming error, not bad input). */
export class KmipEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KmipEncodeError';
  }
}

export interface TtlvLimits {
  /** Largest whole message (header included) in bytes. */
  maxMessageBytes: number;
  /** Deepest nesting of structures (the top-level structure is depth 1). */
  maxDepth: number;
}

export const DEFAULT_TTLV_LIMITS: TtlvLimits = { maxMessageBytes: 1024 * 1024, maxDepth: 16 };
