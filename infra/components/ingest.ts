import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { containerPort, envVars, instanceLimits, type ServiceEnvironment } from './run.ts';

// The edge ingest: one Cloud Run service per ingest region, all with the same name, image and
// settings. It authenticates the sources, validates CloudEvents, publishes them to the HR topic and
// serves the status endpoint.

/** Folder and file name of the mounted sources secret in the container, which SOURCES_FILE names. */
export const sourcesMountPath = '/etc/hr-events';
export const sourcesFileName = 'sources.json';

export interface SourcesSecret {
  secretId: pulumi.Input<string>;
  /** The version to mount, pinned so that a new version rolls a new revision. */
  version: pulumi.Input<string>;
  /** Resources the service must wait for: the accessor grant on the secret. */
  ready: pulumi.Resource[];
}

export interface IngestArgs {
  project: string;
  serviceName: string;
  regions: string[];
  image: pulumi.Input<string>;
  serviceAccountEmail: pulumi.Input<string>;
  environment: ServiceEnvironment;
  topicName: pulumi.Input<string>;
  sources: SourcesSecret;
  /** INGEST_AUDIENCE: the ingest URLs, comma-separated, that sources request ID tokens for. */
  audience: pulumi.Input<string>;
  /** Grants run.invoker to allUsers; otherwise callers need an identity token. */
  public: boolean;
  /** Admits only internal and load-balancer traffic, so requests enter through the load balancer. */
  behindLoadBalancer: boolean;
  minInstances: number;
  maxInstances: number;
  concurrency: number;
  deletionProtection: boolean;
  apis: pulumi.Resource[];
}

export class Ingest extends pulumi.ComponentResource {
  /** Service per region. */
  public readonly services: Record<string, gcp.cloudrunv2.Service>;
  /** run.app URL per region. */
  public readonly urls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: IngestArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:Ingest', name, {}, opts);

    this.services = {};
    for (const region of args.regions) {
      const service = this.createService(`${name}-${region}`, region, args);
      this.services[region] = service;
      if (args.public) {
        // A public ingest takes events from clients without Google identities; the load balancer,
        // when present, forwards requests without a token as well.
        new gcp.cloudrunv2.ServiceIamMember(
          `${name}-${region}-public`,
          { project: args.project, location: region, name: service.name, role: 'roles/run.invoker', member: 'allUsers' },
          { parent: this, dependsOn: args.apis },
        );
      }
    }
    this.urls = pulumi.all(Object.fromEntries(Object.entries(this.services).map(([region, service]) => [region, service.uri])));

    this.registerOutputs({ urls: this.urls });
  }

  private createService(resourceName: string, region: string, args: IngestArgs): gcp.cloudrunv2.Service {
    return new gcp.cloudrunv2.Service(
      resourceName,
      {
        project: args.project,
        location: region,
        name: args.serviceName,
        ingress: args.behindLoadBalancer ? 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER' : 'INGRESS_TRAFFIC_ALL',
        deletionProtection: args.deletionProtection,
        template: {
          serviceAccount: args.serviceAccountEmail,
          maxInstanceRequestConcurrency: args.concurrency,
          scaling: { minInstanceCount: args.minInstances, maxInstanceCount: args.maxInstances },
          // Cloud Run mounts the secret version as a file, so the ingest reads its sources the same
          // way here as in the local stack.
          volumes: [{ name: 'sources', secret: { secret: args.sources.secretId, items: [{ version: args.sources.version, path: sourcesFileName }] } }],
          containers: [
            {
              image: args.image,
              ports: { containerPort },
              envs: envVars(args.environment, {
                TOPIC: args.topicName,
                SOURCES_FILE: `${sourcesMountPath}/${sourcesFileName}`,
                INGEST_AUDIENCE: args.audience,
              }),
              volumeMounts: [{ name: 'sources', mountPath: sourcesMountPath }],
              resources: { limits: instanceLimits, cpuIdle: true, startupCpuBoost: true },
              // Cloud Run sends no traffic to an instance until /health responds with success. The
              // probe gives a cold start up to 60 s (30 checks, 2 s apart).
              startupProbe: { httpGet: { path: '/health' }, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 30 },
            },
          ],
        },
      },
      { parent: this, dependsOn: [...args.apis, ...args.sources.ready] },
    );
  }
}
