/**
 * Framing of the agent connection (see protocol/src/wire.ts): u32 BE length, u8 type, payload.
 * `FrameDecoder` is incremental: feed it socket chunks, it yields whole frames.
 */
import { FrameType, MAX_FRAME_BYTES } from "../../../protocol/src/wire";

export interface Frame {
  type: FrameType;
  payload: Uint8Array;
}

export class ProtocolError extends Error {}

export function encodeFrame(type: FrameType, payload: Uint8Array | string = new Uint8Array()): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt32BE(body.length + 1, 0);
  out.writeUInt8(type, 4);
  out.set(body, 5);
  return out;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Frames longer than this are a protocol error; raised once the peer is authenticated. */
  constructor(public maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Adds bytes; returns every frame completed by them. Throws ProtocolError on a bad length. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length < 1 || length > this.maxFrameBytes) {
        throw new ProtocolError(`frame of ${length} bytes is outside 1..${this.maxFrameBytes}`);
      }
      if (this.buffered < 4 + length) break;
      const whole = this.take(4 + length);
      frames.push({ type: whole[4] as FrameType, payload: whole.subarray(5) });
    }
    return frames;
  }

  /** Bytes held that do not yet form a whole frame. */
  get pending(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    return (this.chunks = [Buffer.concat(this.chunks)])[0];
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}

export function frameName(type: number): string {
  const entry = Object.entries(FrameType).find(([, v]) => v === type);
  return entry ? entry[0] : `unknown(${type})`;
}
