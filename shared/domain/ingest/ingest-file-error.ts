/**
 * A problem with a whole export file (as opposed to one row) or its source configuration: the file
 * cannot be read as a table at all, so nothing from it is ingested and a retry cannot help. The
 * ingest is recorded as `failed` with this message, written for the person who dropped the file.
 */
import { CvmError, type IngestFileErrorCode } from '../errors.ts';

export class IngestFileError extends CvmError {
  override readonly name = 'IngestFileError';
  constructor(
    readonly code: IngestFileErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
