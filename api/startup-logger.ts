import { ConsoleLogger } from '@nestjs/common';

/** Nest's own start-up chatter: a line per module and per route, on every start. */
export const BOOTSTRAP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/**
 * The API's logger: Nest's console format, without the bootstrap lines a user would have to scroll
 * past (API_LOG_BOOTSTRAP=true shows them). Warnings and errors always pass.
 */
export class StartupQuietLogger extends ConsoleLogger {
  constructor(private readonly showBootstrap = process.env.API_LOG_BOOTSTRAP === 'true') {
    super();
  }

  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (!this.showBootstrap && typeof context === 'string' && BOOTSTRAP_CONTEXTS.has(context)) return;
    super.log(message, ...(rest as [string]));
  }
}
