/**
 * Generic maximum-likelihood harness shared by every model: optimisation on log-parameters (keeps
 * every parameter positive without constraints), weighted data, optional L2 penalty, several
 * starts, standard errors from a numeric Hessian, and an actionable error when nothing converges.
 */
import { CvmError, type FitErrorCode } from '../errors.ts';

export type { FitErrorCode };

import {
  invertSymmetricPositiveDefinite,
  type MinimizeResult,
  minimize,
  numericHessian,
} from '../optimize.ts';
import type { FitOptions, FitResult } from './types.ts';

/** A model's likelihood bound to one data set: what the harness needs to fit it. */
export interface LikelihoodProblem {
  /** Model name carried into the result, e.g. 'bgnbd'. */
  readonly model: string;
  /** Parameter names in the order of every parameter vector. */
  readonly paramNames: readonly string[];
  /** Starting points on the natural scale used when the caller gives none. */
  readonly defaultStarts: readonly (readonly number[])[];
  /** Sum of the weights (number of customers). */
  readonly customers: number;
  /** Number of rows the likelihood runs over. */
  readonly rows: number;
  /**
   * Total weighted log-likelihood at natural-scale `params`. When `gradient` is given and
   * `hasGradient` is true, also writes ∂LL/∂params (natural scale) into it.
   */
  logLikelihood(params: Float64Array, gradient?: Float64Array): number;
  readonly hasGradient: boolean;
  /**
   * Indices of parameters measured in time units (α of the purchase models, β of Pareto/NBD): the
   * penalty sees them on lifetimes' rescaled time axis (multiplied by 1 / `maxT`).
   */
  readonly timeParams?: readonly number[];
  /** Largest T of the data, for the penalty's time rescaling. */
  readonly maxT?: number;
  /**
   * The penalty is added to the total −LL instead of the mean (lifetimes' ParetoNBDFitter, which
   * divides −LL by the mean weight, i.e. by 1 on one row per customer). Default: the mean.
   */
  readonly penalizeTotal?: boolean;
  /**
   * Why the data cannot identify the model's parameters, checked before fitting (e.g. no repeat
   * buyer); null when the data are sufficient.
   */
  readonly insufficientData?: () => string | null;
  /**
   * Whether a penalizer makes a fit of these short data meaningful (e.g. a single repeat buyer): the
   * fit then runs, and its result says the estimates lean on the penalty. Absent: never.
   */
  readonly penalizerCuresShortage?: () => boolean;
}

/** A fit that did not converge (or could not be evaluated); the message says what to try. */
export class ModelFitError extends CvmError {
  override readonly name = 'ModelFitError';
  constructor(
    message: string,
    readonly details: { model: string; attempts: readonly MinimizeResult[] },
    readonly code: FitErrorCode = 'not-converged',
  ) {
    super(message);
  }
}

/** The usual remedies, for error messages. */
export const FIT_ADVICE =
  'Try: another model (e.g. --model bgnbd), weeks instead of days, a small penalizer (e.g. --penalizer 0.01), more data (more customers or a longer observation period); and check the time unit (recency and T in the same unit, with recency ≤ T).';

/** Log-parameters beyond ±this (parameters outside [1e-300, 1e300]) are outside the model. */
export const LOG_PARAM_LIMIT = Math.log(1e300);
/** Estimates beyond e^±this are reported as having run off towards 0 or ∞. */
const BOUNDARY_LOG_PARAM = Math.log(1e12);

/** Thrown inside the objective when the time budget is spent; turned into a ModelFitError. */
class FitDeadline extends Error {}

/** Multipliers of the parameters in the penalty: 1 / max T for time parameters, 1 otherwise. */
export function penaltyScales(problem: LikelihoodProblem): Float64Array {
  const scales = new Float64Array(problem.paramNames.length).fill(1);
  const maxT = problem.maxT;
  if (maxT !== undefined && maxT > 0 && Number.isFinite(maxT)) {
    for (const i of problem.timeParams ?? []) scales[i] = 1 / maxT;
  }
  return scales;
}

/**
 * Objective on θ = ln(params): −LL/N + λ Σ (kᵢ paramsᵢ)² (λ/N with `penalizeTotal`), with its gradient with respect to θ
 * (kᵢ from `penaltyScales`). Outside |θ| ≤ ln(1e300), or where the likelihood is not a finite
 * number, it returns +∞ so the line search backs off.
 */
