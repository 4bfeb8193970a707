import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, personalDataCensor, personalDataPaths, traceLogFields } from './logging.ts';

function capture(): { lines: Record<string, unknown>[]; text: () => string; destination: Writable } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    destination,
    text: () => chunks.join(''),
    get lines() {
      return chunks.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}

const person = { personId: 'P-1', givenName: 'Ada', familyName: 'Lovelace', workEmail: 'ada@example.com' };

/** Builds an object with `value` at a dotted path such as `envelope.message.data`. */
function objectAt(path: string, value: unknown): Record<string, unknown> {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

describe('createLogger', () => {
  it('writes the fields Cloud Logging reads', () => {
    const output = capture();
    const logger = createLogger({ service: 'ingest', level: 'info', destination: output.destination });
    logger.warn({ eventId: 'e-1' }, 'publish slow');
    const [line] = output.lines;
    expect(line).toMatchObject({ service: 'ingest', severity: 'WARNING', message: 'publish slow', eventId: 'e-1' });
    expect(typeof line!.time).toBe('string');
  });

  it.each(personalDataPaths)('removes personal data logged at %s', (path) => {
    const output = capture();
    const logger = createLogger({ service: 'test', level: 'info', destination: output.destination });
    logger.info({ ...objectAt(path, person), eventId: 'e-2' }, 'logged by mistake');
    expect(output.text()).not.toContain('Lovelace');
    expect(output.text()).toContain(personalDataCensor);
    expect(output.lines[0]!.eventId).toBe('e-2');
  });

  it('leaves the logged object as it was', () => {
    const output = capture();
    const logger = createLogger({ service: 'test', level: 'info', destination: output.destination });
    const event = { id: 'e-3', data: person };
    logger.info({ event }, 'logged by mistake');
    expect(event.data).toBe(person);
  });
});

describe('traceLogFields', () => {
  it('names the trace in the project', () => {
    expect(traceLogFields({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` }, 'p-1')).toEqual({
      'logging.googleapis.com/trace': `projects/p-1/traces/${'a'.repeat(32)}`,
      'logging.googleapis.com/spanId': 'b'.repeat(16),
    });
  });
});
