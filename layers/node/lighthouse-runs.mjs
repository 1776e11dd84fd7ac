// How the persistent worker runs Lighthouse without paying Lighthouse's own start-up on each scan.
//
// lighthouse(url, flags, config) does two things on every call before it starts measuring:
// it opens a new DevTools connection to Chrome, and it resolves and validates the whole
// configuration, which formats every audit's strings and costs about half a second of CPU
// (a second on a busy machine), outside the time Lighthouse reports for its run. A worker
// that keeps running need not make a scan wait for either: it keeps one connection, and
// once a run's result is out it resolves the configuration for the next run of the same
// kind, while nothing waits. (Not during a run: the validation holds Node's event loop for
// a few hundred milliseconds, which would stretch the run Lighthouse is timing.) A run
// asked for before that work is done waits for the rest of it.
//
// Nothing about what Lighthouse measures changes. Every run still gets a configuration of
// its own (gatherers keep state during a run), resolved by Lighthouse's initializeConfig
// from the same config and flags lighthouse() would use; the gathering and auditing are
// Lighthouse's own functions, called in the order its navigation() calls them, in a fresh
// tab opened and closed inside the gather phase as Lighthouse does. Those functions come
// from Lighthouse's modules, pinned in package-lock.json; if a version lacks them, runs
// fall back to plain lighthouse().

import log from 'lighthouse-logger';
import lighthouse, {desktopConfig} from 'lighthouse';
import puppeteer from 'puppeteer-core';

export const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];

// What a run gathers. A 'full' run is Lighthouse's whole run of the four categories. A
// 'performance' run is a repeated run of a scan with several: only the performance category
// (the one that varies between runs and picks the median), without the full-page screenshot,
// without the back/forward-cache check (a weight-0 diagnostic of the performance category:
// whether the page may be restored from that cache, which navigates away and back after the
// measured load) and without an HTML report; the scan takes what it skipped from its full run.
const SCOPES = {
  full: {onlyCategories: CATEGORIES, skipAudits: null, disableFullPageScreenshot: false, output: ['json', 'html']},
  performance: {
    onlyCategories: ['performance'],
    skipAudits: ['bf-cache'],
    disableFullPageScreenshot: true,
    output: ['json'],
  },
};

export function scopeOf(job) {
  const scope = job.scope ?? 'full';
  if (!Object.hasOwn(SCOPES, scope)) throw new Error(`unknown run scope ${JSON.stringify(scope)}`);
  return scope;
}

async function loadLighthouseInternals() {
  try {
    const [config, navigation, baseArtifacts, driver, runner, urlUtils] = await Promise.all([
      import('lighthouse/core/config/config.js'),
      import('lighthouse/core/gather/navigation-runner.js'),
      import('lighthouse/core/gather/base-artifacts.js'),
      import('lighthouse/core/gather/driver.js'),
      import('lighthouse/core/runner.js'),
      import('lighthouse/core/lib/url-utils.js'),
    ]);
    const internals = {
      initializeConfig: config.initializeConfig,
      setup: navigation._setup,
      navigate: navigation._navigation,
      cleanup: navigation._cleanup,
      finalizeArtifacts: baseArtifacts.finalizeArtifacts,
      Driver: driver.Driver,
      Runner: runner.Runner,
      normalizeUrl: urlUtils.default?.normalizeUrl?.bind(urlUtils.default),
    };
    const usable =
      Object.values(internals).every((part) => typeof part === 'function') &&
      typeof internals.Runner.gather === 'function' &&
      typeof internals.Runner.audit === 'function';
    return usable ? internals : null;
  } catch (error) {
    console.error('lighthouse-runs: Lighthouse internals unavailable, using lighthouse():', error?.message);
    return null;
  }
}

function lighthouseFlags(job, port) {
  const {onlyCategories, skipAudits, disableFullPageScreenshot, output} = SCOPES[scopeOf(job)];
  return {
    port,
    output,
    logLevel: 'error',
    onlyCategories,
    skipAudits,
    disableFullPageScreenshot,
    maxWaitForLoad: job.maxWaitForLoadMs,
  };
}