export function logSpaceObjective(
  problem: LikelihoodProblem,
  penalizer: number,
  deadline = Number.POSITIVE_INFINITY,
) {
  const n = problem.paramNames.length;
  const params = new Float64Array(n);
  const naturalGradient = new Float64Array(n);
  const scale = 1 / problem.customers;
  const k = penaltyScales(problem);
  const lambda = problem.penalizeTotal ? penalizer * scale : penalizer;
  return (theta: Float64Array, gradient?: Float64Array): number => {
    if (performance.now() > deadline) throw new FitDeadline();
    for (let i = 0; i < n; i++) {
      const t = theta[i]!;
      if (!(Math.abs(t) <= LOG_PARAM_LIMIT)) return Number.POSITIVE_INFINITY;
      params[i] = Math.exp(t);
    }
    const wantGradient = gradient !== undefined && problem.hasGradient;
    const ll = problem.logLikelihood(params, wantGradient ? naturalGradient : undefined);
    if (!Number.isFinite(ll)) return Number.POSITIVE_INFINITY;
    let penalty = 0;
    for (let i = 0; i < n; i++) {
      const scaled = k[i]! * params[i]!;
      penalty += scaled * scaled;
    }
    if (gradient && wantGradient) {
      for (let i = 0; i < n; i++) {
        const p = params[i]!;
        const scaled = k[i]! * p;
        gradient[i] = -naturalGradient[i]! * p * scale + (lambda === 0 ? 0 : lambda * 2 * scaled * scaled);
        // A derivative that overflows at an extreme point: treat the point as outside the model.
        if (!Number.isFinite(gradient[i]!)) return Number.POSITIVE_INFINITY;
      }
    }
    if (lambda === 0) return -ll * scale;
    const value = -ll * scale + lambda * penalty;
    return Number.isFinite(value) ? value : Number.POSITIVE_INFINITY;
  };
}

function describe(start: readonly number[], names: readonly string[]): string {
  return names.map((name, i) => `${name}=${start[i]}`).join(', ');
}

/**
 * Fits `problem` by maximum likelihood from every start and keeps the converged fit with the best
 * penalised objective. Throws `ModelFitError` (with a `code`) when the data are insufficient, no
 * start converges, or the time budget runs out. To finish a fit begun on a subsample, pass that
 * fit's parameters as the only start.
 */
export function fitByMaximumLikelihood<P extends object>(
  problem: LikelihoodProblem,
  options: FitOptions = {},
): FitResult<P> {
  const names = problem.paramNames;
  const penalizer = options.penalizer ?? 0;
  if (!(penalizer >= 0)) throw new RangeError(`penalizer must be a number ≥ 0, got ${penalizer}`);
  if (!(problem.customers > 0)) {
    throw new ModelFitError(
      `${problem.model}: no customers to fit (the summary is empty or every weight is 0); check the input file and the observation period.`,
      { model: problem.model, attempts: [] },
      'no-customers',
    );
  }
  const shortage = problem.insufficientData?.() ?? null;
  const penalizedShortage =
    shortage !== null && penalizer > 0 && (problem.penalizerCuresShortage?.() ?? false);
  if (shortage !== null && !penalizedShortage) {
    throw new ModelFitError(
      `${problem.model}: not enough data to fit: ${shortage}`,
      {
        model: problem.model,
        attempts: [],
      },
      'insufficient-data',
    );
  }
  const starts = options.starts ?? problem.defaultStarts;
  for (const start of starts) {
    if (start.length !== names.length || start.some((v) => !(v > 0) || !Number.isFinite(v))) {
      throw new RangeError(
        `${problem.model}: each start needs ${names.length} positive finite values (${names.join(', ')}), got [${start.join(', ')}]`,
      );
    }
  }
  const timeLimitMs = options.timeLimitMs ?? 30_000;
  // performance.now(), not Date.now(): a budget of a few milliseconds must not depend on where
  // the fit falls between two whole-millisecond ticks.
  const began = performance.now();
  const deadline = began + timeLimitMs;
  const objective = logSpaceObjective(problem, penalizer, deadline);
  const minimizeOptions = {
    gradientTolerance: options.gradientTolerance ?? 1e-7,
    maxIterations: options.maxIterations ?? 500,
    numericGradient: !problem.hasGradient,
    maxStep: options.maxStep ?? 3,
    ...(options.initialInverseHessian ? { initialInverseHessian: options.initialInverseHessian } : {}),
  };
  const attempts: MinimizeResult[] = [];
  let best: MinimizeResult | null = null;
  let evaluations = 0;
  const timeLimitError = (where: string) =>
    new ModelFitError(
      [
        `${problem.model}: the fit stopped at its time limit of ${(timeLimitMs / 1000).toFixed(1)} s (${where}) on ${problem.customers} customers.`,
        FIT_ADVICE,
        'Or allow more time (--time-limit SECONDS).',
      ].join('\n'),
      { model: problem.model, attempts },
      'time-limit',
    );
  for (const start of starts) {
    let result: MinimizeResult;
    try {
      result = minimize(objective, start.map(Math.log), minimizeOptions);
    } catch (error) {
      if (error instanceof FitDeadline) throw timeLimitError(`start ${describe(start, names)}`);
      throw error;
    }
    attempts.push(result);
    evaluations += result.evaluations;
    if (result.converged && Number.isFinite(result.value) && (best === null || result.value < best.value)) {
      best = result;
    }
  }
  if (best === null) {
    const tried = starts.map((s, i) => {
      const a = attempts[i]!;
      return `  start (${describe(s, names)}): stopped after ${a.iterations} iterations (${a.reason}), gradient norm ${a.gradientNorm.toExponential(2)}, −LL/N ${a.value}`;
    });
    throw new ModelFitError(
      [
        `${problem.model}: the maximum-likelihood fit did not converge on ${problem.customers} customers.`,
        ...tried,
        'Try: more data (more customers or a longer observation period); a small penalizer (e.g. --penalizer 0.001);',
        'another model (e.g. --model bgnbd); other starting values; and check the time unit (weeks rather than days; recency and T in the same unit, with recency ≤ T).',
      ].join('\n'),
      { model: problem.model, attempts },
    );
  }
  const params = Object.fromEntries(names.map((name, i) => [name, Math.exp(best.x[i]!)])) as P;
  const natural = Float64Array.from(best.x, (v) => Math.exp(v));
  const logLikelihood = problem.logLikelihood(natural);
  let standardErrors = Object.fromEntries(
    names.map((name) => [name, Number.NaN]),
  ) as unknown as FitResult<P>['standardErrors'];
  let inverseHessian = Array.from(best.inverseHessian);
  const warnings: string[] = [];
  if (penalizedShortage) {
    warnings.push(
      `${shortage} Fitted with penalizer ${penalizer} all the same: the estimates lean on the penalty more than on the data.`,
    );
  }
  let identified = true;
  for (let i = 0; i < names.length; i++) {
    const t = best.x[i]!;
    if (Math.abs(t) > BOUNDARY_LOG_PARAM) {
      identified = false;
      warnings.push(
        `parameter ${names[i]} = ${Math.exp(t).toPrecision(3)} ran off towards ${t > 0 ? '∞' : '0'}: the data do not identify it (try a penalizer, more data or another model)`,
      );
    }
  }
  if (!options.skipStandardErrors) {
    if (performance.now() > deadline) throw timeLimitError('before the standard errors');
    const curvature = curvatureAt<P>(problem, best.x);
    standardErrors = curvature.standardErrors;
    if (curvature.covariance === null) {
      identified = false;
      warnings.push(
        'the Hessian of the log-likelihood is not positive definite at the estimate: the parameters are not identified (flat or saddle likelihood); try a penalizer, more data or another model',
      );
    } else {
      const infinite = names.filter(
        (name) => !Number.isFinite((standardErrors as Record<string, number>)[name]!),
      );
      if (infinite.length > 0) {
        identified = false;
        warnings.push(
          `standard errors of ${infinite.join(', ')} are not finite: the parameters are not identified`,
        );
      }
    }
    // Covariance of θ = inverse Hessian of the total −LL; the mean objective's is N times larger.
    if (curvature.covariance && penalizer === 0) {
      inverseHessian = curvature.covariance.flatMap((row) => Array.from(row, (v) => v * problem.customers));
    }
  }
  if (!identified && options.requireIdentified) {
    throw new ModelFitError(
      [
        `${problem.model}: the fit found no identified maximum on ${problem.customers} customers:`,
        ...warnings.map((w) => `  ${w}`),
        FIT_ADVICE,
      ].join('\n'),
      { model: problem.model, attempts },
      'not-identified',
    );
  }
  return {
    model: problem.model,
    params,
    logLikelihood,
    standardErrors,
    converged: true,
    iterations: best.iterations,
    gradientNorm: best.gradientNorm,
    evaluations,
    customers: problem.customers,
    rows: problem.rows,
    penalizer,
    identified,
    warnings,
    inverseHessian,
  };
}

