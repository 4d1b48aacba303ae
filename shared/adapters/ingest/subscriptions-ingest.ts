/**
 * The ingest pipeline's stages for a subscriptions export (docs/ingest.md): the stored bytes through
 * the subscriptions parser into a staged JSON Lines file, then DuckDB drops erased customers and writes
 * the typed clean Parquet file. Rows are not merged here: "a later export's row for the same
 * subscription wins" is applied when the subscriptions are read, so files can arrive in any order.
 */
import type { FinishedUpload } from '#app/ports/ingest-pipeline.ts';
import type { SubscriptionRow } from '#domain/subscriptions/subscriptions.ts';
import { createSubscriptionsParser } from '#domain/subscriptions/subscriptions-export-parser.ts';
import type { FinishStagedInput } from './finish-with-duckdb.ts';
import { centsSql, finishRowKindWithDuckDb, type RowKind, stageRowKind } from './row-kind-ingest.ts';
import type { StagedExport, StageExportInput } from './stage-export.ts';

/**
 * Columns of the clean subscriptions Parquet (`clean/subscriptions/`), in file order, with their DuckDB
 * types; the Glue table `subscriptions` declares the same (Hive names). Every column but the ids and
 * `started_at` may be NULL.
 */
export const CLEAN_SUBSCRIPTION_COLUMNS = {
  customer_id: 'VARCHAR',
  subscription_id: 'VARCHAR',
  plan: 'VARCHAR',
  started_at: 'TIMESTAMPTZ',
  cancelled_at: 'TIMESTAMPTZ',
  fee: 'DECIMAL(18,2)',
  currency: 'VARCHAR',
  ingest_id: 'VARCHAR',
  ingested_at: 'TIMESTAMPTZ',
  line_number: 'BIGINT',
} as const;

/** Staged fields (JSON Lines, one object per accepted row) with the types DuckDB reads them as. */
const STAGED_SUBSCRIPTION_FIELDS = {
  line: 'BIGINT',
  customer_id: 'VARCHAR',
  subscription_id: 'VARCHAR',
  plan: 'VARCHAR',
  started_at_us: 'BIGINT',
  cancelled_at_us: 'BIGINT',
  fee_cents: 'BIGINT',
  currency: 'VARCHAR',
} as const;

const SUBSCRIPTIONS: RowKind<SubscriptionRow> = {
  name: 'subscriptions',
  createParser: (input, sink) =>
    createSubscriptionsParser({
      fileName: input.fileName,
      config: input.config,
      defaultCurrency: input.defaultCurrency,
      sink,
    }),
  staged: (row) => ({
    line: row.line,
    customer_id: row.customerId,
    subscription_id: row.subscriptionId,
    plan: row.plan,
    started_at_us: row.startedAtMicros,
    cancelled_at_us: row.cancelledAtMicros,
    fee_cents: row.feeCents,
    currency: row.currency,
  }),
  stagedFields: STAGED_SUBSCRIPTION_FIELDS,
  cleanSelect: `customer_id, subscription_id, plan,
                    make_timestamptz(started_at_us) AS started_at,
                    make_timestamptz(cancelled_at_us) AS cancelled_at,
                    ${centsSql('fee_cents')} AS fee,
                    currency`,
};

/** First stage for a subscriptions export: same inputs and result shape as `stageExport`. */
export const stageSubscriptions = (input: StageExportInput): Promise<StagedExport> =>
  stageRowKind(SUBSCRIPTIONS, input);

/**
 * Second stage for a subscriptions export: the staged rows, without erased customers, to clean
 * Parquet with the types of {@link CLEAN_SUBSCRIPTION_COLUMNS} (a later export's row for the same
 * subscription wins when the subscriptions are read, `subscriptionCtes`).
 */
export const finishSubscriptionsWithDuckDb = (input: FinishStagedInput): Promise<FinishedUpload> =>
  finishRowKindWithDuckDb(SUBSCRIPTIONS, input);
