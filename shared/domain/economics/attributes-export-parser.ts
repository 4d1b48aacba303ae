/**
 * The push parser of a customer attributes export (CSV): the shared CSV kind parser with the
 * attributes' column mapping (`mapAttributeColumns`) and row cleaner (`cleanAttributeRow`).
 */

import { type CsvKindParser, createCsvKindParser } from '../ingest/csv-kind-parser.ts';
import type { RejectedRow } from '../ingest/export-parser.ts';
import type { SourceConfig } from '../ingest/source-config.ts';
import { type CustomerAttributesRow, cleanAttributeRow, mapAttributeColumns } from './customer-attributes.ts';

export interface AttributesSink {
  accept(row: CustomerAttributesRow): void;
  reject(row: RejectedRow): void;
}

export interface AttributesParserOptions {
  fileName: string;
  config: SourceConfig;
  sink: AttributesSink;
}

export type AttributesParser = CsvKindParser;

/** A push parser for one attributes export (see `createCsvKindParser`). */
export function createAttributesParser(options: AttributesParserOptions): AttributesParser {
  const { fileName, config } = options;
  return createCsvKindParser<CustomerAttributesRow>({
    ...options,
    kindName: 'a customer attributes export',
    mapColumns(headers) {
      const mapping = mapAttributeColumns(
        headers,
        config.attributeColumns,
        config.satisfactionScale,
        fileName,
      );
      const { index } = mapping;
      return {
        index,
        amountColumns: [index.acquisition_cost, index.service_cost],
        timestampColumns: [index.updated_at, index.acquired_at],
        clean: (fields, line, formats) => {
          const cleaned = cleanAttributeRow(fields, line, { mapping, ...formats });
          return cleaned.ok ? cleaned : { ok: false, reason: cleaned.reason, message: cleaned.message };
        },
      };
    },
  });
}
