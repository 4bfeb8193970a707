import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { loadCatalog } from '../../services/contract/src/catalog.ts';
import { standaloneValidatorsModule } from '../../services/contract/src/standalone-validators.ts';

// Bundles each service into one ES module under dist/<service>/server.mjs, next to a copy of the
// schemas in dist/schemas. One file starts faster than hundreds of small modules. The Google Cloud
// client libraries stay external: they load their protocol buffer definitions from files next to
// their own code, so they run from node_modules (a container image installs them with
// `npm ci --omit=dev`). The event schemas are compiled here as well (see precompiledValidators below).

export const services = ['ingest', 'push-consumer', 'pull-worker'] as const;

/** A banner that gives the ES module a require(), which bundled CommonJS packages call for Node built-ins. */
export const esmRequireBanner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";
const external = ['@google-cloud/*', 'google-gax', 'google-auth-library', '@grpc/*'];

export async function buildServices(outputDirectory = 'dist'): Promise<void> {
  rmSync(outputDirectory, { recursive: true, force: true });
  mkdirSync(outputDirectory, { recursive: true });
  cpSync('services/contract/schemas', `${outputDirectory}/schemas`, { recursive: true });

  await Promise.all(
    services.map(async (service) => {
      const result = await build({
        entryPoints: [`services/${service}/src/server.ts`],
        outfile: `${outputDirectory}/${service}/server.mjs`,
        bundle: true,
        platform: 'node',
        target: 'node24',
        format: 'esm',
        sourcemap: 'linked',
        metafile: true,
        external,
        plugins: [precompiledValidators()],
        logLevel: 'warning',
        banner: { js: esmRequireBanner },
      });
      writeFileSync(`${outputDirectory}/${service}/meta.json`, JSON.stringify(result.metafile));
    }),
  );
}

/**
 * Replaces services/contract/src/precompiled-validators.ts with the catalog's schemas compiled by
 * ajv, so that a service does not compile them at every start. The bundle also ships the schemas
 * (dist/schemas), and DataValidator still compiles a type whose schema there differs from the one
 * compiled here.
 */
export function precompiledValidators(): Plugin {
  return {
    name: 'precompiled-validators',
    setup(builder) {
      builder.onLoad({ filter: /[\\/]contract[\\/]src[\\/]precompiled-validators\.ts$/ }, (args) => ({
        contents: standaloneValidatorsModule(loadCatalog('services/contract/schemas')),
        loader: 'js',
        resolveDir: dirname(args.path),
      }));
    },
  };
}
