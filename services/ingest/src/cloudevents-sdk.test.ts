import { CloudEvent, HTTP } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { hiredData } from '../test/support/fixtures.ts';
import { createTestApp, InMemoryPublisher, jsonOf, testCredentials } from '../test/support/harness.ts';

// Requests built by the official CloudEvents SDK for JavaScript, so the ingest accepts what other
// CloudEvents producers send, not only what these tests write by hand.

function sdkEvent(id: string): CloudEvent<Record<string, unknown>> {
  return new CloudEvent({
    id,
    source: 'hr-system',
    type: 'hr.employee.hired',
    subject: 'P-1001',
    datacontenttype: 'application/json',
    data: hiredData(),
    tenant: 'acme',
  });
}

async function send(message: { headers: Record<string, unknown>; body: unknown }): Promise<{ status: number; body: unknown; publisher: InMemoryPublisher }> {
  const publisher = new InMemoryPublisher();
  const { app } = createTestApp({ publisher });
  const response = await app.request('/v1/events', {
    method: 'POST',
    headers: { ...(message.headers as Record<string, string>), ...testCredentials },
    body: message.body as string,
  });
  return { status: response.status, body: await jsonOf(response), publisher };
}

describe('CloudEvents SDK interoperability', () => {
  it('binary mode from the SDK is accepted', async () => {
    const event = sdkEvent('sdk-binary-1');
    const { status, body, publisher } = await send(HTTP.binary(event));
    expect(status).toBe(202);
    expect(body).toEqual({ id: 'sdk-binary-1', source: 'hr-system' });
    expect(publisher.messages[0]?.attributes).toMatchObject({
      'ce-id': 'sdk-binary-1',
      'ce-type': 'hr.employee.hired',
      'ce-subject': 'P-1001',
      'ce-time': event.time,
      'ce-tenant': 'acme',
    });
    expect(publisher.messages[0]?.orderingKey).toBe('P-1001');
  });

  it('structured mode from the SDK is accepted', async () => {
    const event = sdkEvent('sdk-structured-1');
    const message = HTTP.structured(event);
    expect(message.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    const { status, body, publisher } = await send(message);
    expect(status).toBe(202);
    expect(body).toEqual({ id: 'sdk-structured-1', source: 'hr-system' });
    expect(publisher.messages[0]?.attributes).toMatchObject({ 'ce-id': 'sdk-structured-1', 'ce-tenant': 'acme', 'ce-time': event.time });
  });

  it('invalid data from the SDK is rejected', async () => {
    const event = new CloudEvent({ id: 'sdk-bad-1', source: 'hr-system', type: 'hr.employee.hired', data: hiredData({ startDate: 'soon' }) });
    const { status, body, publisher } = await send(HTTP.binary(event));
    expect(status).toBe(400);
    expect(body).toMatchObject({ errors: [{ pointer: '/data/startDate', detail: 'must be a calendar date in ISO 8601 form, such as 2027-01-04' }] });
    expect(publisher.messages).toHaveLength(0);
  });
});
