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
  InputProfileRow,
  SourceProfileRow,
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
  /** Fixed rates into `currency` for the other currencies a run reads (data selection). */
  fxRates?: Record<string, number>;
  /** What to do with identical rows in two sources. @default 'keep' */
  crossSourceDuplicates?: 'keep' | 'collapse';
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
  /** Per source and currency, what the clean data holds (the data selection's input). */
  sourceProfile(params: { asOf: string; sources?: string[] }): Statement<SourceProfileRow>;
  /** Amount, orders, one-time buyers and cross-source duplicates of the run's input (full period). */
  inputProfile(params: RecalcQueryParams): Statement<InputProfileRow>;
  /** Every statement of the run as UNLOAD text, by statement key. */
  unloadTasks(params: RecalcQueryParams, runId: string): Record<string, UnloadTask>;
}
