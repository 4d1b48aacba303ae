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
  RunProfileRow,
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
  period?: 'year' | 'month' | 'campaign';
  /** Campaign starts of `period: 'campaign'` (ISO dates, increasing). */
  campaigns?: string[];
  /** Contractual runs: read the subscriptions exports instead of the transactions. */
  subscriptions?: boolean;
  /** Fixed rates into `currency` for the other currencies a run reads (data selection). */
  fxRates?: Record<string, number>;
  /** What to do with identical rows in two sources. @default 'keep' */
  crossSourceDuplicates?: 'keep' | 'collapse';
  /**
   * Customer economics of the run (docs/economics.md): when given, the customer summaries carry each
   * customer's net contribution sums and latest attributes. Absent = the summaries exactly as before.
   */
  economics?: EconomicsSqlSettings;
  /**
   * Customers the run summarizes (its data profile) and customers per summary part: the customer
   * summaries are unloaded in ceil(customers / partCustomers) parts by customer bucket. Absent =
   * written as the engine splits them.
   */
  customers?: number;
  partCustomers?: number;
}

/** What the SQL needs of the `economics` settings to fold the economics sums per customer. */
export interface EconomicsSqlSettings {
  /** Configured margin rates (`economics.marginRate`); `default` absent = `clvMargin`. */
  marginRate: { default?: number; bySource: Record<string, number>; byChannel: Record<string, number> };
  discountIncludedInAmount: boolean;
  /** The run's clv.margin: the rate of last resort. */
  clvMargin: number;
}

/** Whether the run's data has economics: order rows with a figure of their own, attributes rows. */
export interface EconomicsPresenceRow {
  orderRowsWithFigures: number;
  attributeRows: number;
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
  sourceProfile(params: {
    asOf: string;
    sources?: string[];
    subscriptions?: boolean;
  }): Statement<SourceProfileRow>;
  /** Amount, orders, one-time buyers and cross-source duplicates of the run's input (full period). */
  inputProfile(params: RecalcQueryParams): Statement<InputProfileRow>;
  /** Counts the order rows with economics figures and the attributes rows of the sources. */
  economicsPresence(params: { sources?: string[] }): Statement<EconomicsPresenceRow>;
  /** Every statement of the run as UNLOAD text, by statement key. */
  unloadTasks(params: RecalcQueryParams, runId: string): Record<string, UnloadTask>;
  /**
   * The data profile, input profile and economics presence of the run's input (full period) in one
   * statement: one scan of the clean transactions.
   */
  runProfile(params: RecalcQueryParams): Statement<RunProfileRow>;
  /** One statement as the UNLOAD a warehouse task runs; its output goes to `runs/<runId>/<name>/`. */
  unloadTask(statement: Statement<unknown>, runId: string): UnloadTask;
  /** The SELECT and the output prefix of an UNLOAD text `unloadTask` rendered (for engines without UNLOAD). */
  parseUnload(queryString: string): { sql: string; outputPrefix: string; partitionedBy?: string };
}
