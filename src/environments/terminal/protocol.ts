import { z } from 'zod';

/**
 * The wire format (README, "The terminal"). Binary frames carry terminal bytes: from the server,
 * an 8-byte big-endian offset of the first byte, then the bytes; from the client, a 4-byte
 * big-endian input sequence number (1, 2, 3, ... per input stream), then the bytes. Text frames
 * are JSON control messages.
 */
export const OUTPUT_HEADER_BYTES = 8;
export const INPUT_HEADER_BYTES = 4;
/** The largest frame a client may send (ws closes with 1009 above it); a big paste is split. */
export const MAX_CLIENT_FRAME = 64 * 1024;

const dimension = (max: number) => z.number().int().min(1).max(max);

export const clientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('resume'),
    session: z.string().max(64).optional(),
    offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    input_stream: z.string().min(1).max(64),
    cols: dimension(1000),
    rows: dimension(500),
  }),
  z.object({ type: z.literal('resize'), cols: dimension(1000), rows: dimension(500) }),
  z.object({ type: z.literal('ping'), t: z.number().optional() }),
]);
export type ClientMessage = z.infer<typeof clientMessage>;

export function outputFrame(offset: number, data: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(OUTPUT_HEADER_BYTES + data.length);
  frame.writeBigUInt64BE(BigInt(offset), 0);
  data.copy(frame, OUTPUT_HEADER_BYTES);
  return frame;
}

export function inputFrame(seq: number, data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const frame = Buffer.allocUnsafe(INPUT_HEADER_BYTES + bytes.length);
  frame.writeUInt32BE(seq, 0);
  bytes.copy(frame, INPUT_HEADER_BYTES);
  return frame;
}

export function parseInputFrame(frame: Buffer): { seq: number; data: Buffer } | undefined {
  if (frame.length < INPUT_HEADER_BYTES) return undefined;
  const seq = frame.readUInt32BE(0);
  return seq === 0 ? undefined : { seq, data: frame.subarray(INPUT_HEADER_BYTES) };
}

export function parseOutputFrame(frame: Buffer): { offset: number; data: Buffer } {
  return { offset: Number(frame.readBigUInt64BE(0)), data: frame.subarray(OUTPUT_HEADER_BYTES) };
}
