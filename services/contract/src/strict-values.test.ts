import { describe, expect, it } from 'vitest';
import { engagedEvent, hiredEvent } from '../../../test/fixtures/events.ts';
import { loadCatalog } from './catalog.ts';
import { isRfc3339, parseStructuredEvent } from './cloudevent.ts';
import { DataValidator } from './validation.ts';

// Values that look valid to a quick check but would not reach the consumers as sent: impossible
// timestamps, which Date.parse rolls over, and unpaired surrogates, which UTF-8 cannot encode.

const validator = new DataValidator(loadCatalog());
const unpaired = '\ud800';

describe('isRfc3339', () => {
  it.each(['2027-01-04T09:00:00Z', '2028-02-29T23:59:59.999+01:00', '2000-02-29T00:00:00z', '2027-12-31t23:59:59-23:59'])('%s is accepted', (value) => {
    expect(isRfc3339(value)).toBe(true);
  });

  it.each([
    '2027-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2027-02-30T00:00:00Z',
    '2027-04-31T00:00:00Z',
    '2027-13-01T00:00:00Z',
    '2027-00-10T00:00:00Z',
    '2027-01-00T00:00:00Z',
    '2027-01-01T24:00:00Z',
    '2027-01-01T23:60:00Z',
    '2027-01-01T23:59:60Z',
    '2027-01-01T09:00:00+24:00',
    '2027-01-01 09:00:00Z',
  ])('%s is rejected', (value) => {
    expect(isRfc3339(value)).toBe(false);
  });
});

describe('unpaired surrogates', () => {
  it('in an attribute are rejected', () => {
    const result = parseStructuredEvent(hiredEvent({ id: `evt-${unpaired}` }), validator);
    expect(result.problems).toEqual([{ pointer: '/id', detail: 'attribute "id" must be valid Unicode text; it contains an unpaired surrogate' }]);
  });

  it('in an extension are rejected', () => {
    const result = parseStructuredEvent(hiredEvent({ tenant: `acme${unpaired}` }), validator);
    expect(result.problems).toEqual([{ pointer: '/tenant', detail: 'extension "tenant" must be valid Unicode text; it contains an unpaired surrogate' }]);
  });

  it('in event data are rejected', () => {
    const input = engagedEvent();
    const data = { ...input.data, givenName: `Gr${unpaired}ace` };
    expect(validator.validate('hr.contractor.engaged', data, '/data')).toEqual([
      { pointer: '/data/givenName', detail: 'must be valid Unicode text; it contains an unpaired surrogate' },
    ]);
  });

  it('paired surrogates are fine', () => {
    const result = parseStructuredEvent(hiredEvent({ id: 'evt-\u{1F600}', data: { ...hiredEvent().data, givenName: 'Ada \u{1F600}' } }), validator);
    expect(result.problems).toBeUndefined();
  });
});
