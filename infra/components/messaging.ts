import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { SubscriptionSettings, Topology } from '@hr-events/contract';

// Everything on Pub/Sub: the Avro schema, the HR topic, the dead-letter topic with its inspection
// subscription, the directory pull subscription and the onboarding push subscription, with the
// grants each of them needs. Names and settings come from the contract's topology, the schema from
// the contract's catalog, so the local stack and this program cannot drift apart.

export interface PushDelivery {
  /** URL of the push consumer's push endpoint. */
  endpoint: pulumi.Input<string>;
  /** OIDC audience; the push consumer expects the same value. */
  audience: pulumi.Input<string>;
  /** The account whose identity Pub/Sub puts in the token. */
  serviceAccount: gcp.serviceaccount.Account;
  /** Resources that must exist before the first push: the consumer and its run.invoker grant. */
  ready: pulumi.Resource[];
}

export interface MessagingArgs {
  project: string;
  topology: Topology;
  /** Avro schema definition from `avroSchemaFor(loadCatalog())`. */
  schemaDefinition: string;
  /** Regions where Pub/Sub may store messages; unset, any region the organization allows. */
  messageStorageRegions?: string[];
  /** Cloud KMS key that encrypts the HR topic's messages. */
  kmsKeyName?: string;
  pubsubAgentMember: pulumi.Input<string>;
  /** The ingest, which publishes to the HR topic. */
  publisherMember: pulumi.Input<string>;
  /** The pull worker, which reads the directory subscription. */
  pullSubscriberMember: pulumi.Input<string>;
  push: PushDelivery;
  apis: pulumi.Resource[];
}

export class Messaging extends pulumi.ComponentResource {
  public readonly schema: gcp.pubsub.Schema;
  public readonly topic: gcp.pubsub.Topic;
  public readonly deadLetterTopic: gcp.pubsub.Topic;
  public readonly onboardingSubscription: gcp.pubsub.Subscription;
  public readonly directorySubscription: gcp.pubsub.Subscription;
  public readonly deadLetterSubscription: gcp.pubsub.Subscription;

  private readonly childOptions: pulumi.CustomResourceOptions;

  constructor(name: string, args: MessagingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:Messaging', name, {}, opts);
    this.childOptions = { parent: this, dependsOn: args.apis };
    const { topology, project } = args;

    this.schema = new gcp.pubsub.Schema(
      `${name}-schema`,
      { project, name: topology.schemaName, type: 'AVRO', definition: args.schemaDefinition },
      this.childOptions,
    );
    this.topic = this.createTopic(name, args);
    this.deadLetterTopic = new gcp.pubsub.Topic(
      `${name}-dead-letter-topic`,
      { project, name: topology.deadLetterTopic.name, messageRetentionDuration: seconds(topology.deadLetterTopic.messageRetentionSeconds) },
      this.childOptions,
    );

    // Pub/Sub forwards undeliverable messages as its service agent, which must be allowed to publish
    // to the dead-letter topic. The subscriptions wait for this grant so no message is dead-lettered
    // before it exists.
    const deadLetterPublisher = new gcp.pubsub.TopicIAMMember(
      `${name}-dead-letter-publisher`,
      { project, topic: this.deadLetterTopic.name, role: 'roles/pubsub.publisher', member: args.pubsubAgentMember },
      this.childOptions,
    );
    // Only the ingest publishes HR events, and only to this topic.
    new gcp.pubsub.TopicIAMMember(
      `${name}-ingest-publisher`,
      { project, topic: this.topic.name, role: 'roles/pubsub.publisher', member: args.publisherMember },
      this.childOptions,
    );

    this.deadLetterSubscription = new gcp.pubsub.Subscription(
      `${name}-dead-letter-inspect`,
      {
        project,
        name: topology.subscriptions.deadLetter.name,
        topic: this.deadLetterTopic.id,
        ackDeadlineSeconds: topology.subscriptions.deadLetter.ackDeadlineSeconds,
        messageRetentionDuration: seconds(topology.subscriptions.deadLetter.messageRetentionSeconds),
        expirationPolicy: { ttl: '' },
      },
      this.childOptions,
    );

    this.directorySubscription = this.createSubscription(`${name}-directory`, topology.subscriptions.directory, [deadLetterPublisher], project);
    // The worker reads its own subscription and nothing else.
    new gcp.pubsub.SubscriptionIAMMember(
      `${name}-directory-worker`,
      { project, subscription: this.directorySubscription.name, role: 'roles/pubsub.subscriber', member: args.pullSubscriberMember },
      this.childOptions,
    );

    // Pub/Sub signs each push request with a token of the push account. In projects created before
    // April 2021 it can do so only when its service agent has Token Creator on that account. The
    // grant sits on the one account, not on the project.
    const tokenCreator = new gcp.serviceaccount.IAMMember(
      `${name}-push-token-creator`,
      { serviceAccountId: args.push.serviceAccount.name, role: 'roles/iam.serviceAccountTokenCreator', member: args.pubsubAgentMember },
      this.childOptions,
    );
    this.onboardingSubscription = this.createSubscription(
      `${name}-onboarding`,
      topology.subscriptions.onboarding,
      [deadLetterPublisher, tokenCreator, ...args.push.ready],
      project,
      {
        pushEndpoint: args.push.endpoint,
        oidcToken: { serviceAccountEmail: args.push.serviceAccount.email, audience: args.push.audience },
      },
    );

    // To dead-letter a message, the service agent acknowledges it on the source subscription, which
    // needs the subscriber role there.
    for (const [key, subscription] of [['onboarding', this.onboardingSubscription], ['directory', this.directorySubscription]] as const) {
      new gcp.pubsub.SubscriptionIAMMember(
        `${name}-${key}-dead-letter-subscriber`,
        { project, subscription: subscription.name, role: 'roles/pubsub.subscriber', member: args.pubsubAgentMember },
        this.childOptions,
      );
    }

    this.registerOutputs({
      topicName: this.topic.name,
      deadLetterTopicName: this.deadLetterTopic.name,
      onboardingSubscriptionName: this.onboardingSubscription.name,
      directorySubscriptionName: this.directorySubscription.name,
      deadLetterSubscriptionName: this.deadLetterSubscription.name,
    });
  }

