import { createApiKey, type SourcePrincipal } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { ApiKeyVerifier } from './api-keys.ts';

const hrKey = createApiKey('hr-system', 'k1');
const vendorKey = createApiKey('vendor-office', 'k7');

function principal(name: string, keys: { id: string; sha256: string }[]): SourcePrincipal {
  return { name, sources: [name], types: ['hr.employee.hired'], rateLimit: { eventsPerSecond: 1, burst: 1 }, apiKeys: keys, serviceAccounts: [] };
}

const verifier = new ApiKeyVerifier([principal('hr-system', [{ id: 'k1', sha256: hrKey.sha256 }]), principal('vendor-office', [{ id: 'k7', sha256: vendorKey.sha256 }])]);

describe('ApiKeyVerifier', () => {
  it('stored key names its principal', () => {
    expect(verifier.verify(hrKey.key)).toEqual({ principal: 'hr-system', keyId: 'k1' });
    expect(verifier.verify(vendorKey.key)).toEqual({ principal: 'vendor-office', keyId: 'k7' });
  });

  it('wrong secret is rejected', () => {
    const secret = hrKey.key.slice(hrKey.key.lastIndexOf('.') + 1);
    const changed = `${hrKey.key.slice(0, -secret.length)}${secret.startsWith('A') ? 'B' : 'A'}${secret.slice(1)}`;
    expect(verifier.verify(changed)).toEqual({ principal: 'hr-system', keyId: 'k1', failure: 'wrong-secret' });
  });

  it('key of one principal under another name is rejected', () => {
    const borrowed = vendorKey.key.replace('hrk.vendor-office.', 'hrk.hr-system.');
    expect(verifier.verify(borrowed)).toMatchObject({ failure: 'unknown-key' });
  });

  it('revoked or unknown key id is rejected', () => {
    expect(verifier.verify(createApiKey('hr-system', 'k2').key)).toEqual({ principal: 'hr-system', keyId: 'k2', failure: 'unknown-key' });
    expect(verifier.verify(createApiKey('payroll', 'k1').key)).toMatchObject({ failure: 'unknown-key' });
  });

  it.each([
    ['empty value', ''],
    ['bare secret', 'CedjMIlLf3X0Ho8E2Z3mc8J3RRjff616wAX_flLvXWc'],
    ['short secret', 'hrk.hr-system.k1.abc'],
    ['trailing text', `${hrKey.key} extra`],
    ['other prefix', hrKey.key.replace(/^hrk/, 'sk')],
  ])('%s is malformed', (_name, key) => {
    expect(verifier.verify(key)).toEqual({ failure: 'malformed-key' });
  });
});
