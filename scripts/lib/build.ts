import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// Bundles each service into one ES module under dist/<service>/server.mjs, next to a copy of the
// schemas in dist/schemas. One file starts faster than hundreds of small modules. The Google Cloud
// client libraries stay external: they load their protocol buffer definitions from files next to
// their own code, so they run from node_modules (a container image installs them with
// `npm ci --omit=dev`).

export const services = ['ingest', 'push-consumer', 'pull-worker'] as const;
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
        logLevel: 'warning',
        // Bundled CommonJS packages call require() for Node built-ins; give the ES module one.
        banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
      });
      writeFileSync(`${outputDirectory}/${service}/meta.json`, JSON.stringify(result.metafile));
    }),
  );
}
