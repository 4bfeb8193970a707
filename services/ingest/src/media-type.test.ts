import { ProblemType } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { eventModeOf, parseMediaType } from './media-type.ts';
import { ProblemError } from './problem.ts';

function rejection(contentType: string | undefined): ProblemError {
  try {
    eventModeOf(contentType, false);
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error(`"${contentType}" was accepted`);
}

describe('parseMediaType', () => {
  it('lower-cases the type and reads the charset', () => {
    expect(parseMediaType('Application/CloudEvents+JSON; Charset="UTF-8"')).toEqual({ essence: 'application/cloudevents+json', charset: 'utf-8' });
  });

  it('ignores other parameters', () => {
    expect(parseMediaType('application/json; profile=x ; charset=utf-8')).toEqual({ essence: 'application/json', charset: 'utf-8' });
    expect(parseMediaType('application/json;boundary')).toEqual({ essence: 'application/json', charset: undefined });
  });
});

describe('eventModeOf', () => {
  it('chooses the mode from the media type', () => {
    expect(eventModeOf('application/cloudevents+json', false)).toBe('structured');
    expect(eventModeOf('application/cloudevents-batch+json', false)).toBe('batch');
    expect(eventModeOf('application/json', true)).toBe('binary');
    expect(eventModeOf('application/json', false)).toBe('structured');
  });

  it('structured content type wins over ce headers', () => {
    expect(eventModeOf('application/cloudevents+json', true)).toBe('structured');
  });

  it('ignores case and utf-8 charset', () => {
    expect(eventModeOf('APPLICATION/CLOUDEVENTS-BATCH+JSON; charset=UTF-8', false)).toBe('batch');
  });

  it('missing content type is 415', () => {
    const error = rejection(undefined);
    expect(error.problem.status).toBe(415);
    expect(error.problem.type).toBe(ProblemType.unsupportedMediaType);
    expect(error.problem.detail).toContain('no Content-Type');
    expect(error.problem.errors).toEqual([{ pointer: '/headers/content-type', detail: 'is missing' }]);
  });

  it('other media type is 415', () => {
    const error = rejection('text/plain');
    expect(error.problem.status).toBe(415);
    expect(error.problem.detail).toContain('Content-Type "text/plain" is not accepted; send application/cloudevents+json');
  });

  it('charset other than utf-8 is 415', () => {
    const error = rejection('application/cloudevents+json; charset=ISO-8859-1');
    expect(error.problem.status).toBe(415);
    expect(error.problem.detail).toBe('Charset "iso-8859-1" is not supported; encode the body as UTF-8 and send charset=utf-8 or no charset.');
  });
});
