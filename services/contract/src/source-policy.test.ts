import { describe, expect, it } from 'vitest';
import { authorize, createApiKey, hashApiKey, parseApiKey, sourcePolicyOf } from './source-policy.ts';

const vendor = sourcePolicyOf({
  name: 'vendor-office',
  sources: ['vendor-office', 'vendor-office-eu'],
  types: ['hr.contractor.engaged'],
  rateLimit: { eventsPerSecond: 1, burst: 1 },
  apiKeys: [],
  serviceAccounts: [],
});

describe('authorize', () => {
  it('allowed source and type pass', () => {
    expect(authorize(vendor, { source: 'vendor-office-eu', type: 'hr.contractor.engaged' })).toEqual([]);
  });

  it('foreign source names the value and the allowed ones', () => {
    expect(authorize(vendor, { source: 'hr-system', type: 'hr.contractor.engaged' })).toEqual([
      { attribute: 'source', value: 'hr-system', detail: 'source "hr-system" is not allowed for "vendor-office", which may send the sources vendor-office, vendor-office-eu' },
    ]);
  });

  it('foreign type names the value and the allowed ones', () => {
    expect(authorize(vendor, { source: 'vendor-office', type: 'hr.employee.hired' })).toEqual([
      { attribute: 'type', value: 'hr.employee.hired', detail: 'type "hr.employee.hired" is not allowed for "vendor-office", which may send the types hr.contractor.engaged' },
    ]);
  });

  it('both wrong gives two violations', () => {
    expect(authorize(vendor, { source: 'hr-system', type: 'hr.employee.hired' }).map((violation) => violation.attribute)).toEqual(['source', 'type']);
  });

  it('matching is exact', () => {
    expect(authorize(vendor, { source: 'Vendor-Office', type: 'hr.contractor.engaged' })).toHaveLength(1);
    expect(authorize(vendor, { source: 'vendor-office/extra', type: 'hr.contractor.engaged' })).toHaveLength(1);
  });
});

describe('api keys', () => {
  it('created key parses and matches its hash', () => {
    const { key, sha256 } = createApiKey('hr-system', 'k1');
    expect(key).toMatch(/^hrk\.hr-system\.k1\.[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(key)).toEqual({ principal: 'hr-system', keyId: 'k1' });
    expect(hashApiKey(key)).toBe(sha256);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keys differ each time', () => {
    expect(createApiKey('hr-system', 'k1').key).not.toBe(createApiKey('hr-system', 'k1').key);
  });

  it('text outside the format is not a key', () => {
    expect(parseApiKey('hrk.hr-system.k1')).toBeUndefined();
    expect(parseApiKey('hrk.HR.k1.' + 'a'.repeat(43))).toBeUndefined();
  });
});
