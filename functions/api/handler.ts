/**
 * Lambda entry points of the scores API, one per function in AWS: `readHandler` serves the public and
 * read routes (read-only table access), `adminHandler` the admin routes (erasure writes, starting a
 * recalculation). Both wrap the same request pipeline (app.ts); the route table decides which routes
 * each serves, and each refuses the other's. Configuration and clients are built once per container.
 */
import { createDynamoClients, createSfnClient } from '#adapters/aws-clients.ts';
import { configFromEnv } from '#adapters/config.ts';
import { observability } from '#adapters/observability.ts';
import { createAwsAdminOperations } from './admin.ts';
import { type ApiHandler, createApiHandler } from './app.ts';

const config = configFromEnv();
// Only the clients the API uses, so its bundle leaves the S3, Athena and EventBridge clients out.
const clients = createDynamoClients(config);
const { appLogger, middlewares: observabilityMiddlewares } = observability('cvm-api');
// The Lambda context on every log line. The API publishes no metrics of its own (API Gateway's are
// enough), and Powertools' `logMetrics` would log a warning about that on every request.
const middlewares = () => observabilityMiddlewares({ metrics: false });

export const readHandler: ApiHandler = createApiHandler({
  config,
  clients,
  serves: 'read',
  logger: appLogger,
  middlewares: middlewares(),
});

export const adminHandler: ApiHandler = createApiHandler({
  config,
  clients,
  serves: 'admin',
  admin: createAwsAdminOperations(config, { ...clients, sfn: createSfnClient(config) }),
  logger: appLogger,
  middlewares: middlewares(),
});
