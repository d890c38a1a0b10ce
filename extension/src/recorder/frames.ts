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
  /** Header bytes (u32 length + u8 type) of the frame being read. */
  private readonly head = Buffer.alloc(5);
  private headFilled = 0;
  /** Payload of the frame being read: its own buffer, so Arrow sees 8-byte-aligned bodies. */
  private payload?: Uint8Array;
  private payloadFilled = 0;
  private type = 0;

  /** Frames longer than this are a protocol error; raised once the peer is authenticated. */
  constructor(public maxFrameBytes = MAX_FRAME_BYTES) {}

  /**
   * Adds bytes; returns every frame completed by them. Each byte is copied once, straight into
   * its frame's payload. Throws ProtocolError on a bad length.
   */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.headFilled < 5) {
        const n = Math.min(5 - this.headFilled, chunk.length - at);
        this.head.set(chunk.subarray(at, at + n), this.headFilled);
        this.headFilled += n;
        at += n;
        if (this.headFilled < 4) continue;
        const length = this.head.readUInt32BE(0);
        if (length < 1 || length > this.maxFrameBytes) {
          throw new ProtocolError(`frame of ${length} bytes is outside 1..${this.maxFrameBytes}`);
        }
        if (this.headFilled < 5) continue;
        this.type = this.head[4];
        this.payload = new Uint8Array(length - 1);
        this.payloadFilled = 0;
      }
      const payload = this.payload!;
      const n = Math.min(payload.length - this.payloadFilled, chunk.length - at);
      payload.set(chunk.subarray(at, at + n), this.payloadFilled);
      this.payloadFilled += n;
      at += n;
      if (this.payloadFilled === payload.length) {
        frames.push({ type: this.type as FrameType, payload });
        this.headFilled = 0;
        this.payload = undefined;
      }
    }
    return frames;
  }

  /** Bytes held that do not yet form a whole frame. */
  get pending(): number {
    return this.headFilled + this.payloadFilled;
  }
}

export function frameName(type: number): string {
  const entry = Object.entries(FrameType).find(([, v]) => v === type);
  return entry ? entry[0] : `unknown(${type})`;
}
