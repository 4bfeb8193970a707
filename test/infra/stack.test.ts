import { beforeAll, describe, expect, test } from 'vitest';
import { avroSchemaFor, loadCatalog, topology } from '@hr-events/contract';
import { createDeployment } from '../../infra/deployment.ts';
import { readSettings } from '../../infra/settings.ts';
import { envOf, grantsOf, minimalConfig, projectId, projectNumber, pubsubAgentEmail, runProgram, unwrapSecret, type Graph } from './harness.ts';

// The stack as `pulumi up` creates it with only gcp:project set: every other setting at its default.

const pubsub = topology();
const account = (id: string) => `serviceAccount:${id}@${projectId}.iam.gserviceaccount.com`;
const pubsubAgent = `serviceAccount:${pubsubAgentEmail}`;
const databaseOnly = `resource.name == "projects/${projectId}/databases/(default)"`;

const types = {
  api: 'gcp:projects/service:Service',
  account: 'gcp:serviceaccount/account:Account',
  topic: 'gcp:pubsub/topic:Topic',
  schema: 'gcp:pubsub/schema:Schema',
  subscription: 'gcp:pubsub/subscription:Subscription',
  run: 'gcp:cloudrunv2/service:Service',
  runInvoker: 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember',
  image: 'docker-build:index:Image',
  repository: 'gcp:artifactregistry/repository:Repository',
  database: 'gcp:firestore/database:Database',
  alert: 'gcp:monitoring/alertPolicy:AlertPolicy',
  secret: 'gcp:secretmanager/secret:Secret',
  secretVersion: 'gcp:secretmanager/secretVersion:SecretVersion',
};

let graph: Graph;
beforeAll(async () => {
  graph = await runProgram(minimalConfig, () => createDeployment(readSettings()));
});

