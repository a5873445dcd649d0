import { ByteQueue } from './byte-queue';

describe('ByteQueue', () => {
  const queued = (...pieces: string[]): ByteQueue => {
    const queue = new ByteQueue();
    for (const piece of pieces) queue.push(Buffer.from(piece));
    return queue;
  };

  it('takePieces answers the bytes as queued, split where n ends, and leaves the rest', () => {
    const queue = queued('abc', 'defg', 'hi');
    expect(queue.takePieces(5).map(String)).toEqual(['abc', 'de']);
    expect(queue.length).toBe(4);
    expect(queue.takeAll().toString()).toBe('fghi');
  });

  it('take and takePieces agree across piece boundaries', () => {
    expect(queued('ab', 'cd', 'ef').take(5).toString()).toBe('abcde');
    expect(Buffer.concat(queued('ab', 'cd', 'ef').takePieces(5)).toString()).toBe('abcde');
  });

  it('refuses to take more than is queued', () => {
    expect(() => queued('ab').takePieces(3)).toThrow(RangeError);
    expect(() => queued('ab').take(3)).toThrow(RangeError);
  });
});
