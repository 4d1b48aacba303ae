/**
 * The decimal separator and the date format of one export, decided once from sample values (or the
 * source config) before any row is cleaned: the same decision for orders and customer attributes.
 */
import { type DecimalSeparator, sniffDecimalSeparator } from './amounts.ts';
import { type CompiledDateFormat, compileDateFormat } from './date-format.ts';
import { IngestFileError } from './ingest-file-error.ts';
import { sniffDateFormat } from './order-timestamps.ts';
import type { SourceConfig } from './source-config.ts';

/**
 * Throws `decimal_ambiguous` / `date_format_ambiguous` naming the file and an example when the
 * samples cannot tell and the config does not say.
 */
export function chooseValueFormats(
  fileName: string,
  config: Pick<SourceConfig, 'decimal' | 'dateFormat'>,
  samples: { amounts: readonly string[]; timestamps: readonly string[] },
  currencySymbols: ReadonlyMap<string, string>,
): { decimal: DecimalSeparator; dateFormat: CompiledDateFormat | null } {
  const decimalChoice = sniffDecimalSeparator(samples.amounts, config.decimal, currencySymbols);
  if (decimalChoice.decimal === null) {
    throw new IngestFileError(
      'decimal_ambiguous',
      `${fileName}: amounts such as ${decimalChoice.example} do not show whether ',' or '.' is the decimal ` +
        'separator; set "decimal" in the source config',
    );
  }
  if (config.dateFormat)
    return { decimal: decimalChoice.decimal, dateFormat: compileDateFormat(config.dateFormat) };
  const sniffed = sniffDateFormat(samples.timestamps);
  if ('ambiguous' in sniffed) {
    throw new IngestFileError(
      'date_format_ambiguous',
      `${fileName}: dates such as '${sniffed.ambiguous}' could be day-first or month-first; set "dateFormat" ` +
        'in the source config (e.g. "dd/MM/yyyy" or "MM/dd/yyyy")',
    );
  }
  return { decimal: decimalChoice.decimal, dateFormat: sniffed.format };
}
