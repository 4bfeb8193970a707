import type * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

// Pieces shared by the Cloud Run components: the environment every service reads, the resources of
// one instance, and the deterministic run.app URL.

type Container = gcp.types.input.cloudrunv2.ServiceTemplateContainer;

/** The port Cloud Run sends requests to, and passes to the container in `PORT`. */
export const containerPort = 8080;

/** CPU and memory of one instance of each service; the bundles are small and mostly wait on I/O. */
export const instanceLimits = { cpu: '1', memory: '512Mi' };

/** Settings every service reads from its environment. */
export interface ServiceEnvironment {
  project: string;
  logLevel: string;
  firestoreDatabase: pulumi.Input<string>;
}

/** Builds the container's `envs`: the shared variables first, then the service's own. */
export function envVars(shared: ServiceEnvironment, own: Record<string, pulumi.Input<string>>): Container['envs'] {
  const values: Record<string, pulumi.Input<string>> = {
    GOOGLE_CLOUD_PROJECT: shared.project,
    // In a container the service must accept connections from Cloud Run's front end, not only
    // from loopback.
    HOST: '0.0.0.0',
    LOG_LEVEL: shared.logLevel,
    FIRESTORE_DATABASE: shared.firestoreDatabase,
    ...own,
  };
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

/**
 * Returns the service's deterministic URL, `https://<service>-<project number>.<region>.run.app`.
 * It is known before the service exists, which lets the push consumer expect the audience that the
 * push subscription, created after it, puts in its tokens.
 */
export function deterministicUrl(serviceName: string, projectNumber: pulumi.Input<string>, region: string): pulumi.Output<string> {
  return pulumi.interpolate`https://${serviceName}-${projectNumber}.${region}.run.app`;
}
