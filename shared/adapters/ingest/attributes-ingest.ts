/**
 * The ingest pipeline's stages for a customer attributes export (docs/economics.md): the stored bytes
 * through the attributes parser into a staged JSON Lines file, then DuckDB drops erased customers and
 * writes the typed clean Parquet file. Rows are not merged here: "latest value wins" is applied when
 * the attributes are read (`customerAttributesStatement`), so files can arrive in any order.
 */
import type { FinishedUpload } from '#app/ports/ingest-pipeline.ts';
import { createAttributesParser } from '#domain/economics/attributes-export-parser.ts';
import type { CustomerAttributesRow } from '#domain/economics/customer-attributes.ts';
import type { FinishStagedInput } from './finish-with-duckdb.ts';
import { centsSql, finishRowKindWithDuckDb, type RowKind, stageRowKind } from './row-kind-ingest.ts';
import type { StagedExport, StageExportInput } from './stage-export.ts';

/**
 * Columns of the clean attributes Parquet (`clean/customer_attributes/`), in file order, with their
 * DuckDB types; the Glue table `customer_attributes` declares the same (Hive names).
 */
export const CLEAN_ATTRIBUTE_COLUMNS = {
  customer_id: 'VARCHAR',
  updated_at: 'TIMESTAMPTZ',
  acquired_at: 'TIMESTAMPTZ',
  acquisition_channel: 'VARCHAR',
  acquisition_cost: 'DECIMAL(18,2)',
  service_contacts: 'BIGINT',
  service_cost: 'DECIMAL(18,2)',
  satisfaction_scale: 'VARCHAR',
  satisfaction_score: 'BIGINT',
  marketing_consent: 'BOOLEAN',
  ingest_id: 'VARCHAR',
  ingested_at: 'TIMESTAMPTZ',
  line_number: 'BIGINT',
} as const;

/** Staged fields (JSON Lines, one object per accepted row) with the types DuckDB reads them as. */
const STAGED_ATTRIBUTE_FIELDS = {
  line: 'BIGINT',
  customer_id: 'VARCHAR',
  updated_at_us: 'BIGINT',
  acquired_at_us: 'BIGINT',
  acquisition_channel: 'VARCHAR',
  acquisition_cost_cents: 'BIGINT',
  service_contacts: 'BIGINT',
  service_cost_cents: 'BIGINT',
  satisfaction_scale: 'VARCHAR',
  satisfaction_score: 'BIGINT',
  marketing_consent: 'BOOLEAN',
} as const;

const ATTRIBUTES: RowKind<CustomerAttributesRow> = {
  name: 'attributes',
  createParser: (input, sink) =>
    createAttributesParser({ fileName: input.fileName, config: input.config, sink }),
  staged: (row) => ({
    line: row.line,
    customer_id: row.customerId,
    updated_at_us: row.updatedAtMicros,
    acquired_at_us: row.acquiredAtMicros,
    acquisition_channel: row.acquisitionChannel,
    acquisition_cost_cents: row.acquisitionCostCents,
    service_contacts: row.serviceContacts,
    service_cost_cents: row.serviceCostCents,
    satisfaction_scale: row.satisfaction?.scale ?? null,
    satisfaction_score: row.satisfaction?.score ?? null,
    marketing_consent: row.marketingConsent,
  }),
  stagedFields: STAGED_ATTRIBUTE_FIELDS,
  cleanSelect: `customer_id,
                    make_timestamptz(updated_at_us) AS updated_at,
                    make_timestamptz(acquired_at_us) AS acquired_at,
                    acquisition_channel,
                    ${centsSql('acquisition_cost_cents')} AS acquisition_cost,
                    service_contacts,
                    ${centsSql('service_cost_cents')} AS service_cost,
                    satisfaction_scale, satisfaction_score, marketing_consent`,
};

/** First stage for an attributes export: same inputs and result shape as `stageExport`. */
export const stageAttributes = (input: StageExportInput): Promise<StagedExport> =>
  stageRowKind(ATTRIBUTES, input);

/**
 * Second stage for an attributes export: the staged rows, without erased customers, to clean Parquet
 * with the types of {@link CLEAN_ATTRIBUTE_COLUMNS}.
 */
export const finishAttributesWithDuckDb = (input: FinishStagedInput): Promise<FinishedUpload> =>
  finishRowKindWithDuckDb(ATTRIBUTES, input);
