import { dirname, resolve } from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { buildServices, esmRequireBanner, precompiledValidators, services } from '../scripts/lib/build.ts';

// Builds what the benchmark runs: the services (as `npm run build` does), the two baseline servers,
// and variants of the ingest with one module swapped, bundled the same way as the services, so a
// comparison differs in that module only. Everything goes to bench/dist rather than dist/, because
// `npm test` and `npm start` rebuild dist/ and would replace files while the benchmark runs them.

export const buildDirectory = 'bench/dist';

/** Returns the built entry of a service (`ingest`, `push-consumer`, `pull-worker`) or of a benchmark server or variant. */
export function builtEntry(name: string): string {
  return (services as readonly string[]).includes(name) ? `${buildDirectory}/${name}/server.mjs` : `${buildDirectory}/bench/${name}.mjs`;
}

export interface IngestVariant {
  name: string;
  /** Module of services/ingest/src (for example `./publisher.ts`) and the file that replaces it. */
  replacements: Record<string, string>;
  /** Compiles the event schemas at every start instead of in the build. */
  compilesSchemasAtStart?: boolean;
  /** Measured by the cold-start figure only, because it differs from the ingest only in its start. */
  coldStartOnly?: boolean;
  /** Packages imported at the top of the bundle, so they load before the server listens, as before the benchmark work. */
  loadsAtStart?: string[];
}

export const ingestVariants: IngestVariant[] = [
  // The ingest as it was before the benchmark work: the client library's per-key batching, every
  // client library loaded before the server listens, the schemas compiled at start, and log lines
  // written asynchronously.
  {
    name: 'ingest-before',
    replacements: {
      './publisher.ts': 'bench/variants/topic-publisher.ts',
      './lazy-status-reader.ts': 'bench/variants/eager-status-reader.ts',
      './log-destination.ts': 'bench/variants/async-log-destination.ts',
    },
    compilesSchemasAtStart: true,
    loadsAtStart: ['google-auth-library'],
  },
  // The current ingest, except that it compiles the schemas and loads the token verifier before
  // listening, as it did before those two changes.
  { name: 'ingest-start-work-before', replacements: {}, compilesSchemasAtStart: true, loadsAtStart: ['google-auth-library'], coldStartOnly: true },
  // Log lines written asynchronously, as pino does by default.
  { name: 'ingest-async-log', replacements: { './log-destination.ts': 'bench/variants/async-log-destination.ts' } },
  // The edge's own cost: every publish is confirmed at once and nothing is sent.
  { name: 'ingest-without-pubsub', replacements: { './publisher.ts': 'bench/variants/confirming-publisher.ts' } },
];

// The same settings as scripts/lib/build.ts: the Google Cloud client libraries stay external.
const sharedOptions: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  external: ['@google-cloud/*', 'google-gax', 'google-auth-library', '@grpc/*'],
  logLevel: 'warning',
  banner: { js: esmRequireBanner },
};

export async function buildAll(): Promise<void> {
  await buildServices(buildDirectory);
  await Promise.all([
    ...['echo', 'naive'].map((name) => build({ ...sharedOptions, entryPoints: [`bench/servers/${name}.ts`], outfile: builtEntry(name) })),
    ...ingestVariants.map((variant) =>
      build({
        ...sharedOptions,
        entryPoints: ['services/ingest/src/server.ts'],
        outfile: builtEntry(variant.name),
        plugins: [replaceModules(variant.replacements), ...(variant.compilesSchemasAtStart === true ? [] : [precompiledValidators()])],
        banner: { js: [esmRequireBanner, ...(variant.loadsAtStart ?? []).map((name) => `import ${JSON.stringify(name)};`)].join('\n') },
      }),
    ),
  ]);
}

/** Resolves each listed relative import inside services/ingest/src to its replacement file. */
function replaceModules(replacements: Record<string, string>): Plugin {
  const ingestSource = resolve('services/ingest/src');
  return {
    name: 'replace-ingest-modules',
    setup(builder) {
      builder.onResolve({ filter: /^\.\// }, (args) => {
        const replacement = replacements[args.path];
        if (replacement === undefined || dirname(args.importer) !== ingestSource) return undefined;
        return { path: resolve(replacement) };
      });
    },
  };
}
