import { describe, expect, it } from 'vitest';
import { DataValidator, childTrace, loadCatalog, parseSources, parseStructuredEvent, principalAttribute, toPubSubMessage } from '@hr-events/contract';
import { describeDeadLetter, findReplayProblem, replayAttributes, type DeadLetterMessage } from '../../scripts/lib/dead-letter-check.ts';
import { engagedEvent, hiredEvent, type StructuredEvent } from '../fixtures/events.ts';

// The checks of the dead-letter tool, in-process: what it reports for each kind of message and
// which attributes a replay keeps. test/faults/dead-letters.test.ts runs the tool on the emulator.

const catalog = loadCatalog();
const validator = new DataValidator(catalog);
const sources = parseSources(
  {
    principals: [
      { name: 'hr-system', sources: ['hr-system'], types: ['hr.employee.hired'], rateLimit: { eventsPerSecond: 10, burst: 10 } },
      { name: 'vendor-office', sources: ['vendor-office'], types: ['hr.contractor.engaged'], rateLimit: { eventsPerSecond: 10, burst: 10 } },
    ],
  },
  { origin: 'test sources' },
);
const context = { catalog, validator, sources };

function deadLetter(event: StructuredEvent, attributes: Record<string, string | undefined> = {}): DeadLetterMessage {
  const parsed = parseStructuredEvent(event, validator);
  if (parsed.event === undefined) throw new Error(`invalid fixture: ${JSON.stringify(parsed.problems)}`);
  const message = toPubSubMessage(parsed.event, catalog, childTrace(undefined).traceparent);
  const merged: Record<string, string> = { ...message.attributes, [principalAttribute]: event.source };
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return { messageId: '42', data: message.data, attributes: merged, orderingKey: message.orderingKey, publishTime: '2027-01-04T09:00:00.000Z' };
}

describe('dead-letter checks', () => {
  it('valid message is replayable', () => {
    const message = deadLetter(hiredEvent({ id: 'evt-1' }), {
      CloudPubSubDeadLetterSourceSubscription: 'hr-events-directory-pull',
      CloudPubSubDeadLetterSourceDeliveryCount: '10',
    });
    expect(describeDeadLetter(message, context)).toEqual({
      messageId: '42',
      eventId: 'evt-1',
      source: 'hr-system',
      type: 'hr.employee.hired',
      principal: 'hr-system',
      sourceSubscription: 'hr-events-directory-pull',
      deliveryAttempts: 10,
      deadLetteredAt: '2027-01-04T09:00:00.000Z',
      problem: undefined,
    });
  });

  it('missing attribute is poison', () => {
    expect(findReplayProblem(deadLetter(hiredEvent(), { 'ce-id': undefined }), context)).toEqual({
      kind: 'poison',
      reason: 'missing-attribute',
      detail: 'message has no "ce-id" attribute',
    });
  });

  it('invalid data names fields, not values', () => {
    const message = deadLetter(hiredEvent());
    const record = JSON.parse(message.data.toString()) as Record<string, unknown>;
    message.data = Buffer.from(JSON.stringify({ ...record, workEmail: 'ada-at-example' }));
    const problem = findReplayProblem(message, context);
    expect(problem).toEqual({ kind: 'poison', reason: 'invalid-data', detail: 'invalid fields /data/workEmail' });
    expect(JSON.stringify(problem)).not.toContain('ada-at-example');
  });

  it('source outside the policy is rejected', () => {
    const problem = findReplayProblem(deadLetter(engagedEvent(), { [principalAttribute]: 'hr-system' }), context);
    expect(problem).toMatchObject({ kind: 'policy', reason: 'not-allowed' });
    expect(problem?.detail).toContain('source "vendor-office" is not allowed for "hr-system"');
    expect(problem?.detail).toContain('type "hr.contractor.engaged" is not allowed for "hr-system"');
  });

  it('missing principal is rejected', () => {
    expect(findReplayProblem(deadLetter(hiredEvent(), { [principalAttribute]: undefined }), context)).toMatchObject({ kind: 'principal', reason: 'no-principal' });
  });

  it('principal gone from the sources is rejected', () => {
    expect(findReplayProblem(deadLetter(hiredEvent(), { [principalAttribute]: 'benchmark' }), context)).toEqual({
      kind: 'principal',
      reason: 'unknown-principal',
      detail: 'principal "benchmark" is not in the sources file; it may have been removed since',
    });
  });

  it('replay drops attributes Pub/Sub added', () => {
    const attributes = {
      'ce-id': 'evt-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      [principalAttribute]: 'hr-system',
      googclient_schemaencoding: 'JSON',
      googclient_schemaname: 'projects/p/schemas/hr-events-data',
      CloudPubSubDeadLetterSourceDeliveryCount: '10',
      CloudPubSubDeadLetterSourceSubscription: 'hr-events-onboarding-push',
    };
    expect(replayAttributes(attributes)).toEqual({
      'ce-id': 'evt-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      [principalAttribute]: 'hr-system',
    });
  });
});
