import { describe, expect, it } from 'vitest';
import { incomingTrace, parseCloudTraceContext, requestTrace } from './trace-context.ts';

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('request trace', () => {
  it('continues a traceparent with a new span', () => {
    const trace = requestTrace(new Headers({ traceparent }));
    expect(trace.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(trace.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(trace.spanId).not.toBe('b7ad6b7169203331');
    expect(trace.traceparent).toBe(`00-${trace.traceId}-${trace.spanId}-01`);
  });

  it('prefers traceparent over X-Cloud-Trace-Context', () => {
    const headers = new Headers({ traceparent, 'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1;o=1' });
    expect(incomingTrace(headers)?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('falls back to X-Cloud-Trace-Context', () => {
    const trace = incomingTrace(new Headers({ 'x-cloud-trace-context': '105445AA7843BC8BF206B12000100000/255;o=1' }));
    expect(trace).toEqual({
      traceId: '105445aa7843bc8bf206b12000100000',
      spanId: '00000000000000ff',
      traceparent: '00-105445aa7843bc8bf206b12000100000-00000000000000ff-01',
    });
  });

  it('starts a new sampled trace without headers', () => {
    const trace = requestTrace(new Headers());
    expect(trace.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('ignores a malformed traceparent', () => {
    expect(incomingTrace(new Headers({ traceparent: '00-xyz-b7ad6b7169203331-01' }))).toBeUndefined();
  });
});

describe('parseCloudTraceContext', () => {
  it('keeps the sampling decision', () => {
    expect(parseCloudTraceContext('105445aa7843bc8bf206b12000100000/1;o=0')?.traceparent).toBe('00-105445aa7843bc8bf206b12000100000-0000000000000001-00');
    expect(parseCloudTraceContext('105445aa7843bc8bf206b12000100000/1')?.traceparent.endsWith('-01')).toBe(true);
  });

  it('rejects invalid values', () => {
    expect(parseCloudTraceContext(null)).toBeUndefined();
    expect(parseCloudTraceContext('not-a-trace')).toBeUndefined();
    expect(parseCloudTraceContext('105445aa7843bc8bf206b12000100000')).toBeUndefined();
    expect(parseCloudTraceContext('105445aa7843bc8bf206b12000100000/0;o=1')).toBeUndefined();
    expect(parseCloudTraceContext('105445aa7843bc8bf206b12000100000/18446744073709551616;o=1')).toBeUndefined();
  });
});
