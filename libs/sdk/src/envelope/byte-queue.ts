/** Bytes arriving in pieces, read from the front without copying more than what is read. */
export class ByteQueue {
  private pieces: Buffer[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(piece: Buffer): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.size += piece.length;
  }

  /** The first n bytes (n ≤ length), left in the queue. */
  peek(n: number): Buffer {
    if (n > this.size) throw new RangeError('not enough bytes queued');
    const first = this.pieces[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    const parts: Buffer[] = [];
    let have = 0;
    for (const piece of this.pieces) {
      if (have >= n) break;
      parts.push(piece.subarray(0, Math.min(piece.length, n - have)));
      have += parts[parts.length - 1]?.length ?? 0;
    }
    return Buffer.concat(parts, n);
  }

  /** Removes and answers the first n bytes (n ≤ length). */
  take(n: number): Buffer {
    const out = this.peek(n);
    let left = n;
    while (left > 0) {
      const piece = this.pieces[0] as Buffer;
      if (piece.length <= left) {
        this.pieces.shift();
        left -= piece.length;
      } else {
        this.pieces[0] = piece.subarray(left);
        left = 0;
      }
    }
    this.size -= n;
    return out;
  }

  /** Removes the first n bytes (n ≤ length) and answers them as the pieces they were queued in, without copying. */
  takePieces(n: number): Buffer[] {
    if (n > this.size) throw new RangeError('not enough bytes queued');
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const piece = this.pieces[0] as Buffer;
      if (piece.length <= left) {
        this.pieces.shift();
        out.push(piece);
        left -= piece.length;
      } else {
        out.push(piece.subarray(0, left));
        this.pieces[0] = piece.subarray(left);
        left = 0;
      }
    }
    this.size -= n;
    return out;
  }

  /** Removes and answers everything. */
  takeAll(): Buffer {
    return this.take(this.size);
  }
}
