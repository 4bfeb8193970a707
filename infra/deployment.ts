import * as pulumi from '@pulumi/pulumi';
import { avroSchemaFor, loadCatalog, topology, type ConsumerName } from '@hr-events/contract';
import { Alerts } from './components/alerts.ts';
import { ProjectApis } from './components/apis.ts';
import { Edge } from './components/edge.ts';
import { Firestore } from './components/firestore.ts';
import { memberOf, ServiceIdentities } from './components/identity.ts';
import { ContainerImages } from './components/images.ts';
import { Ingest } from './components/ingest.ts';
import { Messaging } from './components/messaging.ts';
import { PullWorker } from './components/pull-worker.ts';
import { PushConsumer } from './components/push-consumer.ts';
import { deterministicUrl, type ServiceEnvironment } from './components/run.ts';
import { IngestSources } from './components/sources.ts';
import type { Settings } from './settings.ts';

// Composes one component per concern, in the order their inputs flow. APIs, identities, Firestore
// and images come first. The push consumer precedes Pub/Sub, because the push subscription needs its
// URL. The ingest and the pull worker follow Pub/Sub, because they need the topic and subscription
// names, and the ingest also follows the secret with its sources. The load balancer and the alerts
// come last.

export interface DeploymentOutputs {
  /** URL that clients send events to: the load balancer's URL, or the one ingest service's URL. */
  ingestUrl: pulumi.Output<string>;
  /** run.app URL per ingest region. */
  ingestUrls: pulumi.Output<Record<string, string>>;
  /** The audience that sources request ID tokens for: `https://<domain>`, or the first region's deterministic URL. */
  ingestAudience: pulumi.Output<string>;
  /** The load balancer's IP address, for the domain's DNS record; null without a load balancer. */
  loadBalancerAddress: pulumi.Output<string | null>;
  topicName: pulumi.Output<string>;
  deadLetterTopicName: pulumi.Output<string>;
  subscriptionNames: pulumi.Output<{ onboarding: string; directory: string; deadLetter: string }>;
  serviceAccountEmails: pulumi.Output<{ ingest: string; pushConsumer: string; pullWorker: string; pushInvoker: string }>;
  pushAudience: pulumi.Output<string>;
  firestoreDatabase: pulumi.Output<string>;
  imageRepository: pulumi.Output<string>;
  images: pulumi.Output<{ ingest: string; pushConsumer: string; pullWorker: string }>;
}

