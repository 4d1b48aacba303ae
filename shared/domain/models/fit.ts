/**
 * Generic maximum-likelihood harness shared by every model: optimisation on log-parameters (keeps
 * every parameter positive without constraints), weighted data, optional L2 penalty, several
 * starts, standard errors from a numeric Hessian, and an actionable error when nothing converges.
 */
import { CvmError } from '../errors.ts';
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
}

/** A fit that did not converge (or could not be evaluated); the message says what to try. */
export class ModelFitError extends CvmError {
  override readonly name = 'ModelFitError';
  readonly code = 'model_fit_failed';
  constructor(
    message: string,
    readonly details: { model: string; attempts: readonly MinimizeResult[] },
  ) {
    super(message);
  }
}

/** Objective on θ = ln(params): −LL/N + λ Σ params², with its gradient with respect to θ. */
export function logSpaceObjective(problem: LikelihoodProblem, penalizer: number) {
  const n = problem.paramNames.length;
  const params = new Float64Array(n);
  const naturalGradient = new Float64Array(n);
  const scale = 1 / problem.customers;
  return (theta: Float64Array, gradient?: Float64Array): number => {
    for (let i = 0; i < n; i++) params[i] = Math.exp(theta[i]!);
    const wantGradient = gradient !== undefined && problem.hasGradient;
    const ll = problem.logLikelihood(params, wantGradient ? naturalGradient : undefined);
    let penalty = 0;
    for (let i = 0; i < n; i++) penalty += params[i]! * params[i]!;
    if (gradient && wantGradient) {
      for (let i = 0; i < n; i++) {
        const p = params[i]!;
        gradient[i] = -naturalGradient[i]! * p * scale + penalizer * 2 * p * p;
      }
    }
    return -ll * scale + penalizer * penalty;
  };
}

function describe(start: readonly number[], names: readonly string[]): string {
  return names.map((name, i) => `${name}=${start[i]}`).join(', ');
}

/**
 * Fits `problem` by maximum likelihood from every start and keeps the converged fit with the best
 * penalised objective. Throws `ModelFitError` when no start converges. To finish a fit begun on a
 * subsample, pass that fit's parameters as the only start.
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
  const objective = logSpaceObjective(problem, penalizer);
  const minimizeOptions = {
    gradientTolerance: options.gradientTolerance ?? 1e-7,
    maxIterations: options.maxIterations ?? 500,
    numericGradient: !problem.hasGradient,
    ...(options.initialInverseHessian ? { initialInverseHessian: options.initialInverseHessian } : {}),
  };
  const attempts: MinimizeResult[] = [];
  let best: MinimizeResult | null = null;
  let evaluations = 0;
  for (const start of starts) {
    const result = minimize(objective, start.map(Math.log), minimizeOptions);
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
        'other starting values; and check the time unit (recency and T in the same unit, e.g. weeks, with recency ≤ T).',
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
  if (!options.skipStandardErrors) {
    const curvature = curvatureAt<P>(problem, best.x);
    standardErrors = curvature.standardErrors;
    // Covariance of θ = inverse Hessian of the total −LL; the mean objective's is N times larger.
    if (curvature.covariance && penalizer === 0) {
      inverseHessian = curvature.covariance.flatMap((row) => Array.from(row, (v) => v * problem.customers));
    }
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
