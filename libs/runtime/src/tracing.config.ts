import { NodeSDK } from '@opentelemetry/sdk-node';

/**
 * Tracing is on when the standard OpenTelemetry variables ask for an exporter
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_TRACES_EXPORTER`
 * other than `none`) and `OTEL_SDK_DISABLED` is not `true`; off otherwise — then no span is
 * recorded and no trace context travels.
 */
export function tracingAsked(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['OTEL_SDK_DISABLED'] === 'true') return false;
  const exporter = env['OTEL_TRACES_EXPORTER'];
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || (exporter && exporter !== 'none'));
}

/**
 * Starts the OpenTelemetry SDK for this process when tracing is asked for (see `tracingAsked`):
 * spans go to the OTLP exporter the `OTEL_*` variables describe (HTTP/protobuf, HTTP/JSON or
 * gRPC), W3C trace context propagates through every envelope. Metrics stay Prometheus' and logs
 * stdout's unless their OTEL_* variables say otherwise. Returns how to flush and stop it.
 */
export function startTracing(serviceName: string): { shutdown(): Promise<void> } | undefined {
  if (!tracingAsked()) return undefined;
  process.env['OTEL_METRICS_EXPORTER'] ??= 'none';
  process.env['OTEL_LOGS_EXPORTER'] ??= 'none';
  const sdk = new NodeSDK({ serviceName: process.env['OTEL_SERVICE_NAME'] ?? serviceName, instrumentations: [] });
  sdk.start();
  return sdk;
}
