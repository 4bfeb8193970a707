import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './config.ts';

const base = { GOOGLE_CLOUD_PROJECT: 'hr-events-prod' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    readConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('readConfig', () => {
  it('applies the defaults', () => {
    expect(readConfig(base)).toEqual({
      port: 8080,
      host: '127.0.0.1',
      projectId: 'hr-events-prod',
      firestoreDatabase: '(default)',
      pushAudience: undefined,
      pushServiceAccount: undefined,
      pushAuthentication: 'enabled',
      maxDeliveryAttempts: 10,
      faultFailFirstDeliveryPercent: 0,
      faultSlowFirstDeliveryPercent: 0,
      faultSlowDeliveryMillis: 15_000,
      logLevel: 'info',
      pubsubEmulatorHost: undefined,
      firestoreEmulatorHost: undefined,
    });
  });

  it('reads every setting', () => {
    const config = readConfig({
      ...base,
      PORT: '9090',
      HOST: '0.0.0.0',
      FIRESTORE_DATABASE: 'hr',
      PUSH_AUDIENCE: 'https://onboarding.example.run.app/pubsub/push',
      PUSH_SERVICE_ACCOUNT: 'push@hr-events-prod.iam.gserviceaccount.com',
      MAX_DELIVERY_ATTEMPTS: '5',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 9090,
      host: '0.0.0.0',
      firestoreDatabase: 'hr',
      pushAudience: 'https://onboarding.example.run.app/pubsub/push',
      pushServiceAccount: 'push@hr-events-prod.iam.gserviceaccount.com',
      maxDeliveryAttempts: 5,
      logLevel: 'debug',
    });
  });

  it('requires the project id', () => {
    expect(problemsOf({})).toEqual([expect.stringContaining('GOOGLE_CLOUD_PROJECT is missing')]);
  });

  it('refuses disabled authentication without the emulator', () => {
    expect(problemsOf({ ...base, PUSH_AUTHENTICATION: 'disabled', FIRESTORE_EMULATOR_HOST: '127.0.0.1:8086' })).toEqual([
      expect.stringMatching(/^PUSH_AUTHENTICATION=disabled is only allowed with the Pub\/Sub emulator.*set PUBSUB_EMULATOR_HOST/),
    ]);
    expect(readConfig({ ...base, PUSH_AUTHENTICATION: 'disabled', PUBSUB_EMULATOR_HOST: '127.0.0.1:8085' }).pushAuthentication).toBe('disabled');
  });

  it('refuses fault injection without an emulator', () => {
    expect(problemsOf({ ...base, FAULT_FAIL_FIRST_DELIVERY_PERCENT: '20' })).toEqual([expect.stringContaining('only allowed against the emulators')]);
    expect(readConfig({ ...base, FAULT_FAIL_FIRST_DELIVERY_PERCENT: '20', FIRESTORE_EMULATOR_HOST: '127.0.0.1:8086' }).faultFailFirstDeliveryPercent).toBe(20);
  });

  it('refuses slow deliveries without an emulator', () => {
    expect(problemsOf({ ...base, FAULT_SLOW_FIRST_DELIVERY_PERCENT: '10' })).toEqual([
      expect.stringMatching(/^FAULT_SLOW_FIRST_DELIVERY_PERCENT=10 is only allowed against the emulators/),
    ]);
    expect(readConfig({ ...base, FAULT_SLOW_FIRST_DELIVERY_PERCENT: '10', FAULT_SLOW_DELIVERY_MS: '12000', PUBSUB_EMULATOR_HOST: '127.0.0.1:8085' })).toMatchObject({
      faultSlowFirstDeliveryPercent: 10,
      faultSlowDeliveryMillis: 12_000,
    });
  });

  it('lists every invalid value with its range', () => {
    const problems = problemsOf({
      ...base,
      PORT: '0',
      MAX_DELIVERY_ATTEMPTS: '200',
      FAULT_FAIL_FIRST_DELIVERY_PERCENT: '-1',
      FAULT_SLOW_DELIVERY_MS: '0',
      PUSH_AUTHENTICATION: 'off',
      LOG_LEVEL: 'loud',
      PUSH_SERVICE_ACCOUNT: 'push-invoker',
    });
    expect(problems).toEqual([
      expect.stringContaining('PUSH_AUTHENTICATION="off" is invalid'),
      expect.stringContaining('PUSH_SERVICE_ACCOUNT="push-invoker" is not a service account email'),
      expect.stringContaining('FAULT_FAIL_FIRST_DELIVERY_PERCENT="-1" is invalid; set it to a whole number from 0 to 100'),
      expect.stringContaining('FAULT_SLOW_DELIVERY_MS="0" is invalid; set it to a whole number from 1 to 120000'),
      expect.stringContaining('LOG_LEVEL="loud" is not a log level'),
      expect.stringContaining('PORT="0" is invalid; set it to a whole number from 1 to 65535'),
      expect.stringContaining('MAX_DELIVERY_ATTEMPTS="200" is invalid; set it to a whole number from 5 to 100'),
    ]);
  });
});
