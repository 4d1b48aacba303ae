/**
 * The push parser of a subscriptions export (CSV): the shared CSV kind parser with the subscriptions'
 * column mapping (`mapSubscriptionColumns`) and row cleaner (`cleanSubscriptionRow`).
 */
import { currencySymbolMap } from '../ingest/amounts.ts';
import { type CsvKindParser, createCsvKindParser } from '../ingest/csv-kind-parser.ts';
import type { RejectedRow } from '../ingest/export-parser.ts';
import type { SourceConfig } from '../ingest/source-config.ts';
import { cleanSubscriptionRow, mapSubscriptionColumns, type SubscriptionRow } from './subscriptions.ts';

export interface SubscriptionsParserOptions {
  fileName: string;
  config: SourceConfig;
  /** Currency of rows without one (the source's, else the deployment's default). */
  defaultCurrency: string;
  sink: { accept(row: SubscriptionRow): void; reject(row: RejectedRow): void };
}

/** A push parser for one subscriptions export (see `createCsvKindParser`). */
export function createSubscriptionsParser(options: SubscriptionsParserOptions): CsvKindParser {
  const { fileName, config } = options;
  const currencySymbols = currencySymbolMap(config.currencySymbols);
  return createCsvKindParser<SubscriptionRow>({
    fileName,
    config,
    sink: options.sink,
    kindName: 'a subscriptions export',
    mapColumns(headers) {
      const mapping = mapSubscriptionColumns(headers, config.subscriptionColumns, fileName);
      return {
        index: mapping,
        amountColumns: [mapping.fee],
        timestampColumns: [mapping.started_at, mapping.cancelled_at],
        clean: (fields, line, formats) =>
          cleanSubscriptionRow(fields, line, {
            mapping,
            ...formats,
            currency: config.currency ?? options.defaultCurrency,
            currencySymbols,
          }),
      };
    },
  });
}