describe('default stack', () => {
  test('creates every resource the services need', () => {
    const expectedCounts: Record<string, number> = {
      [types.api]: 8,
      [types.account]: 4,
      'gcp:projects/serviceIdentity:ServiceIdentity': 1,
      [types.repository]: 1,
      [types.image]: 3,
      [types.schema]: 1,
      [types.topic]: 2,
      [types.subscription]: 3,
      [types.database]: 1,
      [types.run]: 3,
      [types.alert]: 3,
      [types.secret]: 1,
      [types.secretVersion]: 1,
    };
    for (const [type, count] of Object.entries(expectedCounts)) {
      expect(graph.ofType(type), type).toHaveLength(count);
    }
  });

  test('enables the APIs and keeps them on destroy', () => {
    const apis = graph.ofType(types.api);
    expect(apis.map((api) => api.inputs.service).sort()).toEqual([
      'artifactregistry.googleapis.com',
      'cloudresourcemanager.googleapis.com',
      'firestore.googleapis.com',
      'iam.googleapis.com',
      'monitoring.googleapis.com',
      'pubsub.googleapis.com',
      'run.googleapis.com',
      'secretmanager.googleapis.com',
    ]);
    for (const api of apis) expect(api.inputs.disableOnDestroy, api.name).toBe(false);
  });

  test('each resource waits for its API', () => {
    const apiByTypePrefix: Record<string, string> = {
      'gcp:pubsub/': 'pubsub.googleapis.com',
      'gcp:cloudrunv2/': 'run.googleapis.com',
      'gcp:artifactregistry/': 'artifactregistry.googleapis.com',
      'gcp:serviceaccount/': 'iam.googleapis.com',
      'gcp:firestore/': 'firestore.googleapis.com',
      'gcp:monitoring/': 'monitoring.googleapis.com',
      'gcp:projects/iAMMember': 'cloudresourcemanager.googleapis.com',
      'gcp:projects/serviceIdentity': 'pubsub.googleapis.com',
      'gcp:secretmanager/': 'secretmanager.googleapis.com',
    };
    const apiResourceNames = new Map(graph.ofType(types.api).map((api) => [api.inputs.service as string, api.name]));
    const checked = graph.resources.filter((resource) => resource.type.startsWith('gcp:') && resource.type !== types.api);
    expect(checked.length).toBeGreaterThan(20);
    for (const resource of checked) {
      const prefix = Object.keys(apiByTypePrefix).find((candidate) => resource.type.startsWith(candidate));
      expect(prefix, `no API listed for ${resource.type}`).toBeDefined();
      const apiName = apiResourceNames.get(apiByTypePrefix[prefix!]!);
      expect(resource.dependsOn.map((dependency) => dependency.name), `${resource.type} ${resource.name}`).toContain(apiName);
    }
  });

  test('pub/sub names and settings come from the topology', () => {
    const schema = graph.ofType(types.schema)[0]!;
    expect(schema.inputs).toMatchObject({ name: pubsub.schemaName, type: 'AVRO', definition: avroSchemaFor(loadCatalog()) });

    const topic = graph.named(types.topic, 'messaging-topic');
    expect(topic.inputs.name).toBe(pubsub.topic.name);
    expect(topic.inputs.schemaSettings).toEqual({ schema: `projects/${projectId}/schemas/${pubsub.schemaName}`, encoding: 'JSON' });
    expect(topic.inputs.messageRetentionDuration).toBe(`${pubsub.topic.messageRetentionSeconds}s`);

    const deadLetterTopic = graph.named(types.topic, 'messaging-dead-letter-topic');
    expect(deadLetterTopic.inputs.name).toBe(pubsub.deadLetterTopic.name);
    expect(deadLetterTopic.inputs.messageRetentionDuration).toBe(`${pubsub.deadLetterTopic.messageRetentionSeconds}s`);
  });

  test('directory pull subscription settings', () => {
    const settings = pubsub.subscriptions.directory;
    const subscription = graph.named(types.subscription, 'messaging-directory');
    expect(subscription.inputs).toMatchObject({
      name: settings.name,
      topic: `projects/${projectId}/topics/${pubsub.topic.name}`,
      ackDeadlineSeconds: settings.ackDeadlineSeconds,
      messageRetentionDuration: `${settings.messageRetentionSeconds}s`,
      enableMessageOrdering: true,
      expirationPolicy: { ttl: '' },
      retryPolicy: { minimumBackoff: `${settings.minimumBackoffSeconds}s`, maximumBackoff: `${settings.maximumBackoffSeconds}s` },
      deadLetterPolicy: { deadLetterTopic: `projects/${projectId}/topics/${pubsub.deadLetterTopic.name}`, maxDeliveryAttempts: settings.maxDeliveryAttempts },
    });
    expect(subscription.inputs.pushConfig).toBeUndefined();
    expect(subscription.inputs.filter).toBeUndefined();
  });

  test('dead-letter topic has an inspection subscription', () => {
    const settings = pubsub.subscriptions.deadLetter;
    const subscription = graph.named(types.subscription, 'messaging-dead-letter-inspect');
    expect(subscription.inputs).toMatchObject({
      name: settings.name,
      topic: `projects/${projectId}/topics/${pubsub.deadLetterTopic.name}`,
      ackDeadlineSeconds: settings.ackDeadlineSeconds,
      messageRetentionDuration: `${settings.messageRetentionSeconds}s`,
      expirationPolicy: { ttl: '' },
    });
    expect(subscription.inputs.deadLetterPolicy).toBeUndefined();
  });

  test('push subscription audience matches the consumer', () => {
    const settings = pubsub.subscriptions.onboarding;
    const subscription = graph.named(types.subscription, 'messaging-onboarding');
    const consumer = graph.named(types.run, 'push-consumer-service');
    const expectedAudience = `https://hr-events-push-consumer-${projectNumber}.us-central1.run.app`;

    expect(subscription.inputs.pushConfig.oidcToken.audience).toBe(expectedAudience);
    expect(envOf(consumer).PUSH_AUDIENCE).toBe(expectedAudience);
    expect(subscription.inputs.pushConfig.pushEndpoint).toBe(`${expectedAudience}${settings.pushPath}`);
    expect(subscription.inputs).toMatchObject({
      name: settings.name,
      ackDeadlineSeconds: settings.ackDeadlineSeconds,
      retryPolicy: { minimumBackoff: `${settings.minimumBackoffSeconds}s`, maximumBackoff: `${settings.maximumBackoffSeconds}s` },
      deadLetterPolicy: { deadLetterTopic: `projects/${projectId}/topics/${pubsub.deadLetterTopic.name}`, maxDeliveryAttempts: settings.maxDeliveryAttempts },
      expirationPolicy: { ttl: '' },
    });
  });

  test('push token account is the run.invoker', () => {
    const subscription = graph.named(types.subscription, 'messaging-onboarding');
    const consumer = graph.named(types.run, 'push-consumer-service');
    const pushAccount = `hr-events-pusher@${projectId}.iam.gserviceaccount.com`;

    expect(subscription.inputs.pushConfig.oidcToken.serviceAccountEmail).toBe(pushAccount);
    expect(envOf(consumer).PUSH_SERVICE_ACCOUNT).toBe(pushAccount);
    const invokers = grantsOf(graph).filter((grant) => grant.resource === `run us-central1/${consumer.inputs.name}`);
    expect(invokers).toEqual([{ role: 'roles/run.invoker', member: `serviceAccount:${pushAccount}`, resource: 'run us-central1/hr-events-push-consumer' }]);
  });

  test('push subscription waits for the consumer and its grants', () => {
    const dependencies = graph.named(types.subscription, 'messaging-onboarding').dependsOn.map((dependency) => dependency.name);
    expect(dependencies).toEqual(expect.arrayContaining(['push-consumer-service', 'push-consumer-invoker', 'messaging-push-token-creator', 'messaging-dead-letter-publisher']));
  });

  test('grants are exactly the least-privilege set', () => {
    const expected = [
      { role: 'roles/pubsub.publisher', member: account('hr-events-ingest'), resource: `topic ${pubsub.topic.name}` },
      { role: 'roles/pubsub.publisher', member: pubsubAgent, resource: `topic ${pubsub.deadLetterTopic.name}` },
      { role: 'roles/pubsub.subscriber', member: account('hr-events-directory'), resource: `subscription ${pubsub.subscriptions.directory.name}` },
      { role: 'roles/pubsub.subscriber', member: pubsubAgent, resource: `subscription ${pubsub.subscriptions.directory.name}` },
      { role: 'roles/pubsub.subscriber', member: pubsubAgent, resource: `subscription ${pubsub.subscriptions.onboarding.name}` },
      { role: 'roles/run.invoker', member: account('hr-events-pusher'), resource: 'run us-central1/hr-events-push-consumer' },
      { role: 'roles/run.invoker', member: 'allUsers', resource: 'run us-central1/hr-events-ingest' },
      {
        role: 'roles/iam.serviceAccountTokenCreator',
        member: pubsubAgent,
        resource: `service account projects/${projectId}/serviceAccounts/hr-events-pusher@${projectId}.iam.gserviceaccount.com`,
      },
      { role: 'roles/datastore.user', member: account('hr-events-onboarding'), resource: `project ${projectId} if ${databaseOnly}` },
      { role: 'roles/datastore.user', member: account('hr-events-directory'), resource: `project ${projectId} if ${databaseOnly}` },
      { role: 'roles/datastore.viewer', member: account('hr-events-ingest'), resource: `project ${projectId} if ${databaseOnly}` },
      { role: 'roles/secretmanager.secretAccessor', member: account('hr-events-ingest'), resource: 'secret hr-events-ingest-sources' },
    ];
    const byText = (grant: { role: string; member: string; resource: string }) => `${grant.role} ${grant.member} ${grant.resource}`;
    expect(grantsOf(graph).map(byText).sort()).toEqual(expected.map(byText).sort());
  });

  test('no owner, editor or public push consumer', () => {
    const grants = grantsOf(graph);
    for (const grant of grants) {
      expect(grant.role).not.toMatch(/^roles\/(owner|editor)$/);
      if (grant.member === 'allUsers') expect(grant.resource).toBe('run us-central1/hr-events-ingest');
    }
    expect(grants.filter((grant) => grant.resource.endsWith('/hr-events-push-consumer')).map((grant) => grant.member)).not.toContain('allUsers');
  });

  test('images are pinned by digest', () => {
    for (const service of graph.ofType(types.run)) {
      const image: string = service.inputs.template.containers[0].image;
      expect(image, service.name).toMatch(/^us-central1-docker\.pkg\.dev\/hr-events-test\/hr-events\/[a-z-]+:test@sha256:[0-9a-f]{64}$/);
    }
    const built = graph.ofType(types.image);
    expect(built.map((image) => image.inputs.dockerfile.location).sort()).toEqual([
      'services/ingest/Dockerfile',
      'services/pull-worker/Dockerfile',
      'services/push-consumer/Dockerfile',
    ]);
    for (const image of built) {
      expect(image.inputs).toMatchObject({ push: true, context: { location: '.' }, platforms: ['linux/amd64'] });
      const registries = unwrapSecret(image.inputs.registries);
      expect(registries.secret).toBe(true);
      expect(registries.value[0]).toMatchObject({ address: 'us-central1-docker.pkg.dev', username: 'oauth2accesstoken' });
    }
    expect(graph.named(types.run, 'ingest-us-central1').inputs.template.containers[0].image).toBe(graph.named(types.image, 'images-ingest').state.ref);
  });

  test('service environments come from resource outputs', () => {
    const shared = { GOOGLE_CLOUD_PROJECT: projectId, HOST: '0.0.0.0', LOG_LEVEL: 'info', FIRESTORE_DATABASE: '(default)' };
    expect(envOf(graph.named(types.run, 'ingest-us-central1'))).toEqual({
      ...shared,
      TOPIC: pubsub.topic.name,
      SOURCES_FILE: '/etc/hr-events/sources.json',
      INGEST_AUDIENCE: `https://hr-events-ingest-${projectNumber}.us-central1.run.app`,
    });
    expect(envOf(graph.named(types.run, 'pull-worker-service'))).toEqual({ ...shared, SUBSCRIPTION: pubsub.subscriptions.directory.name });
    expect(envOf(graph.named(types.run, 'push-consumer-service'))).toEqual({
      ...shared,
      PUSH_AUDIENCE: `https://hr-events-push-consumer-${projectNumber}.us-central1.run.app`,
      PUSH_SERVICE_ACCOUNT: `hr-events-pusher@${projectId}.iam.gserviceaccount.com`,
    });
  });

  test('services run as their own accounts', () => {
    const accountOf = (name: string) => graph.named(types.run, name).inputs.template.serviceAccount;
    expect(accountOf('ingest-us-central1')).toBe(`hr-events-ingest@${projectId}.iam.gserviceaccount.com`);
    expect(accountOf('push-consumer-service')).toBe(`hr-events-onboarding@${projectId}.iam.gserviceaccount.com`);
    expect(accountOf('pull-worker-service')).toBe(`hr-events-directory@${projectId}.iam.gserviceaccount.com`);
  });

  test('ingest is public with probes and scaling', () => {
    const ingest = graph.named(types.run, 'ingest-us-central1');
    const container = ingest.inputs.template.containers[0];
    expect(ingest.inputs).toMatchObject({ name: 'hr-events-ingest', location: 'us-central1', ingress: 'INGRESS_TRAFFIC_ALL', deletionProtection: false });
    expect(ingest.inputs.template).toMatchObject({ maxInstanceRequestConcurrency: 80, scaling: { minInstanceCount: 0, maxInstanceCount: 10 } });
    expect(container.startupProbe.httpGet.path).toBe('/health');
    expect(container.resources.startupCpuBoost).toBe(true);
  });

  test('push consumer admits internal traffic only', () => {
    const consumer = graph.named(types.run, 'push-consumer-service');
    expect(consumer.inputs).toMatchObject({ ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY', deletionProtection: false });
  });

  test('pull worker keeps CPU and an instance', () => {
    const worker = graph.named(types.run, 'pull-worker-service');
    const container = worker.inputs.template.containers[0];
    expect(container.resources.cpuIdle).toBe(false);
    expect(worker.inputs.template.scaling.minInstanceCount).toBeGreaterThanOrEqual(1);
    expect(worker.inputs.ingress).toBe('INGRESS_TRAFFIC_INTERNAL_ONLY');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(grantsOf(graph).filter((grant) => grant.resource.endsWith('/hr-events-pull-worker'))).toEqual([]);
  });

  test('firestore database is kept on destroy', () => {
    const database = graph.ofType(types.database)[0]!;
    expect(database.inputs).toMatchObject({
      name: '(default)',
      type: 'FIRESTORE_NATIVE',
      locationId: 'us-central1',
      deletionPolicy: 'ABANDON',
    });
  });

  test('alerts watch backlog and dead letters', () => {
    const filters = graph.ofType(types.alert).map((policy) => policy.inputs.conditions[0].conditionThreshold.filter as string);
    for (const name of [pubsub.subscriptions.onboarding.name, pubsub.subscriptions.directory.name]) {
      expect(filters).toContainEqual(expect.stringMatching(new RegExp(`subscription_id = "${name}".*oldest_unacked_message_age`)));
    }
    const deadLetter = graph.named(types.alert, 'alerts-dead-letter').inputs.conditions[0].conditionThreshold;
    expect(deadLetter.filter).toMatch(new RegExp(`subscription_id = "${pubsub.subscriptions.deadLetter.name}".*num_undelivered_messages`));
    expect(deadLetter).toMatchObject({ comparison: 'COMPARISON_GT', thresholdValue: 0 });
    expect(graph.ofType('gcp:monitoring/notificationChannel:NotificationChannel')).toEqual([]);
  });

  test('no load balancer for one region', () => {
    expect(graph.resources.filter((resource) => resource.type.startsWith('gcp:compute/'))).toEqual([]);
    expect(graph.outputs.loadBalancerAddress).toBeNull();
  });

  test('outputs name the url, topic, subscriptions and accounts', () => {
    expect(graph.outputs).toMatchObject({
      ingestUrl: 'https://hr-events-ingest-abc123-uc.a.run.app',
      ingestUrls: { 'us-central1': 'https://hr-events-ingest-abc123-uc.a.run.app' },
      topicName: pubsub.topic.name,
      deadLetterTopicName: pubsub.deadLetterTopic.name,
      subscriptionNames: {
        onboarding: pubsub.subscriptions.onboarding.name,
        directory: pubsub.subscriptions.directory.name,
        deadLetter: pubsub.subscriptions.deadLetter.name,
      },
      serviceAccountEmails: {
        ingest: `hr-events-ingest@${projectId}.iam.gserviceaccount.com`,
        pushConsumer: `hr-events-onboarding@${projectId}.iam.gserviceaccount.com`,
        pullWorker: `hr-events-directory@${projectId}.iam.gserviceaccount.com`,
        pushInvoker: `hr-events-pusher@${projectId}.iam.gserviceaccount.com`,
      },
    });
  });
});

test('program entry point runs with only gcp:project', async () => {
  const entryGraph = await runProgram(minimalConfig, async () => ({ ...(await import('../../infra/index.ts')) }));
  expect(entryGraph.ofType(types.run)).toHaveLength(3);
  expect(entryGraph.outputs.topicName).toBe(pubsub.topic.name);
});
