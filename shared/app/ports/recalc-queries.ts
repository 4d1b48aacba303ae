/**
 * The recalculation's warehouse statements, rendered for one run: typed statements for the
 * warehouse port, and the Athena UNLOAD text of each (what the state machine's Athena tasks run).
 */
import type {
  CohortRow,
  CustomerSummaryRow,
  DataProfileRow,
  HistogramRow,
  HoldoutRow,
  SpendRow,
  Statement,
  TrackingRow,
  WarehouseTimeUnit,
} from './warehouse.ts';

export interface RecalcQueryParams {
  asOf: string;
  calibrationEnd?: string;
  timeUnit: WarehouseTimeUnit;
  currency: string;
  sources?: string[];
  /** Model family of the run (default noncontractual-continuous) and its period (default year). */
  family?: 'noncontractual-continuous' | 'noncontractual-discrete' | 'contractual';
  period?: 'year' | 'month';
}

export interface RecalcStatements {
  dataProfile: Statement<DataProfileRow>;
  customerSummaries: Statement<CustomerSummaryRow>;
  histogram: Statement<HistogramRow>;
  spend: Statement<SpendRow>;
  /** Holdout statements: only with a calibration end. */
  calibrationHistogram?: Statement<HistogramRow>;
  holdout?: Statement<HoldoutRow>;
  tracking?: Statement<TrackingRow>;
  cohorts?: Statement<CohortRow>;
}

/** One statement as an Athena UNLOAD: the query text and the (empty) prefix its output goes to. */
export interface UnloadTask {
  queryString: string;
  outputPrefix: string;
}

export interface RecalcQueries {
  statements(params: RecalcQueryParams): RecalcStatements;
  /** Every statement of the run as UNLOAD text, by statement key. */
  unloadTasks(params: RecalcQueryParams, runId: string): Record<string, UnloadTask>;
}
