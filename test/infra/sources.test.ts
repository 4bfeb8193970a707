import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createDeployment } from '../../infra/deployment.ts';
import { readSettings, SettingsError } from '../../infra/settings.ts';
import { envOf, grantsOf, minimalConfig, projectId, projectNumber, runFailingProgram, runProgram, unwrapSecret } from './harness.ts';

// The ingest's sources: the stack setting, the Secret Manager secret that carries them, the one
// grant to read it, the file mount and the audience of ID tokens.

const run = (config: Record<string, string>) => runProgram({ ...minimalConfig, ...config }, () => createDeployment(readSettings()));
const types = {
  secret: 'gcp:secretmanager/secret:Secret',
  version: 'gcp:secretmanager/secretVersion:SecretVersion',
  run: 'gcp:cloudrunv2/service:Service',
};
const ingestAccount = `serviceAccount:hr-events-ingest@${projectId}.iam.gserviceaccount.com`;

const vendorOffice = {
  name: 'vendor-office',
  sources: ['vendor-office'],
  types: ['hr.contractor.engaged'],
  rateLimit: { eventsPerSecond: 20, burst: 100 },
  apiKeys: [{ id: 'k1', sha256: 'b'.repeat(64) }],
  serviceAccounts: ['vendor-sync@partner-project.iam.gserviceaccount.com'],
};

function sourcesFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'infra-sources-')), 'sources.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The sources file the deployment stores in the secret version. */
function storedSources(graph: Awaited<ReturnType<typeof run>>): unknown {
  const data = unwrapSecret(graph.ofType(types.version)[0]!.inputs.secretData);
  expect(data.secret).toBe(true);
  return JSON.parse(data.value);
}

