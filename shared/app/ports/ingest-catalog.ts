/**
 * What the recalculation needs to know about past ingests: which clean Parquet object each
 * succeeded ingest wrote, so a run can tell a clean object that went missing from one never written.
 */

/** A clean object an ingest wrote, with what names it for people. */
export interface IngestedCleanObject {
  ingestId: string;
  /** The export the object came from (`incoming/<source>/<file>`). */
  exportKey: string;
  cleanKey: string;
}

export interface IngestCatalog {
  /** The clean objects of every succeeded ingest still on record. */
  listCleanObjects(): Promise<IngestedCleanObject[]>;
}
