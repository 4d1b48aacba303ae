/**
 * A problem with a whole export file (as opposed to one row): the file cannot be read as a table at
 * all, so nothing from it is ingested. The message is written for the person who dropped the file.
 */
export class IngestFileError extends Error {
  readonly code:
    | 'encoding_ambiguous'
    | 'encoding_invalid'
    | 'decimal_ambiguous'
    | 'date_format_ambiguous'
    | 'columns_missing'
    | 'format_unknown'
    | 'empty_file'
    | 'config_invalid'
    | (string & {});

  constructor(code: IngestFileError['code'], message: string) {
    super(message);
    this.name = 'IngestFileError';
    this.code = code;
  }
}
