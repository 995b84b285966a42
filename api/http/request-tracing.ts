/**
 * The HTTP server span of each request, made current for everything the request runs, so the
 * Temporal client's spans (StartWorkflow, SignalWorkflow, ...) are its children and a run's trace
 * starts at the REST call. A caller's W3C `traceparent` makes the span a child of the caller's.
 *
 * A middleware rather than @opentelemetry/instrumentation-http: that one patches `http` when it is
 * loaded and must be installed before anything requires it; this one needs no load order and
 * traces only the API's own server. The span records the route template, not the path: paths can
 * carry ids and single-use tokens that do not belong in a tracing backend.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Provider } from '@nestjs/common';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
} from '@opentelemetry/semantic-conventions';
import type { Tracing } from '../../temporal/tracing';

/** What express adds to the request once a route matched it. */
type RoutedRequest = IncomingMessage & { route?: { path?: unknown } };

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

export function traceRequests(tracer: Tracer) {
  return (req: RoutedRequest, res: ServerResponse, next: () => void): void => {
    const method = KNOWN_METHODS.has(req.method ?? '') ? (req.method as string) : '_OTHER';
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      method === '_OTHER' ? 'HTTP' : method,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method } },
      parent,
    );
    const active = trace.setSpan(parent, span);
    // 'close' comes last, whether the response finished or the client went away.
    res.once('close', () => {
      const route = typeof req.route?.path === 'string' ? req.route.path : undefined;
      if (route) {
        span.setAttribute(ATTR_HTTP_ROUTE, route);
        span.updateName(`${method === '_OTHER' ? 'HTTP' : method} ${route}`);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      // Server spans: a 4xx is the client's error, not ours.
      if (!res.writableFinished)
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'client closed the connection' });
      else if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    // The body parser reads `req` in its stream events, which run in the socket's context, not
    // this one: binding the emitters keeps the span current across them.
    context.bind(active, req);
    context.bind(active, res);
    context.with(active, next);
  };
}

const FLUSH_TRACES = Symbol('FLUSH_TRACES');

/** Exports the last spans when the app shuts down (Nest's shutdown hooks run before the process ends). */
export function flushTracesOnShutdown(tracing: Tracing | undefined): Provider[] {
  if (!tracing) return [];
  return [{ provide: FLUSH_TRACES, useValue: { onApplicationShutdown: () => tracing.forceFlush() } }];
}
