import { describe, expect, test } from 'vitest';
import { createDeployment } from '../../infra/deployment.ts';
import { defaults, readSettings, SettingsError, type ConfigSource } from '../../infra/settings.ts';
import { runFailingProgram } from './harness.ts';

// Settings are validated before any resource exists, and each error names the setting and the fix.

function source(values: Record<string, string>): ConfigSource {
  return {
    namespace: 'hr-events',
    get: (key) => values[`hr-events:${key}`],
    getGcp: (key) => values[`gcp:${key}`],
  };
}

const project = { 'gcp:project': 'hr-events-test' };

/** Returns the message of the error readSettings throws for these values. */
function errorFor(values: Record<string, string>): string {
  try {
    readSettings(source(values));
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error(`readSettings accepted ${JSON.stringify(values)}`);
}

describe('settings', () => {
  test('defaults with only gcp:project', () => {
    const settings = readSettings(source(project));
    expect(settings).toMatchObject({
      project: 'hr-events-test',
      ingestRegions: ['us-central1'],
      loadBalancer: false,
      firestoreLocation: 'us-central1',
      ...defaults,
    });
    expect(settings.images).toBeUndefined();
    expect(settings.domain).toBeUndefined();
  });

  test('missing gcp:project names the fix', () => {
    const message = errorFor({});
    expect(message).toContain('gcp:project is missing');
    expect(message).toContain('pulumi config set gcp:project <project-id>');
  });

  test('missing gcp:project fails before resources', async () => {
    const { error, registered } = await runFailingProgram({}, () => createDeployment(readSettings()));
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).message).toMatch(/gcp:project is missing.*pulumi config set gcp:project/s);
    expect(registered).toBe(0);
  });

  test('invalid setting fails before resources', async () => {
    const config = { 'gcp:project': 'hr-events-test', 'hr-events:ingestConcurrency': '0' };
    const { error, registered } = await runFailingProgram(config, () => createDeployment(readSettings()));
    expect((error as Error).message).toContain('hr-events:ingestConcurrency must be an integer from 1 to 1000, found "0"');
    expect(registered).toBe(0);
  });

  test.each([
    ['hr-events:ingestMaxInstances', 'many', 'must be an integer from 1 to 1000, found "many"'],
    ['hr-events:ingestMinInstances', '-1', 'must be an integer from 0 to 1000, found "-1"'],
    ['hr-events:pullWorkerMinInstances', '0', 'must be an integer from 1 to 1000, found "0"'],
    ['hr-events:ingestPublic', 'yes', 'must be true or false, found "yes"'],
    ['hr-events:pushConsumerIngress', 'public', 'must be one of internal, all, found "public"'],
    ['hr-events:logLevel', 'verbose', 'must be one of trace, debug, info, warn, error, fatal'],
    ['hr-events:ingestRegions', 'us-central1,mars', 'must list one or more Google Cloud regions'],
    ['hr-events:ingestRegions', 'us-central1,us-central1', 'lists a region twice'],
    ['hr-events:namePrefix', 'HR_Events', 'must be 2 to 19 lower-case letters'],
    ['hr-events:domain', 'https://events.example.com', 'must be a lower-case DNS name'],
    ['hr-events:topicKmsKey', 'my-key', 'must be a key name of the form projects/P/locations/L/keyRings/R/cryptoKeys/K'],
    ['hr-events:firestoreDatabase', 'HR', 'must be (default) or 4 to 63 lower-case letters'],
    ['hr-events:alertEmail', 'oncall', 'must be an email address'],
    ['hr-events:images', '{"ingest":"repo/ingest:latest"}', 'images.ingest must be an image reference pinned to a digest'],
    ['gcp:project', 'My Project', 'must be a project id of 6 to 30'],
    ['gcp:region', 'central', 'must be a Google Cloud region such as us-central1'],
  ])('%s=%s is rejected', (key, value, rule) => {
    const message = errorFor({ ...project, [key]: value });
    expect(message).toContain(key);
    expect(message).toContain(rule);
    expect(message).toMatch(/Fix it with `pulumi config set/);
  });

  test('minimum above maximum is rejected', () => {
    const message = errorFor({ ...project, 'hr-events:ingestMinInstances': '5', 'hr-events:ingestMaxInstances': '2' });
    expect(message).toContain('hr-events:ingestMinInstances (5) must not exceed hr-events:ingestMaxInstances (2)');
    expect(message).toContain('pulumi config set hr-events:ingestMaxInstances 5');
  });

  test('several regions need the load balancer', () => {
    const message = errorFor({ ...project, 'hr-events:ingestRegions': 'us-central1,europe-west1', 'hr-events:loadBalancer': 'false' });
    expect(message).toContain('hr-events:loadBalancer is false but hr-events:ingestRegions lists 2 regions');
    expect(message).toContain('pulumi config rm hr-events:loadBalancer');
  });

  test('rate limit needs the load balancer', () => {
    const message = errorFor({ ...project, 'hr-events:rateLimitPerMinute': '100' });
    expect(message).toContain('hr-events:rateLimitPerMinute needs the load balancer');
  });

  test('every problem is reported at once', () => {
    const message = errorFor({ 'hr-events:logLevel': 'loud', 'hr-events:ingestPublic': 'maybe' });
    expect(message).toContain('gcp:project is missing');
    expect(message).toContain('hr-events:logLevel');
    expect(message).toContain('hr-events:ingestPublic');
  });

  test('regions accept a JSON array', () => {
    const settings = readSettings(source({ ...project, 'hr-events:ingestRegions': '["europe-west1","us-east1"]' }));
    expect(settings.ingestRegions).toEqual(['europe-west1', 'us-east1']);
    expect(settings.loadBalancer).toBe(true);
  });

  test('configured zero is kept', () => {
    const settings = readSettings(source({ ...project, 'hr-events:ingestMinInstances': '0', 'hr-events:ingestMaxInstances': '1' }));
    expect(settings.ingestMinInstances).toBe(0);
    expect(settings.ingestMaxInstances).toBe(1);
  });

  test('filter longer than 256 bytes is rejected', () => {
    const message = errorFor({ ...project, 'hr-events:directoryFilter': `attributes.x = "${'a'.repeat(260)}"` });
    expect(message).toContain('hr-events:directoryFilter must be a Pub/Sub filter of 1 to 256 bytes');
  });
});
