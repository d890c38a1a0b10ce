/**
 * Labels collected while the bars are rasterised, painted on top afterwards with as few
 * `fillStyle` changes as possible (Chromium parses the colour string every time). Arrays are
 * reused from frame to frame.
 */
export class PaintBatch {
  private readonly texts: string[] = [];
  private readonly textPos: number[] = [];
  private readonly textColors: string[] = [];
  private textCount = 0;

  text(color: string, text: string, x: number, y: number): void {
    const i = this.textCount++;
    this.texts[i] = text;
    this.textColors[i] = color;
    this.textPos[2 * i] = x;
    this.textPos[2 * i + 1] = y;
  }

  /** Paints the labels collected and empties the batch. */
  paint(ctx: CanvasRenderingContext2D): void {
    let color = "";
    for (let i = 0; i < this.textCount; i++) {
      if (this.textColors[i] !== color) ctx.fillStyle = color = this.textColors[i];
      ctx.fillText(this.texts[i], this.textPos[2 * i], this.textPos[2 * i + 1]);
    }
    this.textCount = 0;
  }

  reset(): void {
    this.textCount = 0;
  }
}
