import type { Stream } from 'node:stream';

/** Keeps the last lines a stdio server wrote to stderr, to explain a failed start. */
export class StderrTail {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly max = 20) {}

  attach(stream: Stream | null): void {
    stream?.on('data', (chunk: Buffer | string) => this.push(chunk.toString()));
  }

  private push(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts.filter((l) => l.trim()));
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
  }

  text(): string {
    return [...this.lines, this.partial].filter((l) => l.trim()).join('\n');
  }
}
