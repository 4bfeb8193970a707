import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { loadCatalog, parseSources, SourcesFileError, type SourcesFile } from '@hr-events/contract';

// Stack settings: read once, validated before any resource is created, with every default in
// `defaults` below. Each error names the setting, the rule, the value found and the command that
// fixes it. The README documents the same settings in a table.

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const pushConsumerIngressValues = ['internal', 'all'] as const;

/** Image references, one per service, each pinned to a digest. */
export interface ImageRefs {
  ingest: string;
  pushConsumer: string;
  pullWorker: string;
}

export interface Settings {
  /** Google Cloud project id (`gcp:project`). */
  project: string;
  /** Region of everything regional except extra ingest regions (`gcp:region`). */
  region: string;
  /** Prefix of the Pub/Sub, Cloud Run, service account and load balancer names. */
  namePrefix: string;
  ingestRegions: string[];
  ingestPublic: boolean;
  ingestMinInstances: number;
  ingestMaxInstances: number;
  ingestConcurrency: number;
  pushConsumerIngress: (typeof pushConsumerIngressValues)[number];
  pushConsumerMaxInstances: number;
  pullWorkerMinInstances: number;
  pullWorkerMaxInstances: number;
  loadBalancer: boolean;
  domain?: string;
  rateLimitPerMinute?: number;
  messageStorageRegions?: string[];
  topicKmsKey?: string;
  onboardingFilter?: string;
  directoryFilter?: string;
  firestoreDatabase: string;
  firestoreLocation: string;
  deleteFirestoreOnDestroy: boolean;
  deletionProtection: boolean;
  /** Prebuilt images; when absent, the program builds and pushes them. */
  images?: ImageRefs;
  logLevel: (typeof logLevels)[number];
  alertOldestUnackedSeconds: number;
  alertEmail?: string;
  /** The ingest's sources file: principals, key hashes, service accounts and policies. */
  sources: SourcesFile;
}

export const defaults = {
  region: 'us-central1',
  namePrefix: 'hr-events',
  ingestPublic: true,
  ingestMinInstances: 0,
  ingestMaxInstances: 10,
  ingestConcurrency: 80,
  pushConsumerIngress: 'internal',
  pushConsumerMaxInstances: 10,
  pullWorkerMinInstances: 1,
  pullWorkerMaxInstances: 3,
  firestoreDatabase: '(default)',
  deleteFirestoreOnDestroy: false,
  deletionProtection: false,
  logLevel: 'info',
  alertOldestUnackedSeconds: 600,
} as const;

/** Cloud Run accepts at most 1,000 concurrent requests per instance; 1,000 instances is its usual quota. */
const maxCloudRunInstances = 1000;
/** Pub/Sub rejects subscription filters longer than 256 bytes. */
const maxFilterBytes = 256;

const projectPattern = /^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const regionPattern = /^[a-z]+(-[a-z]+)+[0-9]+$/;
// The longest suffix is "-push-consumer" for a Cloud Run service and "-onboarding" for a service
// account id, which Google Cloud limits to 30 characters.
const namePrefixPattern = /^[a-z][a-z0-9-]{0,17}[a-z0-9]$/;
const domainPattern = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const kmsKeyPattern = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;
const databaseIdPattern = /^[a-z][a-z0-9-]{2,61}[a-z0-9]$/;
const digestRefPattern = /^[a-z0-9.-]+(:[0-9]+)?\/[^@\s]+@sha256:[0-9a-f]{64}$/;
const emailPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** The two namespaces the program reads: its own (the project name) and the Google provider's. */
export interface ConfigSource {
  get(key: string): string | undefined;
  getGcp(key: string): string | undefined;
  /** The project's config namespace, used in messages: `hr-events`. */
  namespace: string;
}

export function pulumiConfigSource(): ConfigSource {
  const own = new pulumi.Config();
  const gcp = new pulumi.Config('gcp');
  return { get: (key) => own.get(key), getGcp: (key) => gcp.get(key), namespace: own.name };
}

