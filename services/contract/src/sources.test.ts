import { describe, expect, it } from 'vitest';
import { parseSources, SourcesFileError } from './sources.ts';

const hash = (digit: string) => digit.repeat(64);
const knownTypes = ['hr.contractor.engaged', 'hr.employee.hired'];

function principal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'hr-system',
    sources: ['hr-system'],
    types: ['hr.employee.hired'],
    rateLimit: { eventsPerSecond: 50, burst: 100 },
    apiKeys: [{ id: 'k1', sha256: hash('a') }],
    ...overrides,
  };
}

/** Returns the problems parseSources reports for `value`. */
function problemsOf(value: unknown, options: { allowDevelopmentKeys?: boolean } = {}): string[] {
  try {
    parseSources(value, { origin: 'sources.json', knownTypes, ...options });
  } catch (error) {
    if (error instanceof SourcesFileError) return error.problems;
    throw error;
  }
  throw new Error('parseSources accepted the file');
}

describe('parseSources', () => {
  it('reads principals with defaults for missing credentials', () => {
    const file = parseSources(
      { $comment: 'test', principals: [principal(), principal({ name: 'sync', apiKeys: undefined, serviceAccounts: ['Sync@HR.iam.gserviceaccount.com'] })] },
      { origin: 'sources.json', knownTypes },
    );
    expect(file.principals).toEqual([
      { name: 'hr-system', sources: ['hr-system'], types: ['hr.employee.hired'], rateLimit: { eventsPerSecond: 50, burst: 100 }, apiKeys: [{ id: 'k1', sha256: hash('a') }], serviceAccounts: [] },
      { name: 'sync', sources: ['hr-system'], types: ['hr.employee.hired'], rateLimit: { eventsPerSecond: 50, burst: 100 }, apiKeys: [], serviceAccounts: ['sync@hr.iam.gserviceaccount.com'] },
    ]);
  });

  it('accepts an empty principal list', () => {
    expect(parseSources({ principals: [] }, { origin: 'x' })).toEqual({ principals: [] });
  });

  it('names the file in the message', () => {
    expect(() => parseSources([], { origin: 'config/x.json' })).toThrow('Invalid sources file config/x.json: The file must hold a JSON object');
  });

  it('missing principals array names the fix', () => {
    expect(problemsOf({ sources: [] })).toEqual([
      'The file has an unknown member "sources"; the members are principals.',
      '"principals" must be an array of principals, possibly empty; add "principals": [].',
    ]);
  });

  it.each([
    ['bad name', { name: 'HR System' }, 'principals[0] ("HR System"): "name" must be 1 to 63 lower-case letters'],
    ['no sources', { sources: [] }, '"sources" must be a non-empty array of strings, found []'],
    ['source with a space', { sources: ['hr system'] }, '"sources": "hr system" must be at most 512 characters without spaces'],
    ['unknown type', { types: ['hr.employee.fired'] }, '"types": "hr.employee.fired" is not an event type of the catalog (hr.contractor.engaged, hr.employee.hired)'],
    ['types not an array', { types: 'hr.employee.hired' }, '"types" must be a non-empty array of strings'],
    ['missing rate limit', { rateLimit: undefined }, '"rateLimit" must be an object such as {"eventsPerSecond": 100, "burst": 200}, found null'],
    ['zero rate', { rateLimit: { eventsPerSecond: 0, burst: 1 } }, '"rateLimit.eventsPerSecond" must be a number above 0 and at most 1000000, found 0'],
    ['fractional burst', { rateLimit: { eventsPerSecond: 1, burst: 1.5 } }, '"rateLimit.burst" must be a whole number from 1 to 1000000, found 1.5'],
    ['short hash', { apiKeys: [{ id: 'k1', sha256: 'abc' }] }, 'apiKeys[0]: "sha256" must be 64 lower-case hex digits'],
    ['bad key id', { apiKeys: [{ id: 'K 1', sha256: hash('a') }] }, 'apiKeys[0]: "id" must be 1 to 32 lower-case letters'],
    ['repeated key id', { apiKeys: [{ id: 'k1', sha256: hash('a') }, { id: 'k1', sha256: hash('b') }] }, 'key id "k1" appears twice in this principal'],
    ['user account', { serviceAccounts: ['ada@example.com'] }, 'serviceAccounts entry "ada@example.com" is not a Google service account email'],
    ['misspelt member', { type: ['hr.employee.hired'] }, 'principals[0] ("hr-system") has an unknown member "type"; the members are name, description, sources, types'],
    ['unknown key member', { apiKeys: [{ id: 'k1', sha256: hash('a'), key: 'x' }] }, 'apiKeys[0] has an unknown member "key"'],
  ])('%s is rejected', (_name, overrides, message) => {
    const problems = problemsOf({ principals: [principal(overrides)] });
    expect(problems.join('\n')).toContain(message);
  });

  it('development keys are refused for a deployment', () => {
    const withKey = principal({ apiKeys: [{ id: 'k1', sha256: hash('a'), localDevelopmentKey: 'hrk.hr-system.k1.x' }] });
    expect(parseSources({ principals: [withKey] }, { origin: 'x' }).principals[0]?.apiKeys).toEqual([{ id: 'k1', sha256: hash('a') }]);
    expect(problemsOf({ principals: [withKey] }, { allowDevelopmentKeys: false })).toEqual([
      'principals[0] ("hr-system"): apiKeys[0] carries "localDevelopmentKey", a clear-text key for the local stack only; remove it, because a deployment needs only "sha256".',
    ]);
  });

  it('names, hashes and accounts belong to one principal', () => {
    const account = 'sync@hr.iam.gserviceaccount.com';
    const problems = problemsOf({
      principals: [
        principal({ serviceAccounts: [account] }),
        principal({ apiKeys: [{ id: 'k2', sha256: hash('b') }] }),
        principal({ name: 'vendor-office', serviceAccounts: [account] }),
      ],
    });
    expect(problems).toEqual([
      'The principal name "hr-system" is used more than once; give each principal its own name.',
      `The API key sha256 "${hash('a')}" belongs to both "hr-system" and "vendor-office"; each must belong to one principal only.`,
      `The service account "${account}" belongs to both "hr-system" and "vendor-office"; each must belong to one principal only.`,
    ]);
  });

  it('account listed twice in one principal is rejected', () => {
    const account = 'sync@hr.iam.gserviceaccount.com';
    expect(problemsOf({ principals: [principal({ serviceAccounts: [account, account] })] })).toEqual([
      `The service account "${account}" appears twice in "hr-system"; list it once.`,
    ]);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ principals: [principal({ name: 1, types: [] }), 'x'] })).toHaveLength(3);
  });
});
