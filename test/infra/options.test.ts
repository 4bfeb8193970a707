import { expect, test } from 'vitest';
import { createDeployment } from '../../infra/deployment.ts';
import { readSettings } from '../../infra/settings.ts';
import { envOf, grantsOf, minimalConfig, pubsubAgentEmail, runProgram } from './harness.ts';

// Settings that change the graph beyond the edge.

const run = (config: Record<string, string>) => runProgram({ ...minimalConfig, ...config }, () => createDeployment(readSettings()));
const digest = (seed: string) => `sha256:${seed.repeat(64).slice(0, 64)}`;

test('prebuilt images skip the build', async () => {
  const images = {
    ingest: `europe-docker.pkg.dev/ci/hr/ingest@${digest('a')}`,
    pushConsumer: `europe-docker.pkg.dev/ci/hr/push-consumer@${digest('b')}`,
    pullWorker: `europe-docker.pkg.dev/ci/hr/pull-worker@${digest('c')}`,
  };
  const graph = await run({ 'hr-events:images': JSON.stringify(images) });

  expect(graph.ofType('docker-build:index:Image')).toEqual([]);
  const imageOf = (name: string) => graph.named('gcp:cloudrunv2/service:Service', name).inputs.template.containers[0].image;
  expect(imageOf('ingest-us-central1')).toBe(images.ingest);
  expect(imageOf('push-consumer-service')).toBe(images.pushConsumer);
  expect(imageOf('pull-worker-service')).toBe(images.pullWorker);
});

test('private ingest has no allUsers grant', async () => {
  const graph = await run({ 'hr-events:ingestPublic': 'false' });
  expect(grantsOf(graph).filter((grant) => grant.member === 'allUsers')).toEqual([]);
});

test('subscription filter reaches pub/sub', async () => {
  const filter = 'attributes.ce-type = "hr.contractor.engaged"';
  const graph = await run({ 'hr-events:onboardingFilter': filter });
  expect(graph.named('gcp:pubsub/subscription:Subscription', 'messaging-onboarding').inputs.filter).toBe(filter);
  expect(graph.named('gcp:pubsub/subscription:Subscription', 'messaging-directory').inputs.filter).toBeUndefined();
});

test('storage regions and cmek apply to the topic', async () => {
  const key = 'projects/keys/locations/europe-west1/keyRings/hr/cryptoKeys/events';
  const graph = await run({ 'hr-events:messageStorageRegions': 'europe-west1,europe-west4', 'hr-events:topicKmsKey': key });

  const topic = graph.named('gcp:pubsub/topic:Topic', 'messaging-topic');
  expect(topic.inputs.messageStoragePolicy).toEqual({ allowedPersistenceRegions: ['europe-west1', 'europe-west4'] });
  expect(topic.inputs.kmsKeyName).toBe(key);
  expect(grantsOf(graph)).toContainEqual({ role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter', member: `serviceAccount:${pubsubAgentEmail}`, resource: `key ${key}` });
  expect(topic.dependsOn.map((dependency) => dependency.name)).toContain('messaging-topic-key-user');
  expect(graph.ofType('gcp:projects/service:Service').map((api) => api.inputs.service)).toContain('cloudkms.googleapis.com');
});

test('firestore deletion follows its setting', async () => {
  const graph = await run({ 'hr-events:deleteFirestoreOnDestroy': 'true', 'hr-events:firestoreDatabase': 'hr-events' });
  const database = graph.ofType('gcp:firestore/database:Database')[0]!;
  expect(database.inputs).toMatchObject({ name: 'hr-events', deletionPolicy: 'DELETE', deleteProtectionState: 'DELETE_PROTECTION_DISABLED' });
  expect(envOf(graph.named('gcp:cloudrunv2/service:Service', 'pull-worker-service')).FIRESTORE_DATABASE).toBe('hr-events');
});

test('deletion protection follows its setting', async () => {
  const graph = await run({ 'hr-events:deletionProtection': 'true' });
  for (const service of graph.ofType('gcp:cloudrunv2/service:Service')) expect(service.inputs.deletionProtection, service.name).toBe(true);
});

test('name prefix renames every resource', async () => {
  const graph = await run({ 'hr-events:namePrefix': 'hr-staging' });
  expect(graph.outputs.topicName).toBe('hr-staging');
  expect(graph.outputs.subscriptionNames.directory).toBe('hr-staging-directory-pull');
  expect(graph.ofType('gcp:cloudrunv2/service:Service').map((service) => service.inputs.name).sort()).toEqual([
    'hr-staging-ingest',
    'hr-staging-pull-worker',
    'hr-staging-push-consumer',
  ]);
  expect(graph.outputs.pushAudience).toMatch(/^https:\/\/hr-staging-push-consumer-/);
});

test('alert email adds a notification channel', async () => {
  const graph = await run({ 'hr-events:alertEmail': 'oncall@example.com' });
  const channels = graph.ofType('gcp:monitoring/notificationChannel:NotificationChannel');
  expect(channels.map((channel) => channel.inputs.labels)).toEqual([{ email_address: 'oncall@example.com' }]);
  for (const policy of graph.ofType('gcp:monitoring/alertPolicy:AlertPolicy')) {
    expect(policy.inputs.notificationChannels, policy.name).toHaveLength(1);
  }
});
