import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { containerPort, deterministicUrl, envVars, instanceLimits, type ServiceEnvironment } from './run.ts';

// The onboarding consumer: a Cloud Run service that receives the push subscription's requests.
// It accepts no unauthenticated calls: Cloud Run checks the OIDC token and the run.invoker grant,
// and the service itself checks the token's audience and email against PUSH_AUDIENCE and
// PUSH_SERVICE_ACCOUNT.

export interface PushConsumerArgs {
  project: string;
  region: string;
  serviceName: string;
  projectNumber: pulumi.Input<string>;
  image: pulumi.Input<string>;
  serviceAccountEmail: pulumi.Input<string>;
  environment: ServiceEnvironment;
  /** Email of the account whose tokens Pub/Sub sends with each push request. */
  pushInvokerEmail: pulumi.Input<string>;
  /** Path of the push endpoint, from the topology. */
  pushPath: string;
  /** `internal` admits Pub/Sub push from the same project and refuses the internet. */
  ingress: 'internal' | 'all';
  maxInstances: number;
  deletionProtection: boolean;
  apis: pulumi.Resource[];
}

export class PushConsumer extends pulumi.ComponentResource {
  public readonly service: gcp.cloudrunv2.Service;
  /** The one audience value: the push subscription's tokens carry it and the service expects it. */
  public readonly audience: pulumi.Output<string>;
  /** The URL the push subscription delivers to. */
  public readonly endpoint: pulumi.Output<string>;
  /** The run.invoker grant; pushing before it exists only produces rejected deliveries. */
  public readonly invokerGrant: gcp.cloudrunv2.ServiceIamMember;

  constructor(name: string, args: PushConsumerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:PushConsumer', name, {}, opts);
    const childOptions = { parent: this, dependsOn: args.apis };

    this.audience = deterministicUrl(args.serviceName, args.projectNumber, args.region);
    this.endpoint = pulumi.interpolate`${this.audience}${args.pushPath}`;

    this.service = new gcp.cloudrunv2.Service(
      `${name}-service`,
      {
        project: args.project,
        location: args.region,
        name: args.serviceName,
        ingress: args.ingress === 'internal' ? 'INGRESS_TRAFFIC_INTERNAL_ONLY' : 'INGRESS_TRAFFIC_ALL',
        deletionProtection: args.deletionProtection,
        template: {
          serviceAccount: args.serviceAccountEmail,
          scaling: { minInstanceCount: 0, maxInstanceCount: args.maxInstances },
          containers: [
            {
              image: args.image,
              ports: { containerPort },
              envs: envVars(args.environment, { PUSH_AUDIENCE: this.audience, PUSH_SERVICE_ACCOUNT: args.pushInvokerEmail }),
              resources: { limits: instanceLimits, cpuIdle: true, startupCpuBoost: true },
            },
          ],
        },
      },
      childOptions,
    );

    // Only the push identity may call the service; there is no allUsers grant.
    this.invokerGrant = new gcp.cloudrunv2.ServiceIamMember(
      `${name}-invoker`,
      {
        project: args.project,
        location: args.region,
        name: this.service.name,
        role: 'roles/run.invoker',
        member: pulumi.interpolate`serviceAccount:${args.pushInvokerEmail}`,
      },
      childOptions,
    );

    this.registerOutputs({ audience: this.audience, endpoint: this.endpoint, uri: this.service.uri });
  }
}
