// A persistent Lighthouse worker: one Node process and one Chrome, many runs.
//
// Starting Node, loading Lighthouse and launching Chrome costs seconds; a scan worker that
// did it for every scan would spend most of its time starting up. This process starts
// once, keeps its Chrome, and takes one job at a time from its parent over a pipe.
//
// Protocol (newline-delimited JSON; stdout carries nothing else):
//   worker -> parent  {"type":"ready","chromePid":N,"lighthouseVersion":"..."}
//                   | {"type":"fatal","message":"..."} (then it exits)
//   parent -> worker  {"type":"run","id":"...","url":"...","device":"mobile"|"desktop",
//                      "outDir":"/dir","maxWaitForLoadMs":N,
//                      "scope":"full"|"performance","nextScope":"full"|"performance"}
//                   | {"type":"render","id":"...","jsonPath":"...","outDir":"/dir"}
//   worker -> parent  {"type":"accepted","id":"..."}
//   worker -> parent  {"type":"result","id":"...","ok":true,"jsonPath":"...","htmlPath":"..."|null,
//                      "configPrepared":true|false,"summary":{...}}
//                   | {"type":"result","id":"...","ok":false,"error":{"code":...,"message":...}}
// The reports are megabytes, so they go to files in outDir rather than into the pipe.
// A run's scope (lighthouse-runs.mjs) says what it gathers; a 'performance' run writes no
// HTML report. A render job writes the HTML report of a Lighthouse JSON report (a scan's
// combined report, docs/audit.md) as htmlPath.
// Once a result is out, the worker resolves the configuration for the next run of the same
// device and of the scope nextScope (default: the run's own), so that a scan does not wait
// for it; configPrepared says whether a run found that work started before it was asked for.
//
// Configuration comes from the environment variable SCOUT_LIGHTHOUSE_WORKER_CONFIG:
//   {"chromePath": "/usr/bin/chromium", "chromeFlags": ["--headless", ...]}
// The worker exits when its stdin closes (the parent went away) or when its Chrome dies,
// and kills its Chrome on the way out: chrome-launcher starts Chrome in its own process
// group, so it would otherwise outlive us.

