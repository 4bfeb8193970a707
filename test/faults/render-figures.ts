import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ScenarioFigures } from './support/reconcile.ts';

// `node test/faults/render-figures.ts`: writes the figures of the last fault run
// (test/faults/results/*.json) and the rows of the ingest's hostile-input table into
// RELIABILITY.md, between the marker comments there. Run it after `npx vitest run --project faults`.

const reliabilityPage = 'RELIABILITY.md';
const resultsDirectory = 'test/faults/results';
const hostileInputTest = 'services/ingest/test/hostile-input.test.ts';

/** The scenarios in the order the page describes them. */
const scenarioOrder = [
  'pull-worker-sigkill',
  'firestore-outage',
  'pubsub-outage',
  'ingest-sigterm',
  'pull-worker-sigterm',
  'slow-push',
  'dead-letters',
  'pull-workers-share',
];

function main(): void {
  let page = readFileSync(reliabilityPage, 'utf8');
  page = replaceBetween(page, 'figures', renderFigures(readResults()));
  page = replaceBetween(page, 'hostile', renderHostileInput());
  writeFileSync(reliabilityPage, page);
  console.log(`Updated the figures in ${reliabilityPage}.`);
}

function readResults(): ScenarioFigures[] {
  return scenarioOrder.map((scenario) => {
    const path = `${resultsDirectory}/${scenario}.json`;
    if (!existsSync(path)) throw new Error(`${path} is missing; run npx vitest run --project faults first.`);
    return JSON.parse(readFileSync(path, 'utf8')) as ScenarioFigures;
  });
}

function renderFigures(results: ScenarioFigures[]): string {
  const header = [
    '| Scenario | Sent | 202 | 4xx | 503 | No response | Recorded by onboarding | Recorded by directory | Of those, without a 202 | Dead-lettered (of 202s) | Duplicates seen (onboarding / directory) | Problems | Seconds |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const rows = results.map((figures) =>
    [
      `\`${figures.scenario}\``,
      figures.sent,
      figures.accepted,
      figures.rejected,
      figures.unavailable,
      figures.unanswered,
      figures.onboarding.recorded,
      figures.directory.recorded,
      `${figures.onboarding.recordedWithout202} / ${figures.directory.recordedWithout202}`,
      `${figures.deadLettered} (${figures.deadLetteredAccepted})`,
      `${figures.onboarding.duplicates} / ${figures.directory.duplicates}`,
      figures.problems.length,
      figures.durationSeconds,
    ].join(' | '),
  );
  const details = results.map((figures) => {
    const extra = Object.entries(figures.extra).map(([name, value]) => `${name} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
    const unconfirmed = `effects of unconfirmed attempts ${figures.effectsOfUnconfirmedAttempts}, effects whose log line died with a SIGKILL ${figures.effectsWithoutLogLineBeforeKill}`;
    return `- \`${figures.scenario}\` (${figures.ranAt.slice(0, 16).replace('T', ' ')} UTC): ${figures.title}. ${[...extra, unconfirmed].join('; ')}.`;
  });
  return [...header, ...rows.map((row) => `| ${row} |`), '', ...details].join('\n');
}

interface HostileRow {
  section: string;
  status: number;
}

/** Reads the rows of the hostile-input table from its source: each row's section comment and expected status. */
function readHostileRows(): HostileRow[] {
  const source = readFileSync(hostileInputTest, 'utf8');
  const start = source.indexOf('const cases: HostileCase[] = [');
  const end = source.indexOf('\n];', start);
  if (start < 0 || end < 0) throw new Error(`${hostileInputTest} has no "const cases: HostileCase[] = [" table; update render-figures.ts to its new shape.`);
  const rows: HostileRow[] = [];
  let section = '';
  for (const [, comment, status] of source.slice(start, end).matchAll(/^ {2}\/\/ (.+?)\.?$|\bstatus: (\d{3})\b/gm)) {
    if (comment !== undefined) section = comment;
    else rows.push({ section, status: Number(status) });
  }
  return rows;
}

function renderHostileInput(): string {
  const rows = readHostileRows();
  const sections = [...new Set(rows.map((row) => row.section))];
  const lines = ['| Kind of request | Rows | Statuses expected |', '|---|---:|---|'];
  for (const section of sections) {
    const ofSection = rows.filter((row) => row.section === section);
    const statuses = [...new Set(ofSection.map((row) => row.status))].sort().map((status) => `${status} × ${ofSection.filter((row) => row.status === status).length}`);
    lines.push(`| ${section} | ${ofSection.length} | ${statuses.join(', ')} |`);
  }
  lines.push(`| **All** | **${rows.length}** | none accepted, nothing published |`);
  return lines.join('\n');
}

function replaceBetween(page: string, marker: string, content: string): string {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const from = page.indexOf(start);
  const to = page.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${reliabilityPage} lacks the markers ${start} and ${end}.`);
  return `${page.slice(0, from + start.length)}\n${content}\n${page.slice(to)}`;
}

main();
