import { pino, type Logger, type LoggerOptions } from 'pino';
import type { TraceContext } from './trace.ts';

// Structured JSON logs in the shape Cloud Logging reads from a container's stdout: `severity` with
// Cloud Logging's level names, `message`, and the trace fields that link a line to its trace.

const severityByLevel: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

export interface LoggerSettings {
  service: string;
  level?: string;
  /** Destination of the lines: standard output by default. Tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.LOG_LEVEL ?? 'info',
    messageKey: 'message',
    base: { service: settings.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ severity: severityByLevel[label] ?? 'DEFAULT' }),
    },
    // A safety net: event data contains personal data and is never logged, even by mistake.
    redact: { paths: ['data', 'event.data', 'record', '*.data', 'body'], censor: '[personal data removed]' },
  };
  return settings.destination === undefined ? pino(options) : pino(options, settings.destination);
}

/** Log fields that attach a line to its trace in Cloud Trace and Cloud Logging. */
export function traceLogFields(trace: TraceContext | undefined, projectId: string | undefined): Record<string, string> {
  if (trace === undefined) return {};
  return {
    'logging.googleapis.com/trace': projectId ? `projects/${projectId}/traces/${trace.traceId}` : trace.traceId,
    'logging.googleapis.com/spanId': trace.spanId,
  };
}