/** Raised for a missing or invalid setting; the message lists every problem found. */
export class SettingsError extends pulumi.RunError {
  constructor(problems: string[]) {
    super(`Invalid stack settings:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SettingsError';
  }
}

export function readSettings(source: ConfigSource = pulumiConfigSource()): Settings {
  const reader = new SettingsReader(source);
  const settings = reader.read();
  if (reader.problems.length > 0) throw new SettingsError(reader.problems);
  return settings;
}

class SettingsReader {
  readonly problems: string[] = [];
  private readonly source: ConfigSource;

  constructor(source: ConfigSource) {
    this.source = source;
  }

  read(): Settings {
    const project = this.readProject();
    const region = this.readPattern('gcp:region', this.source.getGcp('region'), regionPattern, 'a Google Cloud region such as us-central1') ?? defaults.region;
    const ingestRegions = this.readRegionList('ingestRegions') ?? [region];
    const domain = this.readPattern(this.key('domain'), this.source.get('domain'), domainPattern, 'a lower-case DNS name such as events.example.com');
    const loadBalancer = this.readLoadBalancer(ingestRegions, domain);
    const rateLimitPerMinute = this.readInteger('rateLimitPerMinute', 1, 1_000_000);
    if (rateLimitPerMinute !== undefined && !loadBalancer) {
      this.problems.push(`${this.key('rateLimitPerMinute')} needs the load balancer, because Cloud Armor attaches to its backend; set ${this.key('loadBalancer')} to true or remove the setting with \`pulumi config rm ${this.key('rateLimitPerMinute')}\`.`);
    }

    const ingestMinInstances = this.readInteger('ingestMinInstances', 0, maxCloudRunInstances) ?? defaults.ingestMinInstances;
    const ingestMaxInstances = this.readInteger('ingestMaxInstances', 1, maxCloudRunInstances) ?? defaults.ingestMaxInstances;
    this.checkOrder('ingestMinInstances', ingestMinInstances, 'ingestMaxInstances', ingestMaxInstances);
    const pullWorkerMinInstances = this.readInteger('pullWorkerMinInstances', 1, maxCloudRunInstances) ?? defaults.pullWorkerMinInstances;
    const pullWorkerMaxInstances = this.readInteger('pullWorkerMaxInstances', 1, maxCloudRunInstances) ?? defaults.pullWorkerMaxInstances;
    this.checkOrder('pullWorkerMinInstances', pullWorkerMinInstances, 'pullWorkerMaxInstances', pullWorkerMaxInstances);

