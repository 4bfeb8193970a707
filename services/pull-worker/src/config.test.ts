import { describe, expect, it } from 'vitest';
import { topology } from '@hr-events/contract';
import { ConfigError, loadConfig } from './config.ts';

const minimal = { GOOGLE_CLOUD_PROJECT: 'demo-project' };

describe('loadConfig', () => {
  it('fills defaults around the project id', () => {
    const config = loadConfig(minimal);

    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      projectId: 'demo-project',
      subscription: topology().subscriptions.directory.name,
      firestoreDatabase: '(default)',
      maxOutstandingMessages: 100,
      maxOutstandingBytes: 10 * 1024 * 1024,
      maxDeliveryAttempts: topology().subscriptions.directory.maxDeliveryAttempts,
      faultFailFirstDeliveryPercent: 0,
      logLevel: 'info',
    });
  });

  it('reads every setting', () => {
    const config = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'demo-project',
      PORT: '9090',
      HOST: '0.0.0.0',
      SUBSCRIPTION: 'other-directory',
      FIRESTORE_DATABASE: 'hr-directory',
      MAX_OUTSTANDING_MESSAGES: '5',
      MAX_OUTSTANDING_BYTES: '65536',
      MAX_DELIVERY_ATTEMPTS: '7',
      FAULT_FAIL_FIRST_DELIVERY_PERCENT: '30',
      PUBSUB_EMULATOR_HOST: '127.0.0.1:8085',
      LOG_LEVEL: 'debug',
    });

    expect(config).toEqual({
      port: 9090,
      host: '0.0.0.0',
      projectId: 'demo-project',
      subscription: 'other-directory',
      firestoreDatabase: 'hr-directory',
      maxOutstandingMessages: 5,
      maxOutstandingBytes: 65536,
      maxDeliveryAttempts: 7,
      faultFailFirstDeliveryPercent: 30,
      logLevel: 'debug',
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ ...minimal, PORT: '', SUBSCRIPTION: ' ' }).port).toBe(8080);
  });

  it('missing project id is rejected', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/GOOGLE_CLOUD_PROJECT is missing/);
  });

  it('invalid numbers are rejected with the value', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['PORT', '80a', /PORT must be a whole number from 1 to 65535, found "80a"/],
      ['MAX_OUTSTANDING_MESSAGES', '0', /MAX_OUTSTANDING_MESSAGES must be a whole number from 1/],
      ['MAX_OUTSTANDING_BYTES', '-5', /MAX_OUTSTANDING_BYTES must be a whole number from 1024/],
      ['MAX_DELIVERY_ATTEMPTS', '4', /MAX_DELIVERY_ATTEMPTS must be a whole number from 5 to 100, found "4"/],
      ['FAULT_FAIL_FIRST_DELIVERY_PERCENT', '101', /FAULT_FAIL_FIRST_DELIVERY_PERCENT must be a whole number from 0 to 100/],
      ['FAULT_FAIL_FIRST_DELIVERY_PERCENT', '12.5', /found "12.5"/],
    ];
    for (const [name, value, message] of cases) {
      expect(() => loadConfig({ ...minimal, PUBSUB_EMULATOR_HOST: '127.0.0.1:1', [name]: value }), `${name}=${value}`).toThrow(message);
    }
  });

  it('invalid names and levels are rejected', () => {
    expect(() => loadConfig({ ...minimal, SUBSCRIPTION: 'projects/p/subscriptions/s' })).toThrow(/SUBSCRIPTION must be a subscription name \(not a path\)/);
    expect(() => loadConfig({ ...minimal, FIRESTORE_DATABASE: 'Bad_DB' })).toThrow(/FIRESTORE_DATABASE must be "\(default\)"/);
    expect(() => loadConfig({ ...minimal, LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL must be one of fatal, error/);
  });

  it('lists every problem at once', () => {
    const attempt = () => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' });

    expect(attempt).toThrow(/GOOGLE_CLOUD_PROJECT is missing.*LOG_LEVEL must be.*PORT must be/);
  });

  it('fault injection outside the emulators is rejected', () => {
    const attempt = () => loadConfig({ ...minimal, FAULT_FAIL_FIRST_DELIVERY_PERCENT: '10' });

    expect(attempt).toThrow(/FAULT_FAIL_FIRST_DELIVERY_PERCENT=10 injects failures for tests and is rejected outside the emulators/);
    expect(loadConfig({ ...minimal, FAULT_FAIL_FIRST_DELIVERY_PERCENT: '10', FIRESTORE_EMULATOR_HOST: '127.0.0.1:8080' }).faultFailFirstDeliveryPercent).toBe(10);
    expect(loadConfig({ ...minimal, FAULT_FAIL_FIRST_DELIVERY_PERCENT: '0' }).faultFailFirstDeliveryPercent).toBe(0);
  });
});
