import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { SourcesFile } from '@hr-events/contract';

// The ingest's sources file in Secret Manager: who may send events, with which credentials and
// what. The file holds only SHA-256 hashes of API keys, but it decides who may publish, so only the
// ingest may read it. Each change creates a new secret version, which the ingest mounts pinned, so
// Cloud Run rolls a revision that reads the new file at start.

export interface IngestSourcesArgs {
  project: string;
  /** Secret id, for example `hr-events-ingest-sources`. */
  secretId: string;
  sources: SourcesFile;
  /** The ingest's service account, the one reader of the secret. */
  accessorMember: pulumi.Input<string>;
  apis: pulumi.Resource[];
}

export class IngestSources extends pulumi.ComponentResource {
  public readonly secret: gcp.secretmanager.Secret;
  public readonly version: gcp.secretmanager.SecretVersion;
  /** The ingest cannot start a revision before this grant exists, because it mounts the secret. */
  public readonly accessorGrant: gcp.secretmanager.SecretIamMember;

  constructor(name: string, args: IngestSourcesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:IngestSources', name, {}, opts);
    const childOptions = { parent: this, dependsOn: args.apis };

    this.secret = new gcp.secretmanager.Secret(
      `${name}-secret`,
      { project: args.project, secretId: args.secretId, replication: { auto: {} }, labels: { service: 'ingest' } },
      childOptions,
    );
    // The settings were validated without clear-text keys, so the stored file has hashes only. It is
    // marked secret anyway, which keeps it out of Pulumi's state in plain text.
    this.version = new gcp.secretmanager.SecretVersion(
      `${name}-version`,
      { secret: this.secret.id, secretData: pulumi.secret(`${JSON.stringify(args.sources, null, 2)}\n`) },
      childOptions,
    );
    // Access to this one secret only, not to every secret of the project.
    this.accessorGrant = new gcp.secretmanager.SecretIamMember(
      `${name}-accessor`,
      { project: args.project, secretId: this.secret.secretId, role: 'roles/secretmanager.secretAccessor', member: args.accessorMember },
      childOptions,
    );

    this.registerOutputs({ secretId: this.secret.secretId, version: this.version.version });
  }
}
