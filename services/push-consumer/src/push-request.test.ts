import { describe, expect, it } from 'vitest';
import { parsePushRequest } from './push-request.ts';

const data = Buffer.from('{"personId":"P-1"}');

function wrapped(body: unknown) {
  return parsePushRequest(new Headers({ 'content-type': 'application/json' }), Buffer.from(JSON.stringify(body)));
}

describe('parsePushRequest', () => {
  it('reads a wrapped push with every member', () => {
    const result = wrapped({
      message: { data: data.toString('base64'), attributes: { 'ce-id': 'e-1' }, messageId: '11', publishTime: '2026-12-01T08:00:00Z', orderingKey: 'P-1' },
      subscription: 'projects/p/subscriptions/s',
      deliveryAttempt: 3,
    });
    expect(result.request).toEqual({
      format: 'wrapped',
      message: { data, attributes: { 'ce-id': 'e-1' }, messageId: '11', publishTime: '2026-12-01T08:00:00Z', orderingKey: 'P-1' },
      subscription: 'projects/p/subscriptions/s',
      deliveryAttempt: 3,
    });
  });

  it('reads the snake_case spellings', () => {
    const result = wrapped({ message: { data: '', message_id: '12', publish_time: '2026-12-01T08:00:00Z' } });
    expect(result.request?.message).toMatchObject({ messageId: '12', publishTime: '2026-12-01T08:00:00Z' });
  });

  it('leaves absent attributes and data undefined or empty', () => {
    const result = wrapped({ message: { messageId: '13' }, subscription: 'projects/p/subscriptions/s' });
    expect(result.request?.message.attributes).toBeUndefined();
    expect(result.request?.message.data).toEqual(Buffer.alloc(0));
    expect(result.request?.deliveryAttempt).toBeUndefined();
  });

  it('accepts a delivery attempt written as a string', () => {
    expect(wrapped({ message: { messageId: '14' }, deliveryAttempt: '7' }).request?.deliveryAttempt).toBe(7);
  });

  it('rejects wrapped pushes of the wrong shape', () => {
    expect(wrapped({ message: null }).problem).toMatch(/"message" must be a JSON object/);
    expect(wrapped({ message: { messageId: 15 } }).problem).toMatch(/messageId/);
    expect(wrapped({ message: { messageId: '16', data: 'a b' } }).problem).toMatch(/base64/);
    expect(wrapped({ message: { messageId: '17', attributes: ['x'] } }).problem).toMatch(/attributes/);
    expect(wrapped({ message: { messageId: '18' }, deliveryAttempt: 1.5 }).problem).toMatch(/deliveryAttempt/);
    expect(wrapped({ message: { messageId: '19' }, subscription: 5 }).problem).toMatch(/subscription/);
  });

  it('rejects a body that is neither form', () => {
    const result = parsePushRequest(new Headers(), Buffer.from('{"personId":"P-1"}'));
    expect(result.problem).toMatch(/not a Pub\/Sub push request/);
  });

  it('reads an unwrapped push from its headers', () => {
    const headers = new Headers({
      authorization: 'Bearer token',
      'user-agent': 'CloudPubSub-Google',
      'x-goog-pubsub-message-id': '20',
      'x-goog-pubsub-publish-time': '2026-12-01T08:00:00Z',
      'x-goog-pubsub-subscription-name': 'projects/p/subscriptions/s',
      'x-goog-pubsub-ordering-key': 'P-1',
      'ce-id': 'e-2',
      'ce-type': 'hr.employee.hired',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const result = parsePushRequest(headers, data);
    expect(result.request).toEqual({
      format: 'unwrapped',
      message: {
        data,
        attributes: { 'ce-id': 'e-2', 'ce-type': 'hr.employee.hired', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        messageId: '20',
        publishTime: '2026-12-01T08:00:00Z',
        orderingKey: 'P-1',
      },
      subscription: 'projects/p/subscriptions/s',
      deliveryAttempt: undefined,
    });
  });

  it('decodes UTF-8 attribute headers', () => {
    // Node hands each header byte over as one Latin-1 character.
    const headers = new Headers({ 'x-goog-pubsub-message-id': '21', 'ce-subject': Buffer.from('Zoë', 'utf8').toString('latin1') });
    expect(parsePushRequest(headers, data).request?.message.attributes).toEqual({ 'ce-subject': 'Zoë' });
  });

  it('reads the unwrapped delivery attempt header', () => {
    const headers = new Headers({ 'x-goog-pubsub-message-id': '22', 'x-goog-pubsub-delivery-attempt': '4' });
    expect(parsePushRequest(headers, data).request?.deliveryAttempt).toBe(4);
    headers.set('x-goog-pubsub-delivery-attempt', 'four');
    expect(parsePushRequest(headers, data).problem).toMatch(/delivery-attempt/);
  });
});
