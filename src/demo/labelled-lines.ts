import { Writable } from 'node:stream';

/**
 * A text stream that starts every line it is given with `label` and hands it on to `out`: the
 * cluster demo gives one to each node's inspector, so two diagrams share one terminal and every
 * line says which node drew it (`[A] …`, `[B] …`). A write out refuses (`write()` false) is
 * finished only at out's `drain`, so the writer's own backpressure (the plain view's) still holds.
 */
export class LabelledLines extends Writable {
  private atLineStart = true;

  constructor(
    private readonly label: string,
    private readonly out: Writable,
  ) {
    super({ decodeStrings: false });
    // A closed output (`… | head`) ends this stream too, so the writer stops drawing.
    out.on('error', this.onOutputError);
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (text === '') return callback();
    let labelled = this.atLineStart ? this.label + text : text;
    this.atLineStart = labelled.endsWith('\n');
    // Every line break but a last one starts a new labelled line here; the last one, at the next write.
    labelled = labelled.replace(/\n(?!$)/g, `\n${this.label}`);
    if (this.out.write(labelled)) callback();
    else this.out.once('drain', () => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.out.off('error', this.onOutputError);
    callback(error);
  }

  private readonly onOutputError = (error: Error): void => {
    this.destroy(error);
  };
}
