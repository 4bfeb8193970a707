import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

// The Google Cloud APIs the program uses, enabled before anything else. Every other component
// passes `enabled` to `dependsOn`, so no resource or lookup races the enablement of its API.

export const baseApis = [
  'run.googleapis.com',
  'pubsub.googleapis.com',
  'artifactregistry.googleapis.com',
  'iam.googleapis.com',
  'firestore.googleapis.com',
  'monitoring.googleapis.com',
  // Serves the project number lookup and the project-level IAM grants.
  'cloudresourcemanager.googleapis.com',
  // Holds the ingest's sources file.
  'secretmanager.googleapis.com',
] as const;

export interface ProjectApisArgs {
  project: string;
  /** Adds Compute Engine, which serves the load balancer, the certificate and Cloud Armor. */
  loadBalancer: boolean;
  /** Adds Cloud KMS, which serves the grant on the topic's CMEK key. */
  customerManagedKey: boolean;
}

export class ProjectApis extends pulumi.ComponentResource {
  /** One resource per API, for `dependsOn`. */
  public readonly enabled: gcp.projects.Service[];
  /** The project number, which names the Pub/Sub service agent and the deterministic run.app URLs. */
  public readonly projectNumber: pulumi.Output<string>;

  constructor(name: string, args: ProjectApisArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:ProjectApis', name, {}, opts);

    const apis: string[] = [...baseApis];
    if (args.loadBalancer) apis.push('compute.googleapis.com');
    if (args.customerManagedKey) apis.push('cloudkms.googleapis.com');

    // Destroying the stack leaves the APIs on: other workloads in the project may use them, and
    // turning an API off can delete data that other tools keep there.
    this.enabled = apis.map(
      (api) =>
        new gcp.projects.Service(
          `${name}-${api.split('.')[0]}`,
          { project: args.project, service: api, disableOnDestroy: false, disableDependentServices: false },
          { parent: this },
        ),
    );

    const project = gcp.organizations.getProjectOutput({ projectId: args.project }, { parent: this, dependsOn: this.enabled });
    this.projectNumber = project.apply((result) => result.number);

    this.registerOutputs({ projectNumber: this.projectNumber });
  }
}