  private createTopic(name: string, args: MessagingArgs): gcp.pubsub.Topic {
    const dependsOn = [...args.apis];
    if (args.kmsKeyName !== undefined) {
      // Pub/Sub encrypts and decrypts the topic's messages as its service agent.
      dependsOn.push(
        new gcp.kms.CryptoKeyIAMMember(
          `${name}-topic-key-user`,
          { cryptoKeyId: args.kmsKeyName, role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter', member: args.pubsubAgentMember },
          this.childOptions,
        ),
      );
    }
    return new gcp.pubsub.Topic(
      `${name}-topic`,
      {
        project: args.project,
        name: args.topology.topic.name,
        // Pub/Sub rejects a publish whose data does not match the schema, in JSON encoding.
        schemaSettings: { schema: this.schema.id, encoding: 'JSON' },
        messageRetentionDuration: seconds(args.topology.topic.messageRetentionSeconds),
        messageStoragePolicy: args.messageStorageRegions ? { allowedPersistenceRegions: args.messageStorageRegions } : undefined,
        kmsKeyName: args.kmsKeyName,
      },
      { ...this.childOptions, dependsOn },
    );
  }

  private createSubscription(
    resourceName: string,
    settings: SubscriptionSettings,
    dependsOn: pulumi.Resource[],
    project: string,
    pushConfig?: gcp.types.input.pubsub.SubscriptionPushConfig,
  ): gcp.pubsub.Subscription {
    return new gcp.pubsub.Subscription(
      resourceName,
      {
        project,
        name: settings.name,
        topic: this.topic.id,
        ackDeadlineSeconds: settings.ackDeadlineSeconds,
        messageRetentionDuration: seconds(settings.messageRetentionSeconds),
        enableMessageOrdering: settings.enableMessageOrdering,
        filter: settings.filter,
        // An empty TTL means the subscription never expires, even when no one reads it for 31 days.
        expirationPolicy: { ttl: '' },
        retryPolicy: { minimumBackoff: seconds(settings.minimumBackoffSeconds), maximumBackoff: seconds(settings.maximumBackoffSeconds) },
        deadLetterPolicy: { deadLetterTopic: this.deadLetterTopic.id, maxDeliveryAttempts: settings.maxDeliveryAttempts },
        pushConfig,
      },
      { ...this.childOptions, dependsOn: [...(this.childOptions.dependsOn as pulumi.Resource[]), ...dependsOn] },
    );
  }
}

/** Formats a duration the way the Pub/Sub API takes it: `"600s"`. */
function seconds(value: number): string {
  return `${value}s`;
}
