/**
 * Types shared by every customer-base model (BG/NBD, MBG/NBD, Pareto/NBD) and the Gamma-Gamma
 * spend model. Data is columnar (Float64Array) so that fitting and scoring a million customers stays
 * in tight loops without per-customer objects.
 */

/**
 * (x, t_x, T) rows with weights: identical rows collapsed into one row whose weight is the number
 * of customers it stands for. Uncompressed data is the same structure with every weight = 1.
 * Times are in the data's unit (days or weeks); x is a non-negative integer count.
 */
export interface CompressedRfm {
  /** Number of repeat purchase periods (frequency). */
  readonly x: Float64Array;
  /** Recency: time from first to last purchase (0 when x = 0). */
  readonly tx: Float64Array;
  /** Age: time from first purchase to the observation end. */
  readonly T: Float64Array;
  /** How many customers each row stands for (positive). */
  readonly weight: Float64Array;
  /** Number of rows (= length of every column). */
  readonly length: number;
}

/** Spend data for the Gamma-Gamma model: x repeat purchases with mean value zbar, weighted. */
export interface SpendData {
  readonly x: Float64Array;
  readonly zbar: Float64Array;
  readonly weight: Float64Array;
  readonly length: number;
}

/** Customer-base models. */
export type PurchaseModelName = 'bgnbd' | 'mbgnbd' | 'pareto';

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}
/** MBG/NBD uses the same parameter names as BG/NBD. */
export type MbgNbdParams = BgNbdParams;

export interface ParetoNbdParams {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

/** Options every fit accepts. */
export interface FitOptions {
  /**
   * L2 penalty coefficient λ, exactly as the Python library lifetimes 0.11.3: the fit minimises
   * −LL/N + λ Σ θᵢ², where θ are the natural-scale parameters after rescaling time so that the
   * largest T is 1 (time-unit parameters such as α are multiplied by 1 / max T). The penalty is
   * therefore the same whether the data are in days or weeks. Default 0.
   */
  penalizer?: number;
  /**
   * Starting points on the natural scale, each listing parameters in the model's order. Default:
   * the model's own starts. The best converged fit over all starts is kept.
   */
  starts?: readonly (readonly number[])[];
  /** Largest absolute gradient of −LL/N with respect to log-parameters that counts as converged. Default 1e-7. */
  gradientTolerance?: number;
  /** BFGS iterations per start. Default 500. */
  maxIterations?: number;
  /** Skip the standard errors (saves a numeric Hessian: 2 × parameters gradient evaluations). */
  skipStandardErrors?: boolean;
  /**
   * Initial inverse Hessian of −LL/N on log-parameters (n × n, row-major) for every start, e.g.
   * `inverseHessian` of a fit on a subsample: the fit then needs only a few iterations.
   */
  initialInverseHessian?: ArrayLike<number>;
  /**
   * Wall-clock budget of the whole fit (all starts and the standard errors), in milliseconds. When
   * it runs out the fit stops with a ModelFitError of code 'time-limit'. Default 30,000.
   */
  timeLimitMs?: number;
  /**
   * Largest change of a log-parameter in one optimisation step (a factor e^maxStep on the natural
   * scale). Default 3.
   */
  maxStep?: number;
  /**
   * Throw a ModelFitError of code 'not-identified' instead of returning a result with
   * `identified: false`. Default false.
   */
  requireIdentified?: boolean;
}

/** Result of a maximum-likelihood fit. */
export interface FitResult<P extends object = Record<string, number>> {
  /** e.g. 'bgnbd', 'mbgnbd', 'pareto', 'gamma-gamma'. */
  model: string;
  params: P;
  /** Total weighted log-likelihood at `params`, without the penalty term. */
  logLikelihood: number;
  /** Standard errors on the natural scale (delta method from the log-parameter Hessian); NaN when the Hessian is singular. */
  standardErrors: { [K in keyof P]: number };
  converged: boolean;
  /** BFGS iterations of the chosen start. */
  iterations: number;
  /** Final largest absolute gradient component of −LL/N (+ penalty) in log-parameter space. */
  gradientNorm: number;
  /** Objective evaluations over all starts. */
  evaluations: number;
  /** Customers in the fit (sum of weights). */
  customers: number;
  /** Distinct rows the likelihood was evaluated on. */
  rows: number;
  penalizer: number;
  /**
   * True when the optimum is a proper maximum: gradient small, Hessian of −LL positive definite and
   * every standard error finite. When false, `warnings` says which check failed; predictions from
   * such parameters are not supported by the data (e.g. a parameter ran off towards 0 or ∞).
   */
  identified: boolean;
  /** What a user should know about the fit (unidentified parameters, boundary estimates, …). */
  warnings: string[];
  /**
   * Inverse Hessian of the fitted objective (−LL/N + penalty) on log-parameters, n × n row-major:
   * from the numeric Hessian when standard errors were computed, else the BFGS approximation.
   * Pass it as `initialInverseHessian` to warm-start a related fit.
   */
  inverseHessian: number[];
}

/**
 * Per-customer predictions of a fitted purchase model, used by scoring. An implementation may reuse
 * internal scratch buffers between calls, so one predictor must not be shared across concurrent
 * callers (JavaScript code is single-threaded; this only matters for re-entrant use).
 */
export interface PurchasePredictor {
  /** P(alive | x, t_x, T) in [0, 1]. */
  probabilityAlive(x: number, tx: number, T: number): number;
  /** Expected repeat purchases in (T, T + t] given (x, t_x, T), for each t of `times`, into `out`. */
  conditionalExpectedCurve(times: Float64Array, x: number, tx: number, T: number, out: Float64Array): void;
}
