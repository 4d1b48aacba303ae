/**
 * The run report of `cvm up` in a real browser: Debian's chromium driven by playwright-core opens
 * `/report` of a `cvm up` started here (fresh CVM_HOME, the bundled sample) and checks that every chart
 * is drawn — an SVG with a size and data marks with a size — that the page loads nothing from
 * elsewhere, that the holdout chart has a legend, that no chart text renders below 11 px at a 1400 px
 * wide window, that the migration matrix follows the segment grid, and saves a full-page screenshot
 * to test/artifacts/report.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOLDOUT_SERIES, migrationAxisOrder, REPORT_CHARTS } from '#adapters/report/render-report.ts';
import type { RunRecord } from '#domain/run.ts';
import { runRecordSchema } from '#functions/api/schemas.ts';
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
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
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

  /** Rendered size in px of every text in the charts (font size × the SVG's scale on screen). */
  async function chartTextSizes(page: Page): Promise<{ text: string; px: number }[]> {
    return page.locator('section.chart svg text').evaluateAll((texts) =>
      texts
        .filter((t) => (t.textContent ?? '').trim() !== '')
        .map((t) => {
          // Runs in the page (this project compiles without the DOM typings).
          const element = t as unknown as {
            textContent: string | null;
            getScreenCTM(): { a: number; b: number } | null;
          };
          const window = globalThis as unknown as { getComputedStyle(e: unknown): { fontSize: string } };
          // Length of the transformed x unit vector: the scale whatever the rotation (axis titles).
          const ctm = element.getScreenCTM();
          const scale = ctm ? Math.hypot(ctm.a, ctm.b) : 1;
          return {
            text: element.textContent ?? '',
            px: Number.parseFloat(window.getComputedStyle(t).fontSize) * scale,
          };
        }),
    );
  }

  /** Axis labels of a chart's axis ('X' or 'Y') in drawing order. */
  async function axisLabels(page: Page, chart: string, axis: 'X' | 'Y'): Promise<string[]> {
    return page
      .locator(
        `section[data-chart="${chart}"] svg g.role-axis[aria-label^="${axis}-axis"] g.role-axis-label text`,
      )
      .allTextContents();
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

    // The holdout chart says which line is which.
    const legend = page.locator('section[data-chart="holdout-tracking"] svg g.role-legend');
    await expect(legend.count()).resolves.toBeGreaterThan(0);
    const legendText = (await legend.allTextContents()).join(' ');
    for (const series of HOLDOUT_SERIES) expect(legendText).toContain(series);

    // Readable at 1400 px: no chart text below 11 px as drawn.
    const sizes = await chartTextSizes(page);
    expect(sizes.length).toBeGreaterThan(20);
    const smallest = sizes.reduce((min, s) => (s.px < min.px ? s : min));
    expect(smallest.px, `smallest chart text: "${smallest.text}"`).toBeGreaterThanOrEqual(11);

    // The migration matrix follows the segment grid on both axes.
    const order = migrationAxisOrder(secondRun);
    await expect(axisLabels(page, 'migration', 'Y')).resolves.toEqual(order.rows);
    await expect(axisLabels(page, 'migration', 'X')).resolves.toEqual(order.columns);
    const grid = secondRun.segments.map((s) => s.segment);
    const rows = order.rows.filter((r) => grid.includes(r));
    expect(rows).toEqual([...rows].sort((a, b) => grid.indexOf(a) - grid.indexOf(b)));

    mkdirSync(ARTIFACTS, { recursive: true });
    const screenshot = join(ARTIFACTS, 'report.png');
    const png = await page.screenshot({ path: screenshot, fullPage: true });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(existsSync(screenshot)).toBe(true);
    await page.close();
  }, 150_000);
});
