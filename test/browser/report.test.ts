/**
 * The run report of `cvm up` in a real browser: Debian's chromium driven by playwright-core opens
 * `/report` of a `cvm up` started here (fresh CVM_HOME, the bundled sample) and checks that every chart
 * is drawn — an SVG with a size and data marks with a size — that the page loads nothing from
 * elsewhere, and saves a full-page screenshot to test/artifacts/report.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRecordSchema } from '../../functions/api/schemas.ts';
import { REPORT_CHARTS } from '../../shared/adapters/report/render-report.ts';
import type { RunRecord } from '../../shared/domain/run.ts';
import {
  type CvmUpProcess,
  dropIntoInbox,
  freePort,
  getJson,
  PROJECT_ROOT,
  pollUntil,
  startCvmUp,
  tempCvmHome,
} from '../support/cvm-up.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(PROJECT_ROOT, 'test', 'artifacts');

interface ChartDrawing {
  svg: { width: number; height: number } | null;
  /** Data marks (Vega `role-mark` groups: bars, lines, cells, labels), not axes or legends. */
  marks: number;
  /** Data marks the browser gave a non-empty box. */
  visibleMarks: number;
  bars: number;
}

async function chartDrawing(page: Page, chart: string): Promise<ChartDrawing> {
  const section = page.locator(`section[data-chart="${chart}"]`);
  const svg = section.locator('svg').first();
  const box = (await svg.count()) > 0 ? await svg.boundingBox() : null;
  const markSizes = await section
    .locator('svg g[class^="mark-"].role-mark :is(path, rect, line, text)')
    .evaluateAll((marks) =>
      marks.map((mark) => {
        const rect = mark.getBoundingClientRect();
        return rect.width + rect.height;
      }),
    );
  return {
    svg: box && { width: box.width, height: box.height },
    marks: markSizes.length,
    visibleMarks: markSizes.filter((size) => size > 0).length,
    bars: await section.locator('svg g.mark-rect.role-mark > path').count(),
  };
}

describe('run report of cvm up in chromium', () => {
  let home: string;
  let cvm: CvmUpProcess | undefined;
  let url: string;
  let browser: Browser | undefined;
  let firstRun: RunRecord;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `No chromium at ${CHROMIUM}: the browser tests drive Debian's chromium through playwright-core. ` +
          'Install it with `apt-get install chromium` (playwright cannot download browsers here).',
      );
    }
    home = await tempCvmHome('cvm-browser-');
    const started = await startCvmUp({ home, port: await freePort(), debounceMs: 200 });
    cvm = started.cvm;
    url = started.url;
    const current = await getJson(`${url}/runs/current`);
    firstRun = runRecordSchema.parse(current.body);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    if (cvm) {
      await cvm.interrupt(30_000).catch(() => cvm?.kill());
    }
    if (home) await rm(home, { recursive: true, force: true });
  });

  /** Opens /report; fails on script errors and on requests that leave the report's origin. */
  async function openReport(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith(`${url}/`)) problems.push(`request outside the report: ${request.url()}`);
    });
    const response = await page.goto(`${url}/report`, { waitUntil: 'load' });
    expect(response?.status(), cvm!.transcript()).toBe(200);
    return { page, problems };
  }

  async function expectChartDrawn(page: Page, chart: string) {
    const section = page.locator(`section[data-chart="${chart}"]`);
    await expect(section.count(), `section ${chart}`).resolves.toBe(1);
    await expect(section.getAttribute('data-rendered'), chart).resolves.toBe('true');
    const drawing = await chartDrawing(page, chart);
    expect(drawing.svg, `${chart}: an svg`).not.toBeNull();
    expect(drawing.svg!.width, `${chart}: svg width`).toBeGreaterThan(0);
    expect(drawing.svg!.height, `${chart}: svg height`).toBeGreaterThan(0);
    expect(drawing.marks, `${chart}: data marks`).toBeGreaterThan(0);
    expect(drawing.visibleMarks, `${chart}: data marks with a size`).toBeGreaterThan(0);
  }

  it('first run: draws every chart but the migration, which explains why it is missing', async () => {
    const { page, problems } = await openReport();
    await expect(page.title()).resolves.toBe(`Customer value run ${firstRun.runId}`);
    for (const chart of REPORT_CHARTS.filter((c) => c !== 'migration')) await expectChartDrawn(page, chart);
    // One bar per segment: the chart shows the run's data, not just axes.
    expect((await chartDrawing(page, 'segment-sizes')).bars).toBe(firstRun.segments.length);
    const migration = page.locator('section[data-chart="migration"]');
    await expect(migration.getAttribute('data-rendered')).resolves.toBe('false');
    await expect(migration.textContent()).resolves.toContain('first run');
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('after an inbox drop: the new run draws all charts, migration included; screenshot saved', async () => {
    // Into the sample's own source: a drop under any other source is the user's own data, and runs
    // then leave the sample out (test/e2e/own-data.test.ts).
    dropIntoInbox(
      join(home, 'inbox', 'sample'),
      'more-orders.csv',
      [
        'order_id,customer_id,order_date,amount,currency,quantity',
        'BRW000001,0001,1998-06-25T10:00:00Z,19.99,USD,1',
        'BRW000002,BRW-1,1998-06-01T10:00:00Z,25.00,USD,1',
        '',
      ].join('\n'),
    );
    const secondRun = await pollUntil(
      async () => {
        const run = runRecordSchema.safeParse((await getJson(`${url}/runs/current`)).body);
        return run.success && run.data.runId !== firstRun.runId ? run.data : undefined;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 300,
        what: 'a new run after the inbox drop',
        context: () => cvm!.transcript(),
      },
    );
    expect(secondRun.previousRunId).toBe(firstRun.runId);

    const { page, problems } = await openReport();
    await expect(page.title()).resolves.toBe(`Customer value run ${secondRun.runId}`);
    for (const chart of REPORT_CHARTS) await expectChartDrawn(page, chart);
    expect((await chartDrawing(page, 'segment-sizes')).bars).toBe(secondRun.segments.length);
    expect((await chartDrawing(page, 'segment-value')).bars).toBe(secondRun.segments.length);
    expect(problems).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    const screenshot = join(ARTIFACTS, 'report.png');
    const png = await page.screenshot({ path: screenshot, fullPage: true });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(existsSync(screenshot)).toBe(true);
    await page.close();
  }, 150_000);
});
