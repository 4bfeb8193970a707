import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as dockerBuild from '@pulumi/docker-build';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { ImageRefs } from '../settings.ts';

// The container images of the three services. By default they are built from this repository and
// pushed to an Artifact Registry repository. With prebuilt references, for CI pipelines that build
// elsewhere, nothing is built. Either way Cloud Run receives `<image>@sha256:<digest>`, so a changed
// image rolls a new revision and an unchanged one leaves the service as it is.

export const serviceFolders = { ingest: 'ingest', pushConsumer: 'push-consumer', pullWorker: 'pull-worker' } as const;
export type ServiceKey = keyof typeof serviceFolders;

/**
 * Returns the repository root, the build context of every image, relative to the working directory.
 * Pulumi runs the program and its providers in the same working directory. A relative path stays the
 * same across checkouts, where an absolute one would change the inputs and force a rebuild.
 */
export function buildContextPath(): string {
  return relative(process.cwd(), fileURLToPath(new URL('../../', import.meta.url))) || '.';
}

export interface ContainerImagesArgs {
  project: string;
  region: string;
  /** Repository id in Artifact Registry. */
  repositoryId: string;
  /** Tag of each built image, next to its digest; the stack name keeps stacks from overwriting each other's tags. */
  tag: string;
  prebuilt?: ImageRefs;
  apis: pulumi.Resource[];
}

export class ContainerImages extends pulumi.ComponentResource {
  public readonly repository: gcp.artifactregistry.Repository;
  /** `<region>-docker.pkg.dev/<project>/<repository>`. */
  public readonly repositoryUrl: pulumi.Output<string>;
  /** Digest-pinned reference per service. */
  public readonly refs: Record<ServiceKey, pulumi.Output<string>>;

  constructor(name: string, args: ContainerImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:ContainerImages', name, {}, opts);

    this.repository = new gcp.artifactregistry.Repository(
      `${name}-repository`,
      {
        project: args.project,
        location: args.region,
        repositoryId: args.repositoryId,
        format: 'DOCKER',
        description: 'Container images of the HR events services.',
      },
      { parent: this, dependsOn: args.apis },
    );
    const registry = `${args.region}-docker.pkg.dev`;
    this.repositoryUrl = pulumi.interpolate`${registry}/${this.repository.project}/${this.repository.repositoryId}`;

    const prebuilt = args.prebuilt;
    this.refs = prebuilt
      ? { ingest: pulumi.output(prebuilt.ingest), pushConsumer: pulumi.output(prebuilt.pushConsumer), pullWorker: pulumi.output(prebuilt.pullWorker) }
      : this.buildAll(name, args, registry);

    this.registerOutputs({ repositoryUrl: this.repositoryUrl, refs: this.refs });
  }

  private buildAll(name: string, args: ContainerImagesArgs, registry: string): Record<ServiceKey, pulumi.Output<string>> {
    // A short-lived token of the account running `pulumi up`; docker-build ignores password changes
    // when it compares inputs, so a new token does not trigger a rebuild.
    const accessToken = gcp.organizations.getClientConfigOutput({ parent: this }).accessToken;
    const registries = [{ address: registry, username: 'oauth2accesstoken', password: pulumi.secret(accessToken) }];

    // NOTE: the three images share one build context, so a change in one service's sources rebuilds
    // all three. A rebuilt image of an unchanged service can get a new digest (new file timestamps)
    // and so roll a revision that changes nothing.
    const context = buildContextPath();
    const build = (service: ServiceKey) => {
      const folder = serviceFolders[service];
      const image = new dockerBuild.Image(
        `${name}-${folder}`,
        {
          context: { location: context },
          dockerfile: { location: join(context, 'services', folder, 'Dockerfile') },
          // Cloud Run runs linux/amd64 images.
          platforms: ['linux/amd64'],
          tags: [pulumi.interpolate`${this.repositoryUrl}/${folder}:${args.tag}`],
          push: true,
          registries,
        },
        { parent: this },
      );
      return image.ref;
    };
    return { ingest: build('ingest'), pushConsumer: build('pushConsumer'), pullWorker: build('pullWorker') };
  }
}
