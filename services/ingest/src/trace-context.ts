import { childTrace, parseTraceparent, type TraceContext } from '@hr-events/contract';

// The trace of a request. A W3C `traceparent` header is continued; without one, Cloud Run's own
// `X-Cloud-Trace-Context` (TRACE_ID/SPAN_ID;o=OPTIONS, the span id in decimal) is; otherwise a new
// trace starts. Either way the request gets a span of its own, which travels with the message.

const cloudTracePattern = /^([0-9a-f]{32})\/(\d{1,20})(?:;o=([0-9]+))?$/i;
const maxSpanId = 2n ** 64n - 1n;

export function requestTrace(headers: Headers): TraceContext {
  return childTrace(incomingTrace(headers));
}

export function incomingTrace(headers: Headers): TraceContext | undefined {
  return parseTraceparent(headers.get('traceparent') ?? undefined) ?? parseCloudTraceContext(headers.get('x-cloud-trace-context'));
}

/** Reads an X-Cloud-Trace-Context value as the equivalent W3C trace context. */
export function parseCloudTraceContext(value: string | null): TraceContext | undefined {
  const match = value === null ? null : cloudTracePattern.exec(value.trim());
  if (match === null) return undefined;
  const [, traceId, spanDecimal, options] = match as unknown as [string, string, string, string | undefined];

  const span = BigInt(spanDecimal);
  if (span > maxSpanId) return undefined;
  // Bit 0 of the options is the sampling decision, as in the W3C trace flags.
  const flags = options === undefined || (Number(options) & 1) === 1 ? '01' : '00';
  return parseTraceparent(`00-${traceId.toLowerCase()}-${span.toString(16).padStart(16, '0')}-${flags}`);
}
