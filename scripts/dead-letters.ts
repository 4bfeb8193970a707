import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { DataValidator, loadCatalog, parseSources, topology, type SourcesFile } from '@hr-events/contract';
import { describeDeadLetter, type CheckContext, type DeadLetterEntry } from './lib/dead-letter-check.ts';
import { DeadLetterQueue, type PulledDeadLetter } from './lib/dead-letter-queue.ts';

// `npm run dead-letters -- list | replay`: shows what is on the dead-letter subscription and puts
// chosen messages back on the HR topic after the cause is fixed. A replayed message passes the same
// checks as at the edge: the contract's schema, and the source policy of the principal that sent it
// through the ingest. Consumers deduplicate by (source, id), so replaying a message that a consumer
// has already processed has no second effect there.

const usage = `Usage:
  npm run dead-letters -- list [options]
  npm run dead-letters -- replay <message-id>... [options]
  npm run dead-letters -- replay --all [options]

Options:
  --sources <file>       sources file whose policies the messages are checked against (default: SOURCES_FILE)
  --project <id>         project of the topic and subscription (default: GOOGLE_CLOUD_PROJECT)
  --subscription <name>  dead-letter subscription (default: ${topology().subscriptions.deadLetter.name})
  --topic <name>         topic that replayed messages are published to (default: ${topology().topic.name})
  --all                  replay every message on the subscription
  --drop                 ack the chosen messages that fail a check, which deletes them
  --json                 print JSON instead of text

PUBSUB_EMULATOR_HOST aims the tool at the Pub/Sub emulator. For the local stack, \`npm start\`
prints the whole command line with its settings.`;

/** A wrong command line or setting: printed with the usage, exit code 2. */
class UsageError extends Error {}

interface ReplayReport {
  replayed: Array<DeadLetterEntry & { newMessageId: string }>;
  dropped: DeadLetterEntry[];
  leftInPlace: Array<DeadLetterEntry & { publishError?: string }>;
  notFound: string[];
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${usage}`);
    process.exitCode = 2;
  } else {
    console.error(`dead-letters failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    return 0;
  }
  const { values, positionals } = parseCommandLine(argv);
  const [command, ...messageIds] = positionals;
  if (command !== 'list' && command !== 'replay') throw new UsageError(`Unknown command ${JSON.stringify(command ?? '')}; use list or replay.`);
  if (command === 'list' && (messageIds.length > 0 || values.all || values.drop)) throw new UsageError('list takes no message ids, --all or --drop.');
  if (command === 'replay' && messageIds.length === 0 && !values.all) throw new UsageError('replay needs message ids or --all.');
  if (command === 'replay' && messageIds.length > 0 && values.all) throw new UsageError('replay takes message ids or --all, not both.');

  const projectId = values.project ?? process.env.GOOGLE_CLOUD_PROJECT;
  if (projectId === undefined || projectId === '') throw new UsageError('No project: set GOOGLE_CLOUD_PROJECT or pass --project.');
  const context = loadCheckContext(values.sources ?? process.env.SOURCES_FILE);
  const names = topology();
  const pubsub = new PubSub({ projectId });
  const queue = new DeadLetterQueue({
    pubsub,
    projectId,
    subscriptionName: values.subscription ?? names.subscriptions.deadLetter.name,
    topicName: values.topic ?? names.topic.name,
  });

  try {
    const messages = await queue.pullAll();
    if (command === 'list') {
      await queue.release(messages);
      const entries = messages.map((message) => describeDeadLetter(message, context));
      console.log(values.json ? JSON.stringify(entries, null, 2) : formatList(entries));
      return 0;
    }
    const report = await replay(queue, messages, context, { all: values.all === true, messageIds, drop: values.drop === true });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    return report.leftInPlace.length === 0 && report.notFound.length === 0 ? 0 : 1;
  } finally {
    await queue.close();
    await pubsub.close();
  }
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        sources: { type: 'string' },
        project: { type: 'string' },
        subscription: { type: 'string' },
        topic: { type: 'string' },
        all: { type: 'boolean' },
        drop: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function loadCheckContext(sourcesFile: string | undefined): CheckContext {
  if (sourcesFile === undefined || sourcesFile === '') {
    throw new UsageError('No sources file: pass --sources <file> or set SOURCES_FILE to the sources file the ingest uses, so that messages are checked against the same policies.');
  }
  const catalog = loadCatalog();
  let sources: SourcesFile;
  try {
    sources = parseSources(JSON.parse(readFileSync(sourcesFile, 'utf8')), { origin: sourcesFile, knownTypes: [...catalog.types.keys()] });
  } catch (error) {
    throw new UsageError(`Cannot use the sources file ${sourcesFile}: ${(error as Error).message}`);
  }
  return { catalog, validator: new DataValidator(catalog), sources };
}

