import { topology } from '@hr-events/contract';

// Settings of the pull worker, read from the environment once at start. Every default lives in
// `defaults` below, and an invalid value stops the process with one message that lists each
// problem, the value found and what to set instead.

export interface WorkerConfig {
  port: number;
  host: string;
  projectId: string;
  /** Name of the pull subscription on the HR topic (not the full resource path). */
  subscription: string;
  firestoreDatabase: string;
  maxOutstandingMessages: number;
  maxOutstandingBytes: number;
  /** The subscription's dead-letter setting, used to say in the log when a delivery is the last one. */
  maxDeliveryAttempts: number;
  faultFailFirstDeliveryPercent: number;
  logLevel: string;
}

const directorySubscription = topology().subscriptions.directory;

export const defaults = {
  port: 8080,
  // Loopback by default. Cloud Run needs HOST=0.0.0.0.
  host: '127.0.0.1',
  subscription: directorySubscription.name,
  firestoreDatabase: '(default)',
  maxOutstandingMessages: 100,
  maxOutstandingBytes: 10 * 1024 * 1024,
  maxDeliveryAttempts: directorySubscription.maxDeliveryAttempts,
  faultFailFirstDeliveryPercent: 0,
  logLevel: 'info',
} as const;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

// Pub/Sub resource names: 3 to 255 characters, starting with a letter, not starting with "goog".
const subscriptionNamePattern = /^(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
// Firestore database ids: "(default)", or 4 to 63 lower-case letters, digits and hyphens.
const databaseIdPattern = /^(\(default\)|[a-z][a-z0-9-]{2,61}[a-z0-9])$/;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates the settings, and throws one ConfigError that names every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const text = read(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, found "${text}"`);
      return fallback;
    }
    return value;
  };

  const projectId = read('GOOGLE_CLOUD_PROJECT') ?? '';
  if (projectId === '') problems.push('GOOGLE_CLOUD_PROJECT is missing; set it to the Google Cloud project id that holds the subscription');

  const subscription = read('SUBSCRIPTION') ?? defaults.subscription;
  if (!subscriptionNamePattern.test(subscription)) {
    problems.push(`SUBSCRIPTION must be a subscription name (not a path) of 3 to 255 letters, digits and - _ . ~ + %, starting with a letter, found "${subscription}"`);
  }

  const firestoreDatabase = read('FIRESTORE_DATABASE') ?? defaults.firestoreDatabase;
  if (!databaseIdPattern.test(firestoreDatabase)) {
    problems.push(`FIRESTORE_DATABASE must be "(default)" or a database id of 4 to 63 lower-case letters, digits and hyphens, found "${firestoreDatabase}"`);
  }

  const logLevel = read('LOG_LEVEL') ?? defaults.logLevel;
  if (!logLevels.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${logLevels.join(', ')}, found "${logLevel}"`);

  const faultFailFirstDeliveryPercent = integer('FAULT_FAIL_FIRST_DELIVERY_PERCENT', defaults.faultFailFirstDeliveryPercent, 0, 100);
  if (faultFailFirstDeliveryPercent > 0 && read('PUBSUB_EMULATOR_HOST') === undefined && read('FIRESTORE_EMULATOR_HOST') === undefined) {
    problems.push(
      `FAULT_FAIL_FIRST_DELIVERY_PERCENT=${faultFailFirstDeliveryPercent} injects failures for tests and is rejected outside the emulators; ` +
        'unset it, or set PUBSUB_EMULATOR_HOST or FIRESTORE_EMULATOR_HOST when testing',
    );
  }

  const config: WorkerConfig = {
    port: integer('PORT', defaults.port, 1, 65535),
    host: read('HOST') ?? defaults.host,
    projectId,
    subscription,
    firestoreDatabase,
    maxOutstandingMessages: integer('MAX_OUTSTANDING_MESSAGES', defaults.maxOutstandingMessages, 1, 100_000),
    maxOutstandingBytes: integer('MAX_OUTSTANDING_BYTES', defaults.maxOutstandingBytes, 1024, 1024 * 1024 * 1024),
    // Pub/Sub accepts 5 to 100 delivery attempts in a dead-letter policy.
    maxDeliveryAttempts: integer('MAX_DELIVERY_ATTEMPTS', defaults.maxDeliveryAttempts, 5, 100),
    faultFailFirstDeliveryPercent,
    logLevel,
  };
  if (problems.length > 0) throw new ConfigError(`Invalid pull worker configuration: ${problems.join('; ')}.`);
  return config;
}