/** Returns the message of the SettingsError for these settings. */
function settingsError(config: Record<string, string>): string {
  const values: Record<string, string> = { ...minimalConfig, ...config };
  try {
    readSettings({ namespace: 'hr-events', get: (key) => values[`hr-events:${key}`], getGcp: (key) => values[`gcp:${key}`] });
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error(`readSettings accepted ${JSON.stringify(config)}`);
}

describe('default stack', () => {
  test('stores empty sources in one secret', async () => {
    const graph = await run({});
    const [secret] = graph.ofType(types.secret);
    expect(secret?.inputs).toMatchObject({ secretId: 'hr-events-ingest-sources', replication: { auto: {} } });
    expect(graph.ofType(types.version)[0]!.inputs.secret).toBe(`projects/${projectId}/secrets/hr-events-ingest-sources`);
    expect(storedSources(graph)).toEqual({ principals: [] });
  });

  test('only the ingest may read the secret', async () => {
    const grants = grantsOf(await run({})).filter((grant) => grant.role.startsWith('roles/secretmanager.'));
    expect(grants).toEqual([{ role: 'roles/secretmanager.secretAccessor', member: ingestAccount, resource: 'secret hr-events-ingest-sources' }]);
  });

  test('ingest mounts the pinned version as SOURCES_FILE', async () => {
    const ingest = (await run({})).named(types.run, 'ingest-us-central1');
    const template = ingest.inputs.template;
    expect(template.volumes).toEqual([{ name: 'sources', secret: { secret: 'hr-events-ingest-sources', items: [{ version: '1', path: 'sources.json' }] } }]);
    expect(template.containers[0].volumeMounts).toEqual([{ name: 'sources', mountPath: '/etc/hr-events' }]);
    expect(envOf(ingest).SOURCES_FILE).toBe('/etc/hr-events/sources.json');
  });

  test('ingest waits for the accessor grant', async () => {
    const ingest = (await run({})).named(types.run, 'ingest-us-central1');
    expect(ingest.dependsOn.map((dependency) => dependency.name)).toContain('ingest-sources-accessor');
  });

  test('audience is the deterministic ingest url', async () => {
    const graph = await run({});
    const url = `https://hr-events-ingest-${projectNumber}.us-central1.run.app`;
    expect(envOf(graph.named(types.run, 'ingest-us-central1')).INGEST_AUDIENCE).toBe(url);
    expect(graph.outputs.ingestAudience).toBe(url);
  });
});

describe('configured sources', () => {
  test('sources file reaches the secret', async () => {
    const graph = await run({ 'hr-events:sourcesFile': sourcesFile({ principals: [vendorOffice] }) });
    expect(storedSources(graph)).toEqual({ principals: [vendorOffice] });
  });

  test('inline sources reach the secret', async () => {
    const graph = await run({ 'hr-events:sources': JSON.stringify({ principals: [vendorOffice] }) });
    expect(storedSources(graph)).toEqual({ principals: [vendorOffice] });
  });

  test('comments and descriptions are not stored', async () => {
    const graph = await run({ 'hr-events:sources': JSON.stringify({ $comment: 'prod', principals: [{ ...vendorOffice, description: 'Acme' }] }) });
    expect(storedSources(graph)).toEqual({ principals: [vendorOffice] });
  });

  test('name prefix renames the secret', async () => {
    const graph = await run({ 'hr-events:namePrefix': 'hr-staging' });
    expect(graph.ofType(types.secret)[0]!.inputs.secretId).toBe('hr-staging-ingest-sources');
    expect(grantsOf(graph)).toContainEqual({ role: 'roles/secretmanager.secretAccessor', member: `serviceAccount:hr-staging-ingest@${projectId}.iam.gserviceaccount.com`, resource: 'secret hr-staging-ingest-sources' });
  });

  test('every region and the domain are audiences', async () => {
    const graph = await run({ 'hr-events:ingestRegions': 'us-central1,europe-west1', 'hr-events:domain': 'events.example.com' });
    const expected = ['https://events.example.com', ...['us-central1', 'europe-west1'].map((region) => `https://hr-events-ingest-${projectNumber}.${region}.run.app`)].join(',');
    for (const service of graph.ofType(types.run).filter((candidate) => candidate.inputs.name === 'hr-events-ingest')) {
      expect(envOf(service).INGEST_AUDIENCE, service.inputs.location).toBe(expected);
    }
    expect(graph.outputs.ingestAudience).toBe('https://events.example.com');
  });
});

describe('invalid sources', () => {
  test('clear-text development keys are refused', () => {
    const message = settingsError({ 'hr-events:sourcesFile': 'config/local-sources.json' });
    expect(message).toContain(
      'hr-events:sourcesFile (config/local-sources.json): principals[0] ("hr-system"): apiKeys[0] carries "localDevelopmentKey", a clear-text key for the local stack only',
    );
    expect(message).toContain('Fix it in config/local-sources.json.');
  });

  test('unknown event type names the principal', () => {
    const message = settingsError({ 'hr-events:sources': JSON.stringify({ principals: [{ ...vendorOffice, types: ['hr.contractor.ended'] }] }) });
    expect(message).toContain('hr-events:sources: principals[0] ("vendor-office"): "types": "hr.contractor.ended" is not an event type of the catalog');
    expect(message).toContain('Fix the value of hr-events:sources in the stack file (Pulumi.<stack>.yaml).');
  });

  test('both settings together are refused', () => {
    const message = settingsError({ 'hr-events:sources': '{"principals": []}', 'hr-events:sourcesFile': 'sources.json' });
    expect(message).toContain('hr-events:sources and hr-events:sourcesFile are both set; keep one');
  });

  test('missing file is named', () => {
    const message = settingsError({ 'hr-events:sourcesFile': 'config/absent.json' });
    expect(message).toContain('hr-events:sourcesFile (config/absent.json) must be a sources file in JSON (docs/sources.md): ENOENT');
  });

  test('broken json is named', () => {
    expect(settingsError({ 'hr-events:sources': '{principals' })).toContain('hr-events:sources must be a sources file in JSON (docs/sources.md)');
  });

  test('invalid sources fail before resources', async () => {
    const config = { ...minimalConfig, 'hr-events:sourcesFile': sourcesFile({ principals: [{ ...vendorOffice, rateLimit: { eventsPerSecond: 0, burst: 1 } }] }) };
    const { error, registered } = await runFailingProgram(config, () => createDeployment(readSettings()));
    expect((error as Error).message).toContain('"rateLimit.eventsPerSecond" must be a number above 0');
    expect(registered).toBe(0);
  });
});
