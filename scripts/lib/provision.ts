import { Encodings, PubSub, SchemaTypes, type CreateSubscriptionOptions } from '@google-cloud/pubsub';
import { avroSchemaFor, loadCatalog, schemaPath, topicPath, type SubscriptionSettings, type Topology } from '@hr-events/contract';

// Creates the schema, topics and subscriptions of a topology on the Pub/Sub emulator, the way the
// Pulumi program creates them in a project. Running it twice is harmless.

const alreadyExists = 6;

export interface ProvisionOptions {
  projectId: string;
  topology: Topology;
  /** Full URL of the push consumer's push endpoint. */
  pushEndpoint: string;
  /** Attributes sent with every push request (for example `{"x-goog-version": "v1"}`). */
  pushAttributes?: Record<string, string>;
  /** Pub/Sub client aimed at the emulator; a new one is made from PUBSUB_EMULATOR_HOST otherwise. */
  pubsub?: PubSub;
}

export async function provisionTopology(options: ProvisionOptions): Promise<void> {
  const pubsub = options.pubsub ?? new PubSub({ projectId: options.projectId });
  const { topology, projectId } = options;

  await ignoreExisting(pubsub.createSchema(topology.schemaName, SchemaTypes.Avro, avroSchemaFor(loadCatalog())));
  await ignoreExisting(
    pubsub.createTopic({
      name: topology.topic.name,
      schemaSettings: { schema: schemaPath(projectId, topology.schemaName), encoding: Encodings.Json },
    }),
  );
  await ignoreExisting(pubsub.createTopic(topology.deadLetterTopic.name));

  const deadLetterTopic = topicPath(projectId, topology.deadLetterTopic.name);
  const onboarding = topology.subscriptions.onboarding;
  await ignoreExisting(
    pubsub.topic(topology.topic.name).createSubscription(onboarding.name, {
      ...subscriptionOptions(onboarding, deadLetterTopic),
      pushConfig: { pushEndpoint: options.pushEndpoint, attributes: options.pushAttributes ?? {} },
    }),
  );
  const directory = topology.subscriptions.directory;
  await ignoreExisting(pubsub.topic(topology.topic.name).createSubscription(directory.name, subscriptionOptions(directory, deadLetterTopic)));
  const deadLetter = topology.subscriptions.deadLetter;
  await ignoreExisting(
    pubsub.topic(topology.deadLetterTopic.name).createSubscription(deadLetter.name, {
      ackDeadlineSeconds: deadLetter.ackDeadlineSeconds,
      messageRetentionDuration: { seconds: deadLetter.messageRetentionSeconds },
    }),
  );

  if (options.pubsub === undefined) await pubsub.close();
}

function subscriptionOptions(settings: SubscriptionSettings, deadLetterTopic: string): CreateSubscriptionOptions {
  const options: CreateSubscriptionOptions = {
    ackDeadlineSeconds: settings.ackDeadlineSeconds,
    // NOTE: message ordering stays off on the emulator. The Pub/Sub emulator 0.8.20 never moves a
    // message from an ordered subscription to its dead-letter topic: once a message reaches its
    // maximum delivery attempts, every streaming pull on that subscription fails with UNKNOWN and
    // nothing more is delivered. The directory does not depend on delivery order (the newest event
    // time wins), and real Pub/Sub gets ordering from the Pulumi program.
    enableMessageOrdering: false,
    messageRetentionDuration: { seconds: settings.messageRetentionSeconds },
    retryPolicy: {
      minimumBackoff: { seconds: settings.minimumBackoffSeconds },
      maximumBackoff: { seconds: settings.maximumBackoffSeconds },
    },
    deadLetterPolicy: { deadLetterTopic, maxDeliveryAttempts: settings.maxDeliveryAttempts },
  };
  if (settings.filter !== undefined) options.filter = settings.filter;
  return options;
}

async function ignoreExisting(creation: Promise<unknown>): Promise<void> {
  try {
    await creation;
  } catch (error) {
    if ((error as { code?: number }).code !== alreadyExists) throw error;
  }
}
