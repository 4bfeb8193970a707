import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { containerPort, envVars, instanceLimits, type ServiceEnvironment } from './run.ts';

// The directory consumer: a streaming-pull worker. It runs as a Cloud Run service with CPU always
// allocated and at least one instance, rather than as a worker pool, because it serves GET /health.
// A service probes that endpoint at startup and restarts an instance whose endpoint stops responding.
// CPU must stay allocated, because the service receives no requests and a throttled CPU would stall
// the pull stream and let leases expire.

export interface PullWorkerArgs {
  project: string;
  region: string;
  serviceName: string;
  image: pulumi.Input<string>;
  serviceAccountEmail: pulumi.Input<string>;
  environment: ServiceEnvironment;
  subscriptionName: pulumi.Input<string>;
  minInstances: number;
  maxInstances: number;
  deletionProtection: boolean;
  apis: pulumi.Resource[];
}

export class PullWorker extends pulumi.ComponentResource {
  public readonly service: gcp.cloudrunv2.Service;

  constructor(name: string, args: PullWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:PullWorker', name, {}, opts);
    const healthCheck = { httpGet: { path: '/health' }, timeoutSeconds: 1 };

    this.service = new gcp.cloudrunv2.Service(
      `${name}-service`,
      {
        project: args.project,
        location: args.region,
        name: args.serviceName,
        // Nothing calls the worker; internal ingress and no run.invoker grant keep it unreachable.
        ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY',
        deletionProtection: args.deletionProtection,
        template: {
          serviceAccount: args.serviceAccountEmail,
          scaling: { minInstanceCount: args.minInstances, maxInstanceCount: args.maxInstances },
          containers: [
            {
              image: args.image,
              ports: { containerPort },
              envs: envVars(args.environment, { SUBSCRIPTION: args.subscriptionName }),
              resources: { limits: instanceLimits, cpuIdle: false, startupCpuBoost: true },
              startupProbe: { ...healthCheck, periodSeconds: 2, failureThreshold: 30 },
              livenessProbe: { ...healthCheck, periodSeconds: 30, failureThreshold: 3 },
            },
          ],
        },
      },
      { parent: this, dependsOn: args.apis },
    );

    this.registerOutputs({ uri: this.service.uri });
  }
}