export function createDeployment(settings: Settings): DeploymentOutputs {
  const { project, region, namePrefix } = settings;
  const pubsub = topology(
    { subscriptions: { onboarding: { filter: settings.onboardingFilter }, directory: { filter: settings.directoryFilter } } },
    namePrefix,
  );

  const apis = new ProjectApis('apis', { project, loadBalancer: settings.loadBalancer, customerManagedKey: settings.topicKmsKey !== undefined });
  const enabled = apis.enabled;

  const identities = new ServiceIdentities('identity', { project, namePrefix, apis: enabled });

  const firestore = new Firestore('firestore', {
    project,
    databaseId: settings.firestoreDatabase,
    locationId: settings.firestoreLocation,
    deleteOnDestroy: settings.deleteFirestoreOnDestroy,
    writers: { onboarding: memberOf(identities.pushConsumer), directory: memberOf(identities.pullWorker) },
    readers: { ingest: memberOf(identities.ingest) },
    apis: enabled,
  });
  const environment: ServiceEnvironment = { project, logLevel: settings.logLevel, firestoreDatabase: firestore.databaseId };

  const images = new ContainerImages('images', {
    project,
    region,
    repositoryId: namePrefix,
    tag: pulumi.getStack(),
    prebuilt: settings.images,
    apis: enabled,
  });

  const pushConsumer = new PushConsumer('push-consumer', {
    project,
    region,
    serviceName: `${namePrefix}-push-consumer`,
    projectNumber: apis.projectNumber,
    image: images.refs.pushConsumer,
    serviceAccountEmail: identities.pushConsumer.email,
    environment,
    pushInvokerEmail: identities.pushInvoker.email,
    pushPath: pubsub.subscriptions.onboarding.pushPath,
    ingress: settings.pushConsumerIngress,
    maxInstances: settings.pushConsumerMaxInstances,
    deletionProtection: settings.deletionProtection,
    apis: enabled,
  });

  const messaging = new Messaging('messaging', {
    project,
    topology: pubsub,
    schemaDefinition: avroSchemaFor(loadCatalog()),
    messageStorageRegions: settings.messageStorageRegions,
    kmsKeyName: settings.topicKmsKey,
    pubsubAgentMember: identities.pubsubAgentMember,
    publisherMember: memberOf(identities.ingest),
    pullSubscriberMember: memberOf(identities.pullWorker),
    push: {
      endpoint: pushConsumer.endpoint,
      audience: pushConsumer.audience,
      serviceAccount: identities.pushInvoker,
      ready: [pushConsumer.service, pushConsumer.invokerGrant],
    },
    apis: enabled,
  });

  const sources = new IngestSources('ingest-sources', {
    project,
    secretId: `${namePrefix}-ingest-sources`,
    sources: settings.sources,
    accessorMember: memberOf(identities.ingest),
    apis: enabled,
  });

  // ID tokens name the URL they were requested for. The ingest accepts its domain and the
  // deterministic run.app URL of each region. Both are known before the services exist, unlike the
  // URL a service reports after creation.
  const ingestServiceName = `${namePrefix}-ingest`;
  const audiences = [
    ...(settings.domain === undefined ? [] : [pulumi.output(`https://${settings.domain}`)]),
    ...settings.ingestRegions.map((ingestRegion) => deterministicUrl(ingestServiceName, apis.projectNumber, ingestRegion)),
  ];

  const ingest = new Ingest('ingest', {
    project,
    serviceName: ingestServiceName,
    regions: settings.ingestRegions,
    image: images.refs.ingest,
    serviceAccountEmail: identities.ingest.email,
    environment,
    topicName: messaging.topic.name,
    sources: { secretId: sources.secret.secretId, version: sources.version.version, ready: [sources.accessorGrant] },
    audience: pulumi.all(audiences).apply((urls) => urls.join(',')),
    public: settings.ingestPublic,
    behindLoadBalancer: settings.loadBalancer,
    minInstances: settings.ingestMinInstances,
    maxInstances: settings.ingestMaxInstances,
    concurrency: settings.ingestConcurrency,
    deletionProtection: settings.deletionProtection,
    apis: enabled,
  });

  new PullWorker('pull-worker', {
    project,
    region,
    serviceName: `${namePrefix}-pull-worker`,
    image: images.refs.pullWorker,
    serviceAccountEmail: identities.pullWorker.email,
    environment,
    subscriptionName: messaging.directorySubscription.name,
    minInstances: settings.pullWorkerMinInstances,
    maxInstances: settings.pullWorkerMaxInstances,
    deletionProtection: settings.deletionProtection,
    apis: enabled,
  });

  const edge = settings.loadBalancer
    ? new Edge('edge', {
        project,
        namePrefix,
        ingestServices: Object.fromEntries(Object.entries(ingest.services).map(([serviceRegion, service]) => [serviceRegion, service.name])),
        domain: settings.domain,
        rateLimitPerMinute: settings.rateLimitPerMinute,
        apis: enabled,
      })
    : undefined;

  const consumerSubscriptions: Record<ConsumerName, pulumi.Output<string>> = {
    onboarding: messaging.onboardingSubscription.name,
    directory: messaging.directorySubscription.name,
  };
  new Alerts('alerts', {
    project,
    namePrefix,
    consumerSubscriptions,
    deadLetterSubscription: messaging.deadLetterSubscription.name,
    oldestUnackedSeconds: settings.alertOldestUnackedSeconds,
    email: settings.alertEmail,
    apis: enabled,
  });

  const firstRegion = settings.ingestRegions[0] ?? region;
  return {
    ingestUrl: edge ? edge.url : ingest.urls.apply((urls) => urls[firstRegion] ?? ''),
    ingestUrls: ingest.urls,
    ingestAudience: audiences[0] as pulumi.Output<string>,
    loadBalancerAddress: edge ? edge.address.address : pulumi.output(null),
    topicName: messaging.topic.name,
    deadLetterTopicName: messaging.deadLetterTopic.name,
    subscriptionNames: pulumi.output({
      onboarding: messaging.onboardingSubscription.name,
      directory: messaging.directorySubscription.name,
      deadLetter: messaging.deadLetterSubscription.name,
    }),
    serviceAccountEmails: pulumi.output({
      ingest: identities.ingest.email,
      pushConsumer: identities.pushConsumer.email,
      pullWorker: identities.pullWorker.email,
      pushInvoker: identities.pushInvoker.email,
    }),
    pushAudience: pushConsumer.audience,
    firestoreDatabase: firestore.databaseId,
    imageRepository: images.repositoryUrl,
    images: pulumi.output(images.refs),
  };
}
