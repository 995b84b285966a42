/**
 * Counts (and times) the gRPC calls a Temporal client makes, by method: a real gRPC interceptor
 * on a real connection, so a test can say "this answer cost no Temporal call" without mocking the
 * server. Pass `interceptors` to Connection.connect.
 */
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';

export interface GrpcCallLog {
  interceptors: Interceptor[];
  /** Calls so far by short method name (e.g. DescribeWorkflowExecution), finished or not. */
  counts(): Record<string, number>;
  /** Total calls so far. */
  total(): number;
  /** Send → status of each finished call, in ms, by method. */
  durations(): Record<string, number[]>;
  reset(): void;
}

export function grpcCallLog(): GrpcCallLog {
  let counts: Record<string, number> = {};
  let durations: Record<string, number[]> = {};
  const interceptor: Interceptor = (options, nextCall) => {
    const method = options.method_definition.path.slice(options.method_definition.path.lastIndexOf('/') + 1);
    counts[method] = (counts[method] ?? 0) + 1;
    const sent = performance.now();
    return new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        next(metadata, {
          onReceiveStatus(status, onStatus) {
            (durations[method] ??= []).push(performance.now() - sent);
            onStatus(status);
          },
        });
      },
    });
  };
  return {
    interceptors: [interceptor],
    counts: () => ({ ...counts }),
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    durations: () => durations,
    reset() {
      counts = {};
      durations = {};
    },
  };
}
