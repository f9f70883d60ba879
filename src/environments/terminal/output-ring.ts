/**
 * The last `capacity` bytes of a terminal's output, addressed by absolute offset (the count of bytes
 * the session has produced before them). A reconnecting viewer asks for "everything from offset N";
 * the ring answers it exactly while N is still held, and says so when it is not.
 */
export class OutputRing {
  readonly capacity: number;
  readonly #buffer: Buffer;
  #end = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#buffer = Buffer.alloc(capacity);
  }

  /** Offset of the next byte the session will produce. */
  get end() {
    return this.#end;
  }

  /** Oldest offset still held. */
  get start() {
    return Math.max(0, this.#end - this.capacity);
  }

  holds(offset: number) {
    return offset >= this.start && offset <= this.#end;
  }

  append(chunk: Buffer) {
    // Only the tail of a chunk larger than the ring can survive it.
    const data = chunk.length > this.capacity ? chunk.subarray(chunk.length - this.capacity) : chunk;
    this.#end += chunk.length - data.length;
    let at = this.#end % this.capacity;
    let rest = data;
    while (rest.length > 0) {
      const n = Math.min(rest.length, this.capacity - at);
      rest.copy(this.#buffer, at, 0, n);
      rest = rest.subarray(n);
      at = (at + n) % this.capacity;
    }
    this.#end += data.length;
  }

  /** A copy of the bytes from `offset`, at most `max` of them; `offset` must be held. */
  read(offset: number, max: number): Buffer {
    if (!this.holds(offset)) throw new RangeError(`offset ${offset} is not held (${this.start}..${this.#end})`);
    const length = Math.min(max, this.#end - offset);
    const out = Buffer.allocUnsafe(length);
    let at = offset % this.capacity;
    let written = 0;
    while (written < length) {
      const n = Math.min(length - written, this.capacity - at);
      this.#buffer.copy(out, written, at, at + n);
      written += n;
      at = (at + n) % this.capacity;
    }
    return out;
  }
}
