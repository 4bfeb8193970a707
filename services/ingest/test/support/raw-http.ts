import { connect } from 'node:net';

// HTTP/1.1 written byte by byte over a TCP socket, so tests can send what fetch and node:http refuse
// to send: conflicting framing headers, broken chunks, bytes that are not text, a body that ends early.

export interface RawResponse {
  /** 0 when the server closed the connection without a status line. */
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawRequest {
  method?: string;
  path?: string;
  /** Header lines in order; Host and `Connection: close` are added unless `bare` is set. */
  headers?: [string, string][];
  body?: string | Buffer;
  /** `auto` adds Content-Length for the body; `chunked` sends it with Transfer-Encoding: chunked. */
  framing?: 'auto' | 'chunked' | 'none';
  /** Leaves out Host and Connection, for requests that test those headers themselves. */
  bare?: boolean;
}

/** Formats a request; the body is sent as given, byte for byte. */
export function formatRequest(request: RawRequest): Buffer {
  const body = typeof request.body === 'string' ? Buffer.from(request.body) : (request.body ?? Buffer.alloc(0));
  const lines = [`${request.method ?? 'POST'} ${request.path ?? '/v1/events'} HTTP/1.1`];
  if (request.bare !== true) lines.push('Host: ingest.test', 'Connection: close');
  for (const [name, value] of request.headers ?? []) lines.push(`${name}: ${value}`);

  const framing = request.framing ?? 'auto';
  if (framing === 'auto') lines.push(`Content-Length: ${body.length}`);
  if (framing === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < body.length; offset += 64 * 1024) {
      const chunk = body.subarray(offset, offset + 64 * 1024);
      chunks.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
    }
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), ...chunks, Buffer.from('0\r\n\r\n')]);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]);
}

export interface SendOptions {
  /** Closes the sending side after the bytes, as a client does that gives up mid-request. */
  halfClose?: boolean;
  timeoutMillis?: number;
}

/** Sends the bytes on a new connection and reads until the server closes it. */
export function sendRaw(port: number, bytes: Buffer, options: SendOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server neither answered nor closed the connection within ${options.timeoutMillis ?? 5000} ms`));
    }, options.timeoutMillis ?? 5000);

    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      // A response can be complete while the server keeps the connection open, for example after a
      // 413 that it sent before the request body arrived.
      if (parseResponse(Buffer.concat(received)).isComplete) socket.destroy();
    });
    // The server may close while a large body is still being written; the response already read counts.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const { isComplete: _isComplete, ...response } = parseResponse(Buffer.concat(received));
      resolve(response);
    });
    socket.write(bytes);
    if (options.halfClose === true) socket.end();
  });
}

function parseResponse(bytes: Buffer): RawResponse & { isComplete: boolean } {
  const headerEnd = bytes.indexOf('\r\n\r\n');
  if (headerEnd === -1) return { status: 0, headers: {}, body: bytes.toString('latin1'), isComplete: false };

  const [statusLine = '', ...headerLines] = bytes.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }

  let body = bytes.subarray(headerEnd + 4);
  let isComplete = false;
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    isComplete = body.includes('0\r\n\r\n');
    body = decodeChunked(body);
  } else if (headers['content-length'] !== undefined) {
    isComplete = body.length >= Number(headers['content-length']);
    body = body.subarray(0, Number(headers['content-length']));
  }
  return { status, headers, body: body.toString('utf8'), isComplete };
}

function decodeChunked(bytes: Buffer): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(chunks);
}