interface ReplayChoice {
  all: boolean;
  messageIds: string[];
  drop: boolean;
}

/**
 * Republishes each chosen message that passes the checks, then acks it on the dead-letter
 * subscription once Pub/Sub has confirmed the publish. A chosen message that fails a check is acked
 * only with `drop`. Every other message is released, so it stays on the subscription.
 */
async function replay(queue: DeadLetterQueue, messages: PulledDeadLetter[], context: CheckContext, choice: ReplayChoice): Promise<ReplayReport> {
  const wanted = new Set(choice.messageIds);
  const chosen = choice.all ? messages : messages.filter((message) => wanted.has(message.messageId));
  const report: ReplayReport = {
    replayed: [],
    dropped: [],
    leftInPlace: [],
    notFound: choice.messageIds.filter((id) => !messages.some((message) => message.messageId === id)),
  };
  // Publishes are started in the order the messages were dead-lettered, and the client keeps that
  // order within each ordering key (the person id). The report keeps that order too.
  const results = await Promise.all(chosen.map((message) => replayOne(queue, message, context, choice.drop)));
  for (const result of results) {
    if (result.kind === 'replayed') report.replayed.push({ ...result.entry, newMessageId: result.newMessageId });
    else if (result.kind === 'dropped') report.dropped.push(result.entry);
    else report.leftInPlace.push(result.publishError === undefined ? result.entry : { ...result.entry, publishError: result.publishError });
  }
  const toAck = chosen.filter((_, index) => results[index]!.kind !== 'left');

  await queue.ack(toAck);
  await queue.release(messages.filter((message) => !toAck.includes(message)));
  return report;
}

type ReplayResult =
  | { kind: 'replayed'; entry: DeadLetterEntry; newMessageId: string }
  | { kind: 'dropped'; entry: DeadLetterEntry }
  | { kind: 'left'; entry: DeadLetterEntry; publishError?: string };

/** Checks one message and republishes it when it passes; a message that fails a check is dropped only with `drop`. */
async function replayOne(queue: DeadLetterQueue, message: PulledDeadLetter, context: CheckContext, drop: boolean): Promise<ReplayResult> {
  const entry = describeDeadLetter(message, context);
  if (entry.problem !== undefined) return drop ? { kind: 'dropped', entry } : { kind: 'left', entry };
  try {
    return { kind: 'replayed', entry, newMessageId: await queue.republish(message) };
  } catch (error) {
    return { kind: 'left', entry, publishError: (error as Error).message };
  }
}

function formatList(entries: DeadLetterEntry[]): string {
  if (entries.length === 0) return 'The dead-letter subscription holds no messages.';
  const header = ['MESSAGE ID', 'EVENT ID', 'SOURCE', 'TYPE', 'FROM SUBSCRIPTION', 'ATTEMPTS', 'REASON'];
  const rows = entries.map((entry) => [
    entry.messageId,
    entry.eventId ?? '-',
    entry.source ?? '-',
    entry.type ?? '-',
    entry.sourceSubscription ?? '-',
    entry.deliveryAttempts === undefined ? '-' : String(entry.deliveryAttempts),
    describeProblem(entry),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ');
  const replayable = entries.filter((entry) => entry.problem === undefined).length;
  return [line(header), ...rows.map(line), '', `${entries.length} message(s), ${replayable} replayable.`].join('\n');
}

function describeProblem(entry: DeadLetterEntry): string {
  if (entry.problem === undefined) return 'replayable: passes the contract and the source policy now';
  return `${entry.problem.kind} ${entry.problem.reason}: ${entry.problem.detail}`;
}

function formatReport(report: ReplayReport): string {
  const describe = (entry: DeadLetterEntry) => `${entry.messageId} (event ${entry.eventId ?? '-'} from ${entry.source ?? '-'})`;
  const lines = [`Replayed ${report.replayed.length} message(s).`];
  for (const entry of report.replayed) lines.push(`  ${describe(entry)} published again as message ${entry.newMessageId}`);
  if (report.leftInPlace.length > 0) {
    lines.push(`Left on the dead-letter subscription: ${report.leftInPlace.length}; fix them, or pass --drop to delete them.`);
    for (const entry of report.leftInPlace) lines.push(`  ${describe(entry)}: ${entry.publishError === undefined ? describeProblem(entry) : `publish failed: ${entry.publishError}`}`);
  }
  if (report.dropped.length > 0) {
    lines.push(`Dropped: ${report.dropped.length}.`);
    for (const entry of report.dropped) lines.push(`  ${describe(entry)}: ${describeProblem(entry)}`);
  }
  if (report.notFound.length > 0) lines.push(`Not found on the dead-letter subscription: ${report.notFound.join(', ')}.`);
  return lines.join('\n');
}
