import { topology } from '@hr-events/contract';

// Settings of the push consumer, read once from the environment at start. Every problem is
// collected and reported together, each naming the variable, the value found and the fix.

export type PushAuthenticationMode = 'enabled' | 'disabled';

export interface PushConsumerConfig {
  port: number;
  host: string;
  projectId: string;
  firestoreDatabase: string;
  /** Expected `aud` of the push request's OIDC token. */
  pushAudience: string | undefined;
  /** Expected `email` of the push request's OIDC token: the subscription's push service account. */
  pushServiceAccount: string | undefined;
  pushAuthentication: PushAuthenticationMode;
  /** The subscription's max delivery attempts, to log when a failing message is being dead-lettered. */
  maxDeliveryAttempts: number;
  faultFailFirstDeliveryPercent: number;
  /** Share (0 to 100) of messages whose first delivery waits `faultSlowDeliveryMillis` before its write. */
  faultSlowFirstDeliveryPercent: number;
  faultSlowDeliveryMillis: number;
  logLevel: string;
  pubsubEmulatorHost: string | undefined;
  firestoreEmulatorHost: string | undefined;
}

export const defaults = {
  port: 8080,
  host: '127.0.0.1',
  firestoreDatabase: '(default)',
  pushAuthentication: 'enabled',
  maxDeliveryAttempts: topology().subscriptions.onboarding.maxDeliveryAttempts,
  faultFailFirstDeliveryPercent: 0,
  faultSlowFirstDeliveryPercent: 0,
  // Longer than the shortest ack deadline Pub/Sub accepts (10 s), and shorter than the commit timeout.
  faultSlowDeliveryMillis: 15_000,
  logLevel: 'info',
} as const;

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const emailPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid push consumer settings:\n- ${problems.join('\n- ')}`);
    this.problems = problems;
  }
}

/** Reads and validates the settings; throws ConfigError listing every problem found. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): PushConsumerConfig {
  const problems: string[] = [];
  const value = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const pubsubEmulatorHost = value('PUBSUB_EMULATOR_HOST');
  const firestoreEmulatorHost = value('FIRESTORE_EMULATOR_HOST');

  const projectId = value('GOOGLE_CLOUD_PROJECT');
  if (projectId === undefined) {
    problems.push('GOOGLE_CLOUD_PROJECT is missing; set it to the Google Cloud project id that holds the Firestore database');
  }

  const pushAuthentication = readAuthenticationMode(value('PUSH_AUTHENTICATION'), pubsubEmulatorHost, problems);
  const pushServiceAccount = value('PUSH_SERVICE_ACCOUNT');
  if (pushServiceAccount !== undefined && !emailPattern.test(pushServiceAccount)) {
    problems.push(
      `PUSH_SERVICE_ACCOUNT="${pushServiceAccount}" is not a service account email; set it to the push subscription's service account, such as push-invoker@my-project.iam.gserviceaccount.com`,
    );
  }

  const faultFailFirstDeliveryPercent = readInteger(env, 'FAULT_FAIL_FIRST_DELIVERY_PERCENT', defaults.faultFailFirstDeliveryPercent, 0, 100, problems);
  const faultSlowFirstDeliveryPercent = readInteger(env, 'FAULT_SLOW_FIRST_DELIVERY_PERCENT', defaults.faultSlowFirstDeliveryPercent, 0, 100, problems);
  const faultSlowDeliveryMillis = readInteger(env, 'FAULT_SLOW_DELIVERY_MS', defaults.faultSlowDeliveryMillis, 1, 120_000, problems);
  const isEmulated = pubsubEmulatorHost !== undefined || firestoreEmulatorHost !== undefined;
  for (const [name, value, effect] of [
    ['FAULT_FAIL_FIRST_DELIVERY_PERCENT', faultFailFirstDeliveryPercent, 'fail deliveries'],
    ['FAULT_SLOW_FIRST_DELIVERY_PERCENT', faultSlowFirstDeliveryPercent, 'delay deliveries'],
  ] as const) {
    if (value > 0 && !isEmulated) {
      problems.push(
        `${name}=${value} is only allowed against the emulators, because it makes the service ${effect} on purpose; ` +
          'unset it, or set PUBSUB_EMULATOR_HOST or FIRESTORE_EMULATOR_HOST',
      );
    }
  }

  const logLevel = value('LOG_LEVEL') ?? defaults.logLevel;
  if (!logLevels.includes(logLevel)) {
    problems.push(`LOG_LEVEL="${logLevel}" is not a log level; use one of ${logLevels.join(', ')}`);
  }

  const config: PushConsumerConfig = {
    port: readInteger(env, 'PORT', defaults.port, 1, 65535, problems),
    host: value('HOST') ?? defaults.host,
    projectId: projectId ?? '',
    firestoreDatabase: value('FIRESTORE_DATABASE') ?? defaults.firestoreDatabase,
    pushAudience: value('PUSH_AUDIENCE'),
    pushServiceAccount,
    pushAuthentication,
    maxDeliveryAttempts: readInteger(env, 'MAX_DELIVERY_ATTEMPTS', defaults.maxDeliveryAttempts, 5, 100, problems),
    faultFailFirstDeliveryPercent,
    faultSlowFirstDeliveryPercent,
    faultSlowDeliveryMillis,
    logLevel,
    pubsubEmulatorHost,
    firestoreEmulatorHost,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readAuthenticationMode(raw: string | undefined, pubsubEmulatorHost: string | undefined, problems: string[]): PushAuthenticationMode {
  const mode = raw ?? defaults.pushAuthentication;
  if (mode !== 'enabled' && mode !== 'disabled') {
    problems.push(`PUSH_AUTHENTICATION="${mode}" is invalid; use "enabled" (the default) or "disabled"`);
    return 'enabled';
  }
  // Only the emulator pushes without a token; anywhere else, turning verification off would let
  // anyone who can reach the endpoint write onboarding records.
  if (mode === 'disabled' && pubsubEmulatorHost === undefined) {
    problems.push(
      'PUSH_AUTHENTICATION=disabled is only allowed with the Pub/Sub emulator, because without it anyone who reaches the push endpoint could inject events; ' +
        'set PUBSUB_EMULATOR_HOST, or remove PUSH_AUTHENTICATION and set PUSH_AUDIENCE and PUSH_SERVICE_ACCOUNT',
    );
  }
  return mode;
}

function readInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const parsed = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    problems.push(`${name}="${raw}" is invalid; set it to a whole number from ${min} to ${max}, or unset it to use ${fallback}`);
    return fallback;
  }
  return parsed;
}
