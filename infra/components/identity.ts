import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

// One service account per workload, plus the account that signs Pub/Sub's push requests and the
// Pub/Sub service agent. The accounts start with no roles: each grant sits beside the resource it
// opens (topic, subscription, Cloud Run service, Firestore database).

export interface ServiceIdentitiesArgs {
  project: string;
  namePrefix: string;
  apis: pulumi.Resource[];
}

export class ServiceIdentities extends pulumi.ComponentResource {
  public readonly ingest: gcp.serviceaccount.Account;
  public readonly pushConsumer: gcp.serviceaccount.Account;
  public readonly pullWorker: gcp.serviceaccount.Account;
  /** The identity in the OIDC token of each push request; only it may invoke the push consumer. */
  public readonly pushInvoker: gcp.serviceaccount.Account;
  /** `serviceAccount:service-<project number>@gcp-sa-pubsub.iam.gserviceaccount.com`. */
  public readonly pubsubAgentMember: pulumi.Output<string>;

  constructor(name: string, args: ServiceIdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:ServiceIdentities', name, {}, opts);
    const childOptions = { parent: this, dependsOn: args.apis };
    const account = (suffix: string, displayName: string) =>
      new gcp.serviceaccount.Account(
        `${name}-${suffix}`,
        { project: args.project, accountId: `${args.namePrefix}-${suffix}`, displayName },
        childOptions,
      );

    this.ingest = account('ingest', 'HR events ingest (Cloud Run)');
    this.pushConsumer = account('onboarding', 'HR events onboarding push consumer (Cloud Run)');
    this.pullWorker = account('directory', 'HR events directory pull worker (Cloud Run)');
    this.pushInvoker = account('pusher', 'HR events Pub/Sub push identity');

    // Creating the identity makes sure the agent exists before the grants name it; Pub/Sub creates
    // it lazily otherwise, and a grant to an absent account fails.
    const pubsubAgent = new gcp.projects.ServiceIdentity(
      `${name}-pubsub-agent`,
      { project: args.project, service: 'pubsub.googleapis.com' },
      childOptions,
    );
    this.pubsubAgentMember = pulumi.interpolate`serviceAccount:${pubsubAgent.email}`;

    this.registerOutputs({
      ingestEmail: this.ingest.email,
      pushConsumerEmail: this.pushConsumer.email,
      pullWorkerEmail: this.pullWorker.email,
      pushInvokerEmail: this.pushInvoker.email,
      pubsubAgentMember: this.pubsubAgentMember,
    });
  }
}

export function memberOf(account: gcp.serviceaccount.Account): pulumi.Output<string> {
  return pulumi.interpolate`serviceAccount:${account.email}`;
}