    return {
      project,
      region,
      namePrefix: this.readPattern(this.key('namePrefix'), this.source.get('namePrefix'), namePrefixPattern, '2 to 19 lower-case letters, digits or hyphens, starting with a letter') ?? defaults.namePrefix,
      ingestRegions,
      ingestPublic: this.readBoolean('ingestPublic') ?? defaults.ingestPublic,
      ingestMinInstances,
      ingestMaxInstances,
      ingestConcurrency: this.readInteger('ingestConcurrency', 1, 1000) ?? defaults.ingestConcurrency,
      pushConsumerIngress: this.readChoice('pushConsumerIngress', pushConsumerIngressValues) ?? defaults.pushConsumerIngress,
      pushConsumerMaxInstances: this.readInteger('pushConsumerMaxInstances', 1, maxCloudRunInstances) ?? defaults.pushConsumerMaxInstances,
      pullWorkerMinInstances,
      pullWorkerMaxInstances,
      loadBalancer,
      domain,
      rateLimitPerMinute,
      messageStorageRegions: this.readRegionList('messageStorageRegions'),
      topicKmsKey: this.readPattern(this.key('topicKmsKey'), this.source.get('topicKmsKey'), kmsKeyPattern, 'a key name of the form projects/P/locations/L/keyRings/R/cryptoKeys/K'),
      onboardingFilter: this.readFilter('onboardingFilter'),
      directoryFilter: this.readFilter('directoryFilter'),
      firestoreDatabase: this.readDatabaseId(),
      firestoreLocation: this.readPattern(this.key('firestoreLocation'), this.source.get('firestoreLocation'), /^[a-z][a-z0-9-]*[0-9]$/, 'a Firestore location such as us-central1 or nam5') ?? region,
      deleteFirestoreOnDestroy: this.readBoolean('deleteFirestoreOnDestroy') ?? defaults.deleteFirestoreOnDestroy,
      deletionProtection: this.readBoolean('deletionProtection') ?? defaults.deletionProtection,
      images: this.readImages(),
      logLevel: this.readChoice('logLevel', logLevels) ?? defaults.logLevel,
      alertOldestUnackedSeconds: this.readInteger('alertOldestUnackedSeconds', 60, 7 * 24 * 3600) ?? defaults.alertOldestUnackedSeconds,
      alertEmail: this.readPattern(this.key('alertEmail'), this.source.get('alertEmail'), emailPattern, 'an email address'),
      sources: this.readSources(),
    };
  }

  private key(name: string): string {
    return `${this.source.namespace}:${name}`;
  }

  private readProject(): string {
    const value = this.source.getGcp('project');
    if (value === undefined || value === '') {
      this.problems.push('gcp:project is missing: it names the Google Cloud project to deploy into. Set it with `pulumi config set gcp:project <project-id>`.');
      return '';
    }
    return this.readPattern('gcp:project', value, projectPattern, 'a project id of 6 to 30 lower-case letters, digits or hyphens') ?? '';
  }

  private readPattern(key: string, value: string | undefined, pattern: RegExp, rule: string): string | undefined {
    if (value === undefined) return undefined;
    if (!pattern.test(value)) {
      this.problems.push(`${key} must be ${rule}, found ${JSON.stringify(value)}. Fix it with \`pulumi config set ${key} <value>\`.`);
      return undefined;
    }
    return value;
  }

  private readBoolean(name: string): boolean | undefined {
    const value = this.source.get(name);
    if (value === undefined) return undefined;
    if (value === 'true' || value === 'false') return value === 'true';
    this.problems.push(`${this.key(name)} must be true or false, found ${JSON.stringify(value)}. Fix it with \`pulumi config set ${this.key(name)} true\`.`);
    return undefined;
  }

  private readInteger(name: string, min: number, max: number): number | undefined {
    const value = this.source.get(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${this.key(name)} must be an integer from ${min} to ${max}, found ${JSON.stringify(value)}. Fix it with \`pulumi config set ${this.key(name)} <integer>\`.`);
      return undefined;
    }
    return parsed;
  }

  private readChoice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const value = this.source.get(name);
    if (value === undefined) return undefined;
    if ((choices as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${this.key(name)} must be one of ${choices.join(', ')}, found ${JSON.stringify(value)}. Fix it with \`pulumi config set ${this.key(name)} ${choices[0]}\`.`);
    return undefined;
  }

  /** Reads a JSON array (as `pulumi config set --path` stores it) or a comma-separated list of regions. */
  private readRegionList(name: string): string[] | undefined {
    const value = this.source.get(name);
    if (value === undefined) return undefined;
    const fix = `Fix it with \`pulumi config set ${this.key(name)} us-central1,europe-west1\`.`;
    let regions: unknown;
    try {
      regions = value.trim().startsWith('[') ? JSON.parse(value) : value.split(',').map((region) => region.trim());
    } catch {
      this.problems.push(`${this.key(name)} must be a JSON array or a comma-separated list of regions, found ${JSON.stringify(value)}. ${fix}`);
      return undefined;
    }
    const isRegionList = Array.isArray(regions) && regions.length > 0 && regions.every((region) => typeof region === 'string' && regionPattern.test(region));
    if (!isRegionList) {
      this.problems.push(`${this.key(name)} must list one or more Google Cloud regions such as us-central1, found ${JSON.stringify(value)}. ${fix}`);
      return undefined;
    }
    const list = regions as string[];
    if (new Set(list).size !== list.length) {
      this.problems.push(`${this.key(name)} lists a region twice, found ${JSON.stringify(value)}. ${fix}`);
      return undefined;
    }
    return list;
  }

  /** Returns whether to use the load balancer, which is on by default with several ingest regions or a domain. */
  private readLoadBalancer(ingestRegions: string[], domain: string | undefined): boolean {
    const needed = ingestRegions.length > 1 || domain !== undefined;
    const configured = this.readBoolean('loadBalancer');
    if (configured === false && needed) {
      const reason = ingestRegions.length > 1 ? `${this.key('ingestRegions')} lists ${ingestRegions.length} regions` : `${this.key('domain')} is set`;
      this.problems.push(`${this.key('loadBalancer')} is false but ${reason}, which needs the load balancer. Remove the setting with \`pulumi config rm ${this.key('loadBalancer')}\`.`);
    }
    return configured ?? needed;
  }

  private readFilter(name: string): string | undefined {
    const value = this.source.get(name);
    if (value === undefined) return undefined;
    if (value.trim() === '' || Buffer.byteLength(value) > maxFilterBytes) {
      this.problems.push(`${this.key(name)} must be a Pub/Sub filter of 1 to ${maxFilterBytes} bytes, found ${Buffer.byteLength(value)} bytes. Fix it with \`pulumi config set ${this.key(name)} 'attributes.ce-type = "hr.contractor.engaged"'\`.`);
      return undefined;
    }
    return value;
  }

  private readDatabaseId(): string {
    const value = this.source.get('firestoreDatabase');
    if (value === undefined || value === defaults.firestoreDatabase) return defaults.firestoreDatabase;
    return this.readPattern(this.key('firestoreDatabase'), value, databaseIdPattern, '(default) or 4 to 63 lower-case letters, digits or hyphens, starting with a letter') ?? defaults.firestoreDatabase;
  }

  private readImages(): ImageRefs | undefined {
    const value = this.source.get('images');
    if (value === undefined) return undefined;
    const key = this.key('images');
    const fix = `Fix it with \`pulumi config set --path ${key}.ingest <registry>/<image>@sha256:<digest>\` for ingest, pushConsumer and pullWorker.`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      this.problems.push(`${key} must be an object with ingest, pushConsumer and pullWorker, found ${JSON.stringify(value)}. ${fix}`);
      return undefined;
    }
    const refs = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const problemCount = this.problems.length;
    for (const service of ['ingest', 'pushConsumer', 'pullWorker'] as const) {
      const ref = refs[service];
      if (typeof ref !== 'string' || !digestRefPattern.test(ref)) {
        this.problems.push(`${key}.${service} must be an image reference pinned to a digest (<registry>/<image>@sha256:<64 hex digits>), so that Cloud Run rolls a revision only when the image changes; found ${JSON.stringify(ref ?? null)}. ${fix}`);
      }
    }
    if (this.problems.length > problemCount) return undefined;
    return refs as unknown as ImageRefs;
  }

  /**
   * Reads the sources from `sources` (the file's JSON as a config object) or from the file that
   * `sourcesFile` names, relative to the project folder. Without either, the ingest gets no
   * principals and rejects every request until sources are added.
   */
  private readSources(): SourcesFile {
    const inline = this.source.get('sources');
    const path = this.source.get('sourcesFile');
    const none: SourcesFile = { principals: [] };
    if (inline !== undefined && path !== undefined) {
      this.problems.push(`${this.key('sources')} and ${this.key('sourcesFile')} are both set; keep one, for example with \`pulumi config rm ${this.key('sources')}\`.`);
      return none;
    }
    if (inline === undefined && path === undefined) return none;

    const origin = inline !== undefined ? this.key('sources') : `${this.key('sourcesFile')} (${path})`;
    const fix = inline !== undefined ? `Fix the value of ${this.key('sources')} in the stack file (Pulumi.<stack>.yaml).` : `Fix it in ${path}.`;
    let value: unknown;
    try {
      value = JSON.parse(inline ?? readFileSync(path as string, 'utf8'));
    } catch (error) {
      this.problems.push(`${origin} must be a sources file in JSON (docs/sources.md): ${(error as Error).message}. ${fix}`);
      return none;
    }
    try {
      return parseSources(value, { origin, knownTypes: [...loadCatalog().types.keys()], allowDevelopmentKeys: false });
    } catch (error) {
      if (!(error instanceof SourcesFileError)) throw error;
      for (const problem of error.problems) this.problems.push(`${origin}: ${problem} ${fix}`);
      return none;
    }
  }

  private checkOrder(minName: string, min: number, maxName: string, max: number): void {
    if (min > max) {
      this.problems.push(`${this.key(minName)} (${min}) must not exceed ${this.key(maxName)} (${max}). Fix it with \`pulumi config set ${this.key(maxName)} ${min}\`.`);
    }
  }
}
