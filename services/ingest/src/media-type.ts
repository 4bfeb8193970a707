import { ProblemType } from '@hr-events/contract';
import { createProblem, ProblemError } from './problem.ts';

// The CloudEvents HTTP binding picks the mode from Content-Type: structured for
// application/cloudevents+json, batched for application/cloudevents-batch+json, and binary for any
// other media type, with the context in ce-* headers. Plain application/json without a
// ce-specversion header is taken as one structured event, because many clients send that.

export type EventMode = 'structured' | 'binary' | 'batch';

export interface MediaType {
  /** Type and subtype in lower case, without parameters. */
  essence: string;
  /** The charset parameter in lower case, when present. */
  charset: string | undefined;
}

const structuredType = 'application/cloudevents+json';
const batchType = 'application/cloudevents-batch+json';
const jsonType = 'application/json';
const acceptedTypes = `${structuredType} (one event), ${batchType} (a JSON array of events), or ${jsonType} with ce-* headers (binary mode)`;

export function parseMediaType(header: string): MediaType {
  const separator = header.indexOf(';');
  const essence = (separator === -1 ? header : header.slice(0, separator)).trim().toLowerCase();
  let charset: string | undefined;
  if (separator !== -1) {
    for (const parameter of header.slice(separator + 1).split(';')) {
      const equals = parameter.indexOf('=');
      if (equals === -1 || parameter.slice(0, equals).trim().toLowerCase() !== 'charset') continue;
      charset = parameter.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    }
  }
  return { essence, charset };
}

/** Chooses the CloudEvents mode of a request, or throws a 415 problem naming the accepted types. */
export function eventModeOf(contentType: string | undefined, hasSpecVersionHeader: boolean): EventMode {
  if (contentType === undefined || contentType.trim() === '') {
    throw unsupported(`The request has no Content-Type; send ${acceptedTypes}.`, 'is missing');
  }

  const { essence, charset } = parseMediaType(contentType);
  if (charset !== undefined && charset !== 'utf-8') {
    throw unsupported(
      `Charset "${charset}" is not supported; encode the body as UTF-8 and send charset=utf-8 or no charset.`,
      `charset "${charset}" is not supported`,
    );
  }

  if (essence === structuredType) return 'structured';
  if (essence === batchType) return 'batch';
  if (essence === jsonType) return hasSpecVersionHeader ? 'binary' : 'structured';
  throw unsupported(`Content-Type "${essence}" is not accepted; send ${acceptedTypes}.`, `"${essence}" is not accepted`);
}

function unsupported(detail: string, fieldDetail: string): ProblemError {
  return new ProblemError(createProblem(ProblemType.unsupportedMediaType, 415, detail, [{ pointer: '/headers/content-type', detail: fieldDetail }]));
}
