import { ProblemType } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { parseJsonBody, readBody, readJsonBody } from './body.ts';
import { ProblemError } from './problem.ts';

const encoder = new TextEncoder();

/** Builds a request whose body arrives in chunks without Content-Length, as a chunked upload does. */
function chunkedRequest(chunks: Uint8Array[]): Request {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  return new Request('http://ingest.test/v1/events', { method: 'POST', body, duplex: 'half' } as RequestInit);
}

async function problemOf(promise: Promise<unknown>): Promise<ProblemError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('the body was accepted');
}

describe('readBody', () => {
  it('reads a body with Content-Length', async () => {
    const request = new Request('http://ingest.test/', { method: 'POST', body: '{"a":1}', headers: { 'content-length': '7' } });
    expect(new TextDecoder().decode(await readBody(request, 16))).toBe('{"a":1}');
  });

  it('rejects a declared length over the limit before reading', async () => {
    const request = new Request('http://ingest.test/', { method: 'POST', body: 'x', headers: { 'content-length': '17' } });
    const error = await problemOf(readBody(request, 16));
    expect(error.problem.status).toBe(413);
    expect(error.problem.type).toBe(ProblemType.payloadTooLarge);
    expect(error.problem.detail).toContain('larger than 16 bytes (Content-Length is 17 bytes)');
    expect(error.headers).toEqual({ connection: 'close' });
    expect(request.bodyUsed).toBe(false);
  });

  it('rejects a body longer than its Content-Length claims', async () => {
    const request = new Request('http://ingest.test/', { method: 'POST', body: 'x'.repeat(20), headers: { 'content-length': '4' } });
    expect((await problemOf(readBody(request, 16))).problem.status).toBe(413);
  });

  it('counts the bytes of a chunked body', async () => {
    const bytes = await readBody(chunkedRequest([encoder.encode('{"a":'), encoder.encode('1}')]), 16);
    expect(new TextDecoder().decode(bytes)).toBe('{"a":1}');
  });

  it('stops reading a chunked body at the limit', async () => {
    const error = await problemOf(readBody(chunkedRequest([new Uint8Array(10), new Uint8Array(10), new Uint8Array(10)]), 16));
    expect(error.problem.status).toBe(413);
    expect(error.problem.detail).toContain('exceeds 16 bytes after 20 bytes were read');
  });

  it('accepts a chunked body of exactly the limit', async () => {
    expect((await readBody(chunkedRequest([new Uint8Array(8), new Uint8Array(8)]), 16)).byteLength).toBe(16);
  });
});

describe('parseJsonBody', () => {
  it('parses JSON and drops a byte order mark', () => {
    expect(parseJsonBody(encoder.encode('\uFEFF{"name":"Ada"}'))).toEqual({ name: 'Ada' });
  });

  it('says where the syntax breaks', () => {
    const error = (() => {
      try {
        parseJsonBody(encoder.encode('{"a":1,}'));
      } catch (caught) {
        return caught as ProblemError;
      }
      throw new Error('accepted');
    })();
    expect(error.problem.status).toBe(400);
    expect(error.problem.type).toBe(ProblemType.invalidJson);
    expect(error.problem.detail).toContain('at position 7 (line 1 column 8)');
    expect(error.problem.errors?.[0]?.pointer).toBe('');
  });

  it('rejects an empty body', () => {
    expect(() => parseJsonBody(new Uint8Array(0))).toThrow('The request body is empty');
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(() => parseJsonBody(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow('not valid UTF-8');
  });
});

describe('readJsonBody', () => {
  it('reads and parses in one step', async () => {
    expect(await readJsonBody(chunkedRequest([encoder.encode('[1,2]')]))).toEqual([1, 2]);
  });
});
