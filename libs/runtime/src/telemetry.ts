import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const tracer = trace.getTracer('@aip/runtime');
const SPAN = Symbol('aip.span');

/**
 * One SERVER span per HTTP request (`GET /v1/tasks/:id`), active for everything its handler does
 * (publishes then carry it), ended with the status code; health probes and metric scrapes are
 * left out. Installed only while tracing is on.
 */
export function traceRequests(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const route = request.routeOptions.url ?? 'unmatched';
    // Probes and scrapes every few seconds would bury the requests.
    if (route.startsWith('/health') || route === '/metrics') return done();
    const span = tracer.startSpan(`${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0] ?? '' },
    });
    (request as unknown as Record<symbol, unknown>)[SPAN] = span;
    // The rest of the request (hooks, handler) runs inside the span's context.
    context.with(trace.setSpan(context.active(), span), done);
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const span = (request as unknown as Record<symbol, ReturnType<typeof tracer.startSpan> | undefined>)[SPAN];
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}

/** The trace and span ids of the active span, for log lines (none while tracing is off). */
export function traceIds(): { trace_id: string; span_id: string } | Record<string, never> {
  const span = trace.getSpanContext(context.active());
  return span && trace.isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}
