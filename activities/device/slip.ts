/**
 * SLIP framing (RFC 1055) as the ESP ROM loader uses it: every packet is wrapped in 0xC0 and
 * 0xC0/0xDB inside it are escaped. Bytes outside any frame are console text (boot messages).
 */
const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

export function slipEncode(payload: Uint8Array): Buffer {
  const out: number[] = [END];
  for (const b of payload) {
    if (b === END) out.push(ESC, ESC_END);
    else if (b === ESC) out.push(ESC, ESC_ESC);
    else out.push(b);
  }
  out.push(END);
  return Buffer.from(out);
}

/** Splits a byte stream into SLIP frames and the text between them. */
export class SlipDemux {
  private frame: number[] | undefined;
  private escaped = false;

  constructor(
    private readonly onFrame: (frame: Buffer) => void,
    private readonly onText: (text: Buffer) => void = () => undefined,
  ) {}

  push(chunk: Uint8Array): void {
    let text: number[] = [];
    const flushText = () => {
      if (text.length) this.onText(Buffer.from(text));
      text = [];
    };
    for (const b of chunk) {
      if (this.frame === undefined) {
        if (b === END) {
          flushText();
          this.frame = [];
        } else {
          text.push(b);
        }
        continue;
      }
      if (this.escaped) {
        this.escaped = false;
        // An invalid escape is kept as is; the packet parser rejects the frame if it matters.
        this.frame.push(b === ESC_END ? END : b === ESC_ESC ? ESC : b);
      } else if (b === ESC) {
        this.escaped = true;
      } else if (b === END) {
        // Two END bytes in a row: the second opens the frame (senders may lead with END).
        if (this.frame.length) {
          const done = Buffer.from(this.frame);
          this.frame = undefined;
          this.onFrame(done);
        }
      } else {
        this.frame.push(b);
      }
    }
    flushText();
  }

  /** Drops a half-received frame (after the peer went away mid-packet). */
  reset(): void {
    this.frame = undefined;
    this.escaped = false;
  }
}