/**
 * Covariance of θ and standard errors of the natural-scale parameters: the inverse Hessian of −LL (total, unpenalised)
 * on θ = ln(params) is the covariance of θ, and SE(param) = param · SE(θ) (delta method).
 */
export function curvatureAt<P extends object>(
  problem: LikelihoodProblem,
  theta: Float64Array,
): { standardErrors: FitResult<P>['standardErrors']; covariance: Float64Array[] | null } {
  const names = problem.paramNames;
  const perCustomer = logSpaceObjective(problem, 0);
  const gradientOf = (t: Float64Array, out: Float64Array): void => {
    if (problem.hasGradient) {
      perCustomer(t, out);
    } else {
      const probe = Float64Array.from(t);
      for (let i = 0; i < t.length; i++) {
        const h = 1e-5 * Math.max(1, Math.abs(t[i]!));
        probe[i] = t[i]! + h;
        const up = perCustomer(probe);
        probe[i] = t[i]! - h;
        const down = perCustomer(probe);
        probe[i] = t[i]!;
        out[i] = (up - down) / (2 * h);
      }
    }
  };
  // Analytic gradients are exact enough for forward differences (n + 1 passes over the data instead
  // of 2n, which matters for a million rows); numeric ones need the symmetric form.
  let atTheta: Float64Array | undefined;
  if (problem.hasGradient) {
    atTheta = new Float64Array(theta.length);
    gradientOf(theta, atTheta);
  }
  const hessian = numericHessian(gradientOf, theta, atTheta).map((row) =>
    row.map((v) => v * problem.customers),
  );
  const covariance = invertSymmetricPositiveDefinite(hessian);
  const standardErrors = Object.fromEntries(
    names.map((name, i) => [
      name,
      covariance ? Math.exp(theta[i]!) * Math.sqrt(covariance[i]![i]!) : Number.NaN,
    ]),
  ) as unknown as FitResult<P>['standardErrors'];
  return { standardErrors, covariance };
}
