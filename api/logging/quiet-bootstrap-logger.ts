import type { LoggerService } from '@nestjs/common';
import { BOOTSTRAP_CONTEXTS } from '../startup-logger';

/**
 * Nest's log lines through `inner` (the JSON logger), without the bootstrap chatter (a line per
 * module and route on every start; API_LOG_BOOTSTRAP=true keeps it), as the text logger does.
 */
export class QuietBootstrapLogger implements LoggerService {
  constructor(
    private readonly inner: LoggerService,
    private readonly showBootstrap = process.env.API_LOG_BOOTSTRAP === 'true',
  ) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (!this.showBootstrap && typeof context === 'string' && BOOTSTRAP_CONTEXTS.has(context)) return;
    this.inner.log(message, ...rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.inner.error(message, ...rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.inner.warn(message, ...rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.inner.debug?.(message, ...rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.inner.verbose?.(message, ...rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.inner.fatal?.(message, ...rest);
  }
}
