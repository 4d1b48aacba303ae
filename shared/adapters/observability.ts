/**
 * Logging and metrics for every Lambda and the local runner, set up in one place: one Powertools
 * Logger and Metrics per service and process (module scope, reused by warm containers), and the
 * middy middlewares that add the Lambda context to log lines and flush metrics after each call.
 * Tracing is X-Ray active tracing, switched on per function by the CDK app.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { AppLogger } from '../app/ports/logger.ts';

/** The three services; also the `service` dimension of metrics and the `service` key of log lines. */
export type CvmService = 'cvm-ingest' | 'cvm-recalc' | 'cvm-api' | 'cvm-erasure';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  /** The logger as the application services' port. */
  appLogger: AppLogger;
  /**
   * middy middlewares: Lambda context on every log line and, unless `metrics: false`, metrics flushed
   * after each invocation (a service that records no metrics would log a warning on every call).
   */
  middlewares(options?: { metrics?: boolean }): MiddlewareObj[];
}

const services = new Map<CvmService, Observability>();

/**
 * The service's logger and metrics, created on first use. Namespace and log level come from the
 * standard Powertools variables (`POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_LOG_LEVEL`) set by the
 * CDK app; locally they default to Powertools' own defaults.
 */
export function observability(service: CvmService): Observability {
  let found = services.get(service);
  if (!found) {
    const logger = new Logger({ serviceName: service });
    const metrics = new Metrics({ serviceName: service });
    const appLogger = toAppLogger(logger);
    found = {
      logger,
      metrics,
      appLogger,
      middlewares: ({ metrics: withMetrics = true } = {}) =>
        withMetrics ? [injectLambdaContext(logger), logMetrics(metrics)] : [injectLambdaContext(logger)],
    };
    services.set(service, found);
  }
  return found;
}

/** Powertools takes extra attributes as a rest argument; an absent one must not become `undefined`. */
export function toAppLogger(logger: Logger): AppLogger {
  return {
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
    error: (message, attributes) => logger.error(message, attributes ?? {}),
  };
}
