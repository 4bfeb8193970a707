// Names and settings of everything on Pub/Sub: the schema, the HR topic, the dead-letter topic and
// the subscriptions. The local stack and the Pulumi program both build from this module, so the two
// cannot drift apart. Tests may shorten the timings through `topology(overrides)`; the defaults
// below are the production values.

export interface RetrySettings {
  /** Delay before the first redelivery after a nack; Pub/Sub accepts 0 to 600. */
  minimumBackoffSeconds: number;
  /** Upper bound of the exponential backoff; Pub/Sub accepts 0 to 600. */
  maximumBackoffSeconds: number;
}

export interface SubscriptionSettings extends RetrySettings {
  name: string;
  /** Pub/Sub accepts 10 to 600. For push, how long Pub/Sub waits for the endpoint's response. */
  ackDeadlineSeconds: number;
  /** Deliveries before a message goes to the dead-letter topic; Pub/Sub accepts 5 to 100. */
  maxDeliveryAttempts: number;
  /** How long unacked messages are kept; Pub/Sub accepts 600 to 604,800 (7 days). */
  messageRetentionSeconds: number;
  enableMessageOrdering: boolean;
  /** Optional Pub/Sub filter on attributes, for example `attributes.ce-type = "hr.contractor.engaged"`. */
  filter?: string;
}

export interface PushSubscriptionSettings extends SubscriptionSettings {
  /** Path of the push endpoint on the push consumer. */
  pushPath: string;
}

export interface Topology {
  schemaName: string;
  topic: { name: string; messageRetentionSeconds: number };
  deadLetterTopic: { name: string; messageRetentionSeconds: number };
  subscriptions: {
    /** The push consumer ("onboarding"). */
    onboarding: PushSubscriptionSettings;
    /** The pull worker ("directory"). */
    directory: SubscriptionSettings;
    /** Pull subscription on the dead-letter topic, for inspection and replay. */
    deadLetter: { name: string; ackDeadlineSeconds: number; messageRetentionSeconds: number };
  };
}

/** Consumer names, as they appear in the event status (`consumers.onboarding`, `consumers.directory`). */
export const consumerNames = ['onboarding', 'directory'] as const;
export type ConsumerName = (typeof consumerNames)[number];

const day = 24 * 60 * 60;

export function topology(overrides: TopologyOverrides = {}, prefix = 'hr-events'): Topology {
  const retry = { minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 };
  const result: Topology = {
    schemaName: `${prefix}-data`,
    topic: { name: prefix, messageRetentionSeconds: 7 * day, ...overrides.topic },
    deadLetterTopic: { name: `${prefix}-dead-letter`, messageRetentionSeconds: 14 * day, ...overrides.deadLetterTopic },
    subscriptions: {
      onboarding: {
        name: `${prefix}-onboarding-push`,
        pushPath: '/pubsub/push',
        ackDeadlineSeconds: 60,
        maxDeliveryAttempts: 10,
        messageRetentionSeconds: 7 * day,
        enableMessageOrdering: false,
        ...retry,
        ...overrides.subscriptions?.onboarding,
      },
      directory: {
        name: `${prefix}-directory-pull`,
        ackDeadlineSeconds: 60,
        maxDeliveryAttempts: 10,
        messageRetentionSeconds: 7 * day,
        // The directory keeps the newest state per person, so it reads one person's events in order.
        enableMessageOrdering: true,
        ...retry,
        ...overrides.subscriptions?.directory,
      },
      deadLetter: {
        name: `${prefix}-dead-letter-inspect`,
        ackDeadlineSeconds: 60,
        messageRetentionSeconds: 7 * day,
        ...overrides.subscriptions?.deadLetter,
      },
    },
  };
  validateTopology(result);
  return result;
}

export interface TopologyOverrides {
  topic?: Partial<Topology['topic']>;
  deadLetterTopic?: Partial<Topology['deadLetterTopic']>;
  subscriptions?: {
    onboarding?: Partial<PushSubscriptionSettings>;
    directory?: Partial<SubscriptionSettings>;
    deadLetter?: Partial<Topology['subscriptions']['deadLetter']>;
  };
}

/** Rejects settings that Pub/Sub would reject, naming the setting, its range and the value found. */
export function validateTopology(value: Topology): void {
  const problems: string[] = [];
  const check = (path: string, actual: number, min: number, max: number) => {
    if (!Number.isInteger(actual) || actual < min || actual > max) {
      problems.push(`${path} must be an integer from ${min} to ${max}, found ${actual}`);
    }
  };
  check('topic.messageRetentionSeconds', value.topic.messageRetentionSeconds, 600, 31 * day);
  check('deadLetterTopic.messageRetentionSeconds', value.deadLetterTopic.messageRetentionSeconds, 600, 31 * day);
  for (const key of ['onboarding', 'directory'] as const) {
    const subscription = value.subscriptions[key];
    check(`subscriptions.${key}.ackDeadlineSeconds`, subscription.ackDeadlineSeconds, 10, 600);
    check(`subscriptions.${key}.maxDeliveryAttempts`, subscription.maxDeliveryAttempts, 5, 100);
    check(`subscriptions.${key}.minimumBackoffSeconds`, subscription.minimumBackoffSeconds, 0, 600);
    check(`subscriptions.${key}.maximumBackoffSeconds`, subscription.maximumBackoffSeconds, 0, 600);
    check(`subscriptions.${key}.messageRetentionSeconds`, subscription.messageRetentionSeconds, 600, 7 * day);
    if (subscription.minimumBackoffSeconds > subscription.maximumBackoffSeconds) {
      problems.push(`subscriptions.${key}.minimumBackoffSeconds (${subscription.minimumBackoffSeconds}) must not exceed maximumBackoffSeconds (${subscription.maximumBackoffSeconds})`);
    }
  }
  check('subscriptions.deadLetter.ackDeadlineSeconds', value.subscriptions.deadLetter.ackDeadlineSeconds, 10, 600);
  check('subscriptions.deadLetter.messageRetentionSeconds', value.subscriptions.deadLetter.messageRetentionSeconds, 600, 7 * day);
  if (problems.length > 0) throw new Error(`Invalid Pub/Sub topology: ${problems.join('; ')}.`);
}

/** Full resource names, as the Pub/Sub API and the client library take them. */
export function topicPath(projectId: string, topicName: string): string {
  return `projects/${projectId}/topics/${topicName}`;
}

export function subscriptionPath(projectId: string, subscriptionName: string): string {
  return `projects/${projectId}/subscriptions/${subscriptionName}`;
}

export function schemaPath(projectId: string, schemaName: string): string {
  return `projects/${projectId}/schemas/${schemaName}`;
}
