/**
 * How every process (the API, each worker) writes its log lines: one JSON object per line on
 * stdout, the level as a word, an ISO time, and credentials censored wherever they sit.
 */
import { pino, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';

export const REDACTED = '[redacted]';

/**
 * Keys that hold credentials, at the top of a line, one level down (`meta.token`), and in the
 * request and response the HTTP logger writes. A log line never needs their values.
 */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'apiKey',
  'password',
  'secret',
  'signingSecret',
  'clientSecret',
  // An activity's task token completes the activity for whoever holds it (the SDK logs it by default).
  'taskToken',
];

export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  // The SDK's "Creating worker" line (DEBUG) lists the worker's options: the codec holds the payload keys.
  'options.dataConverter',
  'options.loadedDataConverter',
];

export interface JsonLoggerOptions {
  /** `name` on every line: which process wrote it. */
  name: string;
  level?: LevelWithSilent;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
}

export function createJsonLogger(opts: JsonLoggerOptions): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      // Errors under either key keep their message and stack instead of `{}`.
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
