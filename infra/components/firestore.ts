import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

// The Firestore database (native mode) that the consumers write and the ingest's status endpoint
// reads. Firestore has no per-database IAM resource, so each grant is a project-level binding with
// an IAM condition that limits it to this database.

export interface FirestoreArgs {
  project: string;
  databaseId: string;
  locationId: string;
  /** false keeps the database, and its data, when the stack is destroyed. */
  deleteOnDestroy: boolean;
  /** Members that write records: the consumers. */
  writers: Record<string, pulumi.Input<string>>;
  /** Members that only read records: the ingest's status endpoint. */
  readers: Record<string, pulumi.Input<string>>;
  apis: pulumi.Resource[];
}

export class Firestore extends pulumi.ComponentResource {
  public readonly database: gcp.firestore.Database;
  /** The database id that the services take in `FIRESTORE_DATABASE`. */
  public readonly databaseId: pulumi.Output<string>;

  constructor(name: string, args: FirestoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:Firestore', name, {}, opts);
    const childOptions = { parent: this, dependsOn: args.apis };

    // ABANDON leaves the database in place on `pulumi destroy`, and delete protection then guards
    // it against deletion from the console too. DELETE removes it with the stack.
    this.database = new gcp.firestore.Database(
      `${name}-database`,
      {
        project: args.project,
        name: args.databaseId,
        locationId: args.locationId,
        type: 'FIRESTORE_NATIVE',
        deletionPolicy: args.deleteOnDestroy ? 'DELETE' : 'ABANDON',
        deleteProtectionState: args.deleteOnDestroy ? 'DELETE_PROTECTION_DISABLED' : 'DELETE_PROTECTION_ENABLED',
      },
      childOptions,
    );
    this.databaseId = this.database.name;

    const condition = {
      title: `${args.databaseId} database only`,
      expression: pulumi.interpolate`resource.name == "projects/${args.project}/databases/${this.database.name}"`,
    };
    const grant = (key: string, role: string, member: pulumi.Input<string>) =>
      new gcp.projects.IAMMember(`${name}-${key}`, { project: args.project, role, member, condition }, childOptions);

    // The consumers read and write their records and the event receipts.
    for (const [key, member] of Object.entries(args.writers)) grant(`${key}-user`, 'roles/datastore.user', member);
    // The status endpoint only reads the receipts, so its account gets the read-only role.
    for (const [key, member] of Object.entries(args.readers)) grant(`${key}-viewer`, 'roles/datastore.viewer', member);

    this.registerOutputs({ databaseId: this.databaseId });
  }
}