// The default config is Lighthouse's mobile profile; desktop has its own.
function lighthouseConfig(job) {
  return job.device === 'desktop' ? desktopConfig : undefined;
}

function runKind(job) {
  return `${job.device}:${job.maxWaitForLoadMs}:${scopeOf(job)}`;
}

async function closeTab(page) {
  if (page && !page.isClosed()) await page.close().catch(() => {});
}

export class LighthouseRuns {
  /** @param {number} port Chrome's DevTools port */
  static async connect(port) {
    const internals = await loadLighthouseInternals();
    const browser = internals
      ? await puppeteer.connect({browserURL: `http://127.0.0.1:${port}`, defaultViewport: null})
      : null;
    log.setLevel('error');
    return new LighthouseRuns(port, internals, browser);
  }

  constructor(port, internals, browser) {
    this._port = port;
    this._internals = internals;
    this._browser = browser;
    /** @type {Map<string, Promise<object>>} run kind -> its next run's resolved config */
    this._prepared = new Map();
  }

  /**
   * One Lighthouse run: {lhr, report} as lighthouse() returns them, and whether its
   * configuration was already being resolved before the run was asked for.
   */
  async run(job) {
    if (!this._internals) {
      const result = await lighthouse(job.url, lighthouseFlags(job, this._port), lighthouseConfig(job));
      return result && {lhr: result.lhr, report: result.report, configPrepared: false};
    }
    const {resolvedConfig, prepared} = await this._configFor(job);
    const result = await this._runPrepared(job, resolvedConfig);
    return result && {lhr: result.lhr, report: result.report, configPrepared: prepared};
  }

  /**
   * Resolve the configuration of the next run like `job` now. Called once a result is out,
   * so that the work happens while nothing waits for it.
   */
  prepare(job) {
    if (!this._internals) return;
    const key = runKind(job);
    if (this._prepared.has(key)) return;
    const resolving = this._resolveConfig(job);
    // A failure shows again, and is reported, when a run resolves its config itself.
    resolving.catch(() => {});
    this._prepared.set(key, resolving);
  }

  async _configFor(job) {
    const key = runKind(job);
    const prepared = this._prepared.get(key);
    this._prepared.delete(key);
    if (prepared) {
      try {
        return {resolvedConfig: await prepared, prepared: true};
      } catch {
        // Resolved again below, so a real problem surfaces as this run's error.
      }
    }
    return {resolvedConfig: await this._resolveConfig(job), prepared: false};
  }

  async _resolveConfig(job) {
    const {resolvedConfig} = await this._internals.initializeConfig(
      'navigation',
      lighthouseConfig(job),
      lighthouseFlags(job, this._port)
    );
    return resolvedConfig;
  }

  // Lighthouse's navigation(): gather (in a fresh tab, as its own connection would open),
  // then audit, with the configuration resolved beforehand.
  async _runPrepared(job, resolvedConfig) {
    const {Runner, Driver, setup, navigate, cleanup, finalizeArtifacts, normalizeUrl} = this._internals;
    const runnerOptions = {resolvedConfig, computedCache: new Map()};
    let page;
    try {
      const artifacts = await Runner.gather(async () => {
        const requestor = normalizeUrl(job.url);
        page = await this._browser.newPage();
        const context = {
          driver: new Driver(page),
          page,
          resolvedConfig,
          requestor,
          computedCache: runnerOptions.computedCache,
        };
        const {baseArtifacts} = await setup(context);
        const gathered = await navigate({...context, baseArtifacts});
        await cleanup(context);
        await closeTab(page);
        return finalizeArtifacts(baseArtifacts, gathered);
      }, runnerOptions);
      return await Runner.audit(artifacts, runnerOptions);
    } finally {
      await closeTab(page);
    }
  }
}
