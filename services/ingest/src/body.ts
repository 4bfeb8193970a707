import { ProblemType, maxBodyBytes } from '@hr-events/contract';
import { createProblem, ProblemError } from './problem.ts';

// Reads a request body into memory with a size limit, then parses it as JSON.

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Reads the body and parses it as JSON; throws a 413 or 400 problem when it cannot. */
export async function readJsonBody(request: Request, maxBytes = maxBodyBytes): Promise<unknown> {
  return parseJsonBody(await readBody(request, maxBytes));
}

/**
 * Reads the whole body, rejecting one larger than `maxBytes`. A declared Content-Length is checked
 * before anything is read; a chunked body is counted as it streams in, and reading stops at the
 * limit. Node's HTTP parser never delivers more bytes than Content-Length declares.
 */
export async function readBody(request: Request, maxBytes = maxBodyBytes): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared === null) return readStream(request.body, maxBytes);

  if (Number(declared) > maxBytes) throw tooLarge(maxBytes, `Content-Length is ${declared} bytes`);
  const bytes = new Uint8Array(await request.arrayBuffer());
  // A Request built in-process can carry more bytes than its Content-Length header declares.
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes, `the body has ${bytes.byteLength} bytes`);
  return bytes;
}

async function readStream(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Release without cancelling: cancelling would destroy the socket before the 413 is written.
      // The HTTP adapter discards the rest of the body, and Connection: close ends the connection.
      reader.releaseLock();
      throw tooLarge(maxBytes, `the body exceeds ${maxBytes} bytes after ${total} bytes were read`);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, total);
}

/** Decodes UTF-8 and parses JSON. The parser's message, passed on to the client, gives where the syntax broke. */
export function parseJsonBody(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) {
    throw invalidJson('The request body is empty; send the event as a JSON document.', 'is empty');
  }

  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw invalidJson('The request body is not valid UTF-8; encode the JSON document as UTF-8.', 'is not valid UTF-8');
  }

  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = (error as Error).message;
    throw invalidJson(`The request body is not valid JSON: ${reason}. Fix the JSON syntax there and resend.`, reason);
  }
}

function tooLarge(maxBytes: number, found: string): ProblemError {
  const detail = `The request body is larger than ${maxBytes} bytes (${found}); send smaller requests, for example fewer events per batch.`;
  const problem = createProblem(ProblemType.payloadTooLarge, 413, detail, [{ pointer: '', detail: `must be at most ${maxBytes} bytes` }]);
  return new ProblemError(problem, { connection: 'close' });
}

function invalidJson(detail: string, fieldDetail: string): ProblemError {
  return new ProblemError(createProblem(ProblemType.invalidJson, 400, detail, [{ pointer: '', detail: fieldDetail }]));
}
