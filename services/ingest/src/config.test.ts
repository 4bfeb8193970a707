import { topology } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './config.ts';

const minimal = { GOOGLE_CLOUD_PROJECT: 'demo-project', SOURCES_FILE: 'config/local-sources.json' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    readConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('readConfig accepted the environment');
}

describe('readConfig', () => {
  it('applies the defaults', () => {
    expect(readConfig(minimal)).toEqual({
      port: 8080,
      host: '127.0.0.1',
      projectId: 'demo-project',
      topicName: topology().topic.name,
      firestoreDatabase: '(default)',
      publishTimeoutMillis: 8000,
      maxInflightPublishes: 8000,
      logLevel: 'info',
      sourcesFile: 'config/local-sources.json',
      audiences: [],
    });
  });

  it('reads every setting', () => {
    const config = readConfig({
      ...minimal,
      PORT: '9090',
      HOST: '0.0.0.0',
      TOPIC: 'hr-events-test',
      FIRESTORE_DATABASE: 'hr-status',
      PUBLISH_TIMEOUT_MS: '2500',
      MAX_INFLIGHT_PUBLISHES: '500',
      LOG_LEVEL: 'DEBUG',
      SOURCES_FILE: '/etc/hr-events/sources.json',
      INGEST_AUDIENCE: 'https://events.example.com, https://hr-events-ingest-123456789012.us-central1.run.app',
    });
    expect(config).toEqual({
      port: 9090,
      host: '0.0.0.0',
      projectId: 'demo-project',
      topicName: 'hr-events-test',
      firestoreDatabase: 'hr-status',
      publishTimeoutMillis: 2500,
      maxInflightPublishes: 500,
      logLevel: 'debug',
      sourcesFile: '/etc/hr-events/sources.json',
      audiences: ['https://events.example.com', 'https://hr-events-ingest-123456789012.us-central1.run.app'],
    });
  });

  it('treats blank values as unset', () => {
    expect(readConfig({ ...minimal, PORT: ' ', TOPIC: '' }).port).toBe(8080);
    expect(readConfig({ ...minimal, TOPIC: '' }).topicName).toBe(topology().topic.name);
  });

  it('missing project names the variable and the fix', () => {
    const [problem] = problemsOf({});
    expect(problem).toContain('GOOGLE_CLOUD_PROJECT is not set');
    expect(problem).toContain('set it to the Google Cloud project id');
  });

  it('invalid numbers name the value and the range', () => {
    const problems = problemsOf({ ...minimal, PORT: '80a', PUBLISH_TIMEOUT_MS: '0', MAX_INFLIGHT_PUBLISHES: '10' });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toBe('PORT must be a whole number from 0 to 65535 (a TCP port), found "80a"; set it in that range or unset it to use 8080.');
    expect(problems[1]).toContain('PUBLISH_TIMEOUT_MS must be a whole number from 1 to 60000 (milliseconds), found "0"');
    expect(problems[2]).toContain('MAX_INFLIGHT_PUBLISHES must be a whole number from 100 to 1000000 (messages), found "10"');
  });

  it('rejects names Pub/Sub and Firestore would reject', () => {
    const problems = problemsOf({ ...minimal, TOPIC: 'goog-events', FIRESTORE_DATABASE: 'HR', LOG_LEVEL: 'verbose' });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('TOPIC "goog-events" is not a Pub/Sub topic id');
    expect(problems[1]).toContain('FIRESTORE_DATABASE "HR" is not a Firestore database id');
    expect(problems[2]).toContain('LOG_LEVEL "verbose" is not a log level; use one of fatal, error, warn, info, debug, trace, silent.');
  });

  it('missing sources file names the variable and the fix', () => {
    const problems = problemsOf({ GOOGLE_CLOUD_PROJECT: 'demo-project' });
    expect(problems).toEqual([
      'SOURCES_FILE is not set; set it to the path of the sources file (config/local-sources.json for the local stack; docs/sources.md shows the format).',
    ]);
  });

  it('audience must be an absolute URL', () => {
    const problems = problemsOf({ ...minimal, INGEST_AUDIENCE: 'https://events.example.com,events.example.com' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('INGEST_AUDIENCE entry "events.example.com" is not an absolute http(s) URL');
  });

  it('reports every problem in one error message', () => {
    expect(() => readConfig({ PORT: '-1' })).toThrow(/GOOGLE_CLOUD_PROJECT is not set.* PORT must be/);
  });
});
