import { connect, type Socket } from 'node:net';

// A lean HTTP/1.1 client for the paced and per-client loads: one keep-alive connection, one request
// at a time, the request written as prepared bytes and the response parsed only as far as the
// status line, Content-Length and body. Node's http client costs several times more CPU per
// request, and on a 2-core machine the load generator's CPU is taken from the server it measures.
// It expects what the ingest sends: a Content-Length on every response, never chunked encoding.

export interface RawResponse {
  status: number;
  body: string;
}

export class RawTimeoutError extends Error {
  override readonly name = 'RawTimeoutError';
}

const headerEnd = Buffer.from('\r\n\r\n');
/**
 * A connection idle for longer is replaced before its next request. Node's HTTP server closes idle
 * connections after 5 s (`keepAliveTimeout`), and a request written while that close is on its way
 * would fail although the server never saw it.
 */
const maxIdleMillis = 4_000;
const contentLengthPattern = /\r\ncontent-length:\s*(\d+)/i;
const connectionClosePattern = /\r\nconnection:\s*close/i;

interface Pending {
  resolve: (response: RawResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class RawHttpConnection {
  private readonly host: string;

  private readonly port: number;

  private readonly timeoutMillis: number;

  private socket: Socket | undefined;

  private buffered: Buffer = Buffer.alloc(0);

  private pending: Pending | undefined;

  private lastUsedAt = 0;

  constructor(host: string, port: number, timeoutMillis: number) {
    this.host = host;
    this.port = port;
    this.timeoutMillis = timeoutMillis;
  }

  /** Sends one request (its bytes, headers and body) and resolves with the response. */
  send(request: Buffer): Promise<RawResponse> {
    if (this.pending !== undefined) return Promise.reject(new Error('A RawHttpConnection sends one request at a time.'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new RawTimeoutError(`no response within ${this.timeoutMillis} ms`)), this.timeoutMillis);
      this.pending = { resolve, reject, timer };
      this.open().write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    if (this.socket !== undefined && performance.now() - this.lastUsedAt > maxIdleMillis) this.close();
    this.lastUsedAt = performance.now();
    if (this.socket !== undefined) return this.socket;
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    // Events of a socket that this connection has already replaced are ignored.
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.receive(chunk);
    });
    socket.on('error', (error) => {
      if (this.socket === socket) this.fail(error);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.fail(new Error('connection closed before the response'));
    });
    this.socket = socket;
    this.buffered = Buffer.alloc(0);
    return socket;
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const end = this.buffered.indexOf(headerEnd);
    if (end === -1) return;

    const head = this.buffered.toString('latin1', 0, end);
    const length = Number(contentLengthPattern.exec(head)?.[1] ?? 0);
    const bodyStart = end + headerEnd.length;
    if (this.buffered.length < bodyStart + length) return;

    const status = Number(head.slice(9, 12));
    const body = this.buffered.toString('utf8', bodyStart, bodyStart + length);
    this.buffered = this.buffered.subarray(bodyStart + length);
    if (connectionClosePattern.test(head)) this.close();
    this.lastUsedAt = performance.now();
    this.settle()?.resolve({ status, body });
  }

  private fail(error: Error): void {
    const pending = this.settle();
    if (pending === undefined) return;
    this.close();
    pending.reject(error);
  }

  private settle(): Pending | undefined {
    const pending = this.pending;
    if (pending === undefined) return undefined;
    clearTimeout(pending.timer);
    this.pending = undefined;
    return pending;
  }
}

/** Builds the bytes of a POST with a body; header names are sent as given. */
export function postRequest(host: string, port: number, path: string, headers: Record<string, string>, body: string): Buffer {
  const bodyBytes = Buffer.from(body);
  let head = `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: keep-alive\r\nContent-Length: ${bodyBytes.length}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), bodyBytes]);
}
