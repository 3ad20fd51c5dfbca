/**
 * A one-line progress indicator ("refreshing 37/120…") on a terminal: rewritten in place,
 * cleared before other output, and silent when the stream is not a TTY (logs and pipes get the
 * result lines and the summary only).
 */
import type { OutputStream } from './terminal';

const CLEAR_LINE = '\r\u001b[2K';

/** A progress line on `stream`, shown only when `stream` is a terminal. */
export class ProgressLine {
  private text = '';
  private readonly enabled: boolean;

  constructor(private readonly stream: OutputStream) {
    this.enabled = stream.isTTY === true;
  }

  /** Shows `text` in place of the previous progress text. */
  update(text: string): void {
    this.text = text;
    if (this.enabled) this.stream.write(`${CLEAR_LINE}${text}`);
  }

  /**
   * Runs `print` (which writes ordinary output) with the progress line out of the way, then
   * shows the progress line again below what it printed.
   */
  around(print: () => void): void {
    if (this.enabled && this.text) this.stream.write(CLEAR_LINE);
    print();
    if (this.enabled && this.text) this.stream.write(this.text);
  }

  /** Removes the progress line for good. */
  done(): void {
    if (this.enabled && this.text) this.stream.write(CLEAR_LINE);
    this.text = '';
  }
}
