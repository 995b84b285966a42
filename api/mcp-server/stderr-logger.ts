import type { LogLevel } from '@nestjs/common';
import { StartupQuietLogger } from '../startup-logger';

/** Nest's console lines, all on stderr: over stdio, stdout carries only the MCP protocol. */
export class StderrLogger extends StartupQuietLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    _writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack);
  }
}
