/**
 * A software raster for the call bars: rectangles are written straight into an ImageData's
 * pixels and put on the canvas once per frame. Chromium's software canvas spends a couple of
 * microseconds per `fillRect`; a dense frame has tens of thousands of bars, which this draws
 * in a few milliseconds. Text and thin strokes still go through the canvas API on top.
 */

/** Resolves any CSS colour (rgb(), hex, color-mix results, …) through a 1×1 canvas. */
export class ColorResolver {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly cache = new Map<string, number>();

  constructor() {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 1;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  }

  /** `color` painted over the opaque `background`, as a pixel value (RGBA bytes, LE). */
  over(color: string, background: string): number {
    const key = `${color}\u0000${background}`;
    let v = this.cache.get(key);
    if (v === undefined) {
      const ctx = this.ctx;
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = background;
      ctx.fillRect(0, 0, 1, 1);
      ctx.fillStyle = color;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
      v = pack(r, g, b);
      this.cache.set(key, v);
    }
    return v;
  }
}

export function pack(r: number, g: number, b: number): number {
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export class PixelRaster {
  image: ImageData | undefined;
  private px = new Uint32Array(0);
  /** Size in device pixels. */
  width = 0;
  height = 0;

  /** Sizes the raster (device pixels); keeps the buffer when the size is unchanged. */
  resize(ctx: CanvasRenderingContext2D, width: number, height: number): void {
    width = Math.max(1, width);
    height = Math.max(1, height);
    if (this.image && width === this.width && height === this.height) return;
    this.image = ctx.createImageData(width, height);
    this.px = new Uint32Array(this.image.data.buffer);
    this.width = width;
    this.height = height;
  }

  clear(color: number): void {
    this.px.fill(color);
  }

  /** Fills device-pixel rectangle [x0, x1) × [y0, y1), clipped to the raster. */
  fill(color: number, x0: number, y0: number, x1: number, y1: number): void {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > this.width) x1 = this.width;
    if (y1 > this.height) y1 = this.height;
    if (x1 <= x0 || y1 <= y0) return;
    const px = this.px;
    const w = this.width;
    if (x1 - x0 <= 8) {
      for (let y = y0; y < y1; y++) for (let i = y * w + x0, end = y * w + x1; i < end; i++) px[i] = color;
    } else {
      for (let y = y0; y < y1; y++) px.fill(color, y * w + x0, y * w + x1);
    }
  }
}
