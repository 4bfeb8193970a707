import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

// Cloud Monitoring alert policies. Each consumer subscription alerts when its oldest unacked message
// gets too old, because the consumer is down or falling behind. The dead-letter subscription alerts
// on any message, because that message failed every delivery attempt and needs a person.

export interface AlertsArgs {
  project: string;
  namePrefix: string;
  /** Consumer subscription names, keyed by consumer. */
  consumerSubscriptions: Record<string, pulumi.Input<string>>;
  deadLetterSubscription: pulumi.Input<string>;
  oldestUnackedSeconds: number;
  /** Address that receives the alerts; unset, they only show in the console. */
  email?: string;
  apis: pulumi.Resource[];
}

export class Alerts extends pulumi.ComponentResource {
  public readonly policies: gcp.monitoring.AlertPolicy[];
  public readonly notificationChannel?: gcp.monitoring.NotificationChannel;

  constructor(name: string, args: AlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:Alerts', name, {}, opts);
    const childOptions = { parent: this, dependsOn: args.apis };

    if (args.email !== undefined) {
      this.notificationChannel = new gcp.monitoring.NotificationChannel(
        `${name}-email`,
        { project: args.project, displayName: `${args.namePrefix} alerts`, type: 'email', labels: { email_address: args.email } },
        childOptions,
      );
    }
    const notificationChannels = this.notificationChannel ? [this.notificationChannel.name] : [];

    const policy = (key: string, displayName: string, subscription: pulumi.Input<string>, metric: string, threshold: number, duration: string) =>
      new gcp.monitoring.AlertPolicy(
        `${name}-${key}`,
        {
          project: args.project,
          displayName,
          combiner: 'OR',
          notificationChannels,
          conditions: [
            {
              displayName,
              conditionThreshold: {
                filter: pulumi.interpolate`resource.type = "pubsub_subscription" AND resource.labels.subscription_id = "${subscription}" AND metric.type = "pubsub.googleapis.com/subscription/${metric}"`,
                comparison: 'COMPARISON_GT',
                thresholdValue: threshold,
                duration,
                aggregations: [{ alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_MAX' }],
              },
            },
          ],
        },
        childOptions,
      );

    this.policies = Object.entries(args.consumerSubscriptions).map(([consumer, subscription]) =>
      policy(
        `${consumer}-backlog`,
        `${args.namePrefix}: ${consumer} oldest unacked message older than ${args.oldestUnackedSeconds} s`,
        subscription,
        'oldest_unacked_message_age',
        args.oldestUnackedSeconds,
        '300s',
      ),
    );
    this.policies.push(
      policy('dead-letter', `${args.namePrefix}: messages in the dead-letter subscription`, args.deadLetterSubscription, 'num_undelivered_messages', 0, '0s'),
    );

    this.registerOutputs({ policyNames: this.policies.map((alertPolicy) => alertPolicy.name) });
  }
}