import {constants as fsConstants} from 'node:fs';
import {access, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {createInterface} from 'node:readline';

import * as chromeLauncher from 'chrome-launcher';
import {ReportGenerator} from 'lighthouse/report/generator/report-generator.js';

import {CATEGORIES, LighthouseRuns} from './lighthouse-runs.mjs';

// Lighthouse and its dependencies log with console.*; stdout belongs to the protocol.
for (const name of ['log', 'info', 'warn', 'debug']) console[name] = console.error;

const METRICS = [
  'first-contentful-paint',
  'largest-contentful-paint',
  'total-blocking-time',
  'cumulative-layout-shift',
  'speed-index',
  'interactive',
];

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function readConfig() {
  const raw = process.env.SCOUT_LIGHTHOUSE_WORKER_CONFIG;
  if (!raw) throw new Error('SCOUT_LIGHTHOUSE_WORKER_CONFIG is not set');
  const config = JSON.parse(raw);
  if (typeof config.chromePath !== 'string' || !Array.isArray(config.chromeFlags)) {
    throw new Error('SCOUT_LIGHTHOUSE_WORKER_CONFIG needs chromePath and chromeFlags');
  }
  return config;
}

function summarize(lhr) {
  const scores = {};
  for (const id of CATEGORIES) scores[id] = lhr.categories[id]?.score ?? null;
  const metrics = {};
  for (const id of METRICS) metrics[id] = lhr.audits[id]?.numericValue ?? null;
  return {
    lighthouseVersion: lhr.lighthouseVersion,
    requestedUrl: lhr.requestedUrl ?? null,
    mainDocumentUrl: lhr.mainDocumentUrl ?? null,
    finalDisplayedUrl: lhr.finalDisplayedUrl ?? null,
    fetchTime: lhr.fetchTime ?? null,
    scores,
    metrics,
    timing: {total: lhr.timing?.total ?? null},
    runtimeError: lhr.runtimeError ? {code: lhr.runtimeError.code, message: lhr.runtimeError.message} : null,
    runWarnings: lhr.runWarnings ?? [],
    networkUserAgent: lhr.environment?.networkUserAgent ?? null,
    benchmarkIndex: lhr.environment?.benchmarkIndex ?? null,
  };
}

function describeError(error) {
  return {
    code: error?.code ?? error?.name ?? 'ERROR',
    message: String(error?.friendlyMessage ?? error?.message ?? error),
  };
}

async function runJob(runs, job) {
  const result = await runs.run(job);
  if (!result) throw new Error('Lighthouse returned no result');
  const [json, html] = Array.isArray(result.report) ? result.report : [result.report];
  const jsonPath = path.join(job.outDir, 'lighthouse.json');
  const htmlPath = html === undefined ? null : path.join(job.outDir, 'lighthouse.html');
  await Promise.all([writeFile(jsonPath, json), htmlPath && writeFile(htmlPath, html)]);
  return {jsonPath, htmlPath, configPrepared: result.configPrepared, summary: summarize(result.lhr)};
}

async function renderJob(job) {
  const lhr = JSON.parse(await readFile(job.jsonPath, 'utf8'));
  const htmlPath = path.join(job.outDir, 'lighthouse.html');
  await writeFile(htmlPath, ReportGenerator.generateReportHtml(lhr));
  return {jsonPath: job.jsonPath, htmlPath, summary: summarize(lhr)};
}

async function main() {
  const config = readConfig();
  // chrome-launcher reports a missing browser as an unhandled 'error' event, not a rejection.
  await access(config.chromePath, fsConstants.X_OK).catch(() => {
    throw new Error(`no executable browser at ${config.chromePath}`);
  });
  const chrome = await chromeLauncher.launch({
    chromePath: config.chromePath,
    chromeFlags: config.chromeFlags,
    handleSIGINT: false,
    logLevel: 'error',
  });
  let stopping = false;
  const stop = (code) => {
    if (stopping) return;
    stopping = true;
    try {
      chrome.kill();
    } finally {
      process.exit(code);
    }
  };
  chrome.process.on('exit', () => {
    if (stopping) return;
    console.error('lighthouse-worker: Chrome exited; stopping so the parent starts a fresh worker');
    // Give a run that is failing because of this a moment to report before we go.
    setTimeout(() => stop(3), 200);
  });
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  const runs = await LighthouseRuns.connect(chrome.port);

  const {default: lighthousePackage} = await import('lighthouse/package.json', {with: {type: 'json'}});
  send({type: 'ready', chromePid: chrome.pid, lighthouseVersion: lighthousePackage.version});

  // Jobs run strictly one after another, even if the parent writes ahead.
  let queue = Promise.resolve();
  const lines = createInterface({input: process.stdin, crlfDelay: Infinity});
  lines.on('line', (line) => {
    if (!line.trim()) return;
    queue = queue.then(async () => {
      let job;
      try {
        job = JSON.parse(line);
      } catch (error) {
        send({type: 'result', id: null, ok: false, error: {code: 'BAD_JOB', message: String(error)}});
        return;
      }
      if (job.type !== 'run' && job.type !== 'render') {
        send({type: 'result', id: job.id ?? null, ok: false, error: {code: 'BAD_JOB', message: 'unknown type'}});
        return;
      }
      // Tells the parent this worker was alive to take the job: end of input before this
      // means the job was never started and may be given to a fresh worker.
      send({type: 'accepted', id: job.id});
      try {
        const done = job.type === 'render' ? await renderJob(job) : await runJob(runs, job);
        send({type: 'result', id: job.id, ok: true, ...done});
      } catch (error) {
        send({type: 'result', id: job.id, ok: false, error: describeError(error)});
        return;
      }
      if (job.type !== 'run') return;
      try {
        runs.prepare({...job, scope: job.nextScope ?? job.scope});
      } catch (error) {
        // A next scope this worker does not know: the next run resolves its own config.
        console.error('lighthouse-worker: not preparing the next run:', error?.message);
      }
    });
  });
  lines.on('close', () => {
    queue.finally(() => stop(0));
  });
}

function fail(error) {
  console.error('lighthouse-worker: could not start:', error?.stack ?? error);
  send({type: 'fatal', message: `could not start: ${error?.message ?? error}`});
  process.exit(2);
}

main().catch(fail);
