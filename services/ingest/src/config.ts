import { maxEventsPerBatch, topology } from '@hr-events/contract';
import { defaults } from './defaults.ts';

// Settings read from the environment once at start. Every problem is collected and reported
// together, each naming the variable, the value found and what to set instead.

export interface IngestConfig {
  port: number;
  host: string;
  projectId: string;
  topicName: string;
  firestoreDatabase: string;
  publishTimeoutMillis: number;
  maxInflightPublishes: number;
  logLevel: string;
  /** Path of the sources file: the principals, their credentials and what each may send. */
  sourcesFile: string;
  /** Accepted audiences of ID tokens: the URLs the ingest is reached at. */
  audiences: string[];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid ingest configuration: ${problems.join(' ')}`);
    this.problems = problems;
  }
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
// Pub/Sub topic ids: 3 to 255 characters, starting with a letter, and not starting with "goog".
const topicNamePattern = /^(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;
// Firestore database ids: "(default)", or 4 to 63 lower-case letters, digits and hyphens.
const databaseIdPattern = /^(\(default\)|[a-z][a-z0-9-]{2,61}[a-z0-9])$/;

/** Reads and validates the settings; throws ConfigError listing every problem. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const problems: string[] = [];
  const text = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number, unit: string) => {
    const value = text(name);
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (${unit}), found "${value}"; set it in that range or unset it to use ${fallback}.`);
      return fallback;
    }
    return parsed;
  };

  const projectId = text('GOOGLE_CLOUD_PROJECT');
  if (projectId === undefined) {
    problems.push('GOOGLE_CLOUD_PROJECT is not set; set it to the Google Cloud project id that holds the topic (any id works against the emulators).');
  }

  const topicName = text('TOPIC') ?? topology().topic.name;
  if (!topicNamePattern.test(topicName)) {
    problems.push(`TOPIC "${topicName}" is not a Pub/Sub topic id; use 3 to 255 letters, digits or - . _ ~ + %, starting with a letter and not with "goog".`);
  }

  const firestoreDatabase = text('FIRESTORE_DATABASE') ?? defaults.firestoreDatabase;
  if (!databaseIdPattern.test(firestoreDatabase)) {
    problems.push(`FIRESTORE_DATABASE "${firestoreDatabase}" is not a Firestore database id; use "(default)" or 4 to 63 lower-case letters, digits and hyphens.`);
  }

  // Authentication is always on, so the ingest does not start without its sources.
  const sourcesFile = text('SOURCES_FILE');
  if (sourcesFile === undefined) {
    problems.push('SOURCES_FILE is not set; set it to the path of the sources file (config/local-sources.json for the local stack; docs/sources.md shows the format).');
  }

  const audiences = (text('INGEST_AUDIENCE') ?? '').split(',').map((audience) => audience.trim()).filter((audience) => audience !== '');
  for (const audience of audiences) {
    if (!/^https?:\/\/[^/\s]+/.test(audience) || !URL.canParse(audience)) {
      problems.push(`INGEST_AUDIENCE entry "${audience}" is not an absolute http(s) URL; set it to the ingest URL that ID tokens are issued for, such as https://hr-events-ingest-123456789012.us-central1.run.app.`);
    }
  }

  const logLevel = (text('LOG_LEVEL') ?? defaults.logLevel).toLowerCase();
  if (!logLevels.includes(logLevel)) {
    problems.push(`LOG_LEVEL "${logLevel}" is not a log level; use one of ${logLevels.join(', ')}.`);
  }

  const config: IngestConfig = {
    // Port 0 lets the system choose a free port, and the start log line names it.
    port: integer('PORT', defaults.port, 0, 65_535, 'a TCP port'),
    host: text('HOST') ?? defaults.host,
    projectId: projectId ?? '',
    topicName,
    firestoreDatabase,
    publishTimeoutMillis: integer('PUBLISH_TIMEOUT_MS', defaults.publishTimeoutMillis, 1, 60_000, 'milliseconds'),
    // At least one full batch must fit, or a batch of the maximum size could never be published.
    maxInflightPublishes: integer('MAX_INFLIGHT_PUBLISHES', defaults.maxInflightPublishes, maxEventsPerBatch, 1_000_000, 'messages'),
    logLevel,
    sourcesFile: sourcesFile ?? '',
    audiences,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
