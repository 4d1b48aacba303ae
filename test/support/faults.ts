/**
 * Fault injection at the SDK layer: middleware on a client's `middlewareStack` that fails chosen calls
 * of a command the way AWS does (throttling, 5xx, timeouts, a connection reset while a body streams,
 * BatchWriteItem handing items back as UnprocessedItems). The code under test runs unchanged against
 * the real stand-ins; only the calls named here misbehave.
 *
 * Placement matters:
 * - `outside-retries` (default) fails the call after the SDK's own retries would have run, so the
 *   application sees every injected error (as when AWS keeps failing for longer than the SDK waits).
 * - `inside-retries` fails single HTTP attempts; the SDK retries them as it does in production, so
 *   with `afterSend` the request reached the service and only its answer was lost: the retry repeats
 *   a write that already happened.
 */
import type { BatchWriteItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { MiddlewareStack } from '@smithy/types';

export type FaultKind = 'throttling' | 'server-error' | 'timeout' | 'connection-reset' | 'access-denied';

export interface FaultRule {
  /** SDK command name as the middleware context names it, e.g. `PutObjectCommand`, `PutItemCommand`. */
  command: string;
  kind: FaultKind;
  /** How many matching calls fail (after `skip`). */
  times: number;
  /** Matching calls let through before the first failure. @default 0 */
  skip?: number;
  /** Fail after the request was sent and answered: the write happened, the caller sees an error. */
  afterSend?: boolean;
  /** Only calls whose input passes count as matching. */
  match?: (input: Record<string, unknown>) => boolean;
}

export interface FaultInjection {
  /** Matching calls seen, per rule (index as given). */
  readonly seen: number[];
  /** Errors injected, per rule. */
  readonly injected: number[];
  remove(): void;
}

export interface FaultOptions {
  /** @default 'outside-retries' */
  placement?: 'outside-retries' | 'inside-retries';
}

// biome-ignore lint/suspicious/noExplicitAny: middleware stacks are typed per client; any client's fits.
type AnyStack = MiddlewareStack<any, any>;

let nextId = 0;

/** The error AWS (or the Node HTTP handler) raises for a fault kind, with the SDK's metadata. */
export function faultError(kind: FaultKind, command: string): Error {
  const service = /Item|Query|Scan|Batch/.test(command) ? 'dynamodb' : 's3';
  const metadata = (httpStatusCode?: number) => ({
    $metadata: { httpStatusCode, requestId: `fault-${nextId}`, attempts: 1, totalRetryDelay: 0 },
  });
  switch (kind) {
    case 'throttling':
      return Object.assign(
        new Error(
          service === 'dynamodb'
            ? 'Rate of requests exceeds the allowed throughput.'
            : 'Please reduce your request rate.',
        ),
        {
          name: service === 'dynamodb' ? 'ThrottlingException' : 'SlowDown',
          $fault: 'client',
          $retryable: { throttling: true },
          ...metadata(service === 'dynamodb' ? 400 : 503),
        },
      );
    case 'server-error':
      return Object.assign(new Error('We encountered an internal error. Please try again.'), {
        name: service === 'dynamodb' ? 'InternalServerError' : 'InternalError',
        $fault: 'server',
        ...metadata(500),
      });
    case 'timeout':
      // What @smithy/node-http-handler raises when a request times out.
      return Object.assign(new Error('Connection timed out after 3000 ms'), {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
        ...metadata(),
      });
    case 'connection-reset':
      return Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET', ...metadata() });
    case 'access-denied':
      // A missing grant: not transient, and not the uploaded file's fault.
      return Object.assign(new Error('Access Denied'), {
        name: service === 'dynamodb' ? 'AccessDeniedException' : 'AccessDenied',
        $fault: 'client',
        ...metadata(403),
      });
  }
}

/** Adds fault rules to a client (S3Client, DynamoDBDocumentClient, ...); `remove()` takes them off. */
export function injectFaults(
  client: { middlewareStack: AnyStack },
  rules: FaultRule[],
  options: FaultOptions = {},
): FaultInjection {
  const name = `injectFaults${++nextId}`;
  const seen = rules.map(() => 0);
  const injected = rules.map(() => 0);
  const middleware =
    (
      next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
      context: { commandName?: string },
    ) =>
    async (args: { input: Record<string, unknown> }) => {
      const index = rules.findIndex(
        (rule) => rule.command === context.commandName && (!rule.match || rule.match(args.input)),
      );
      const rule = rules[index];
      if (!rule) return next(args);
      const call = ++seen[index]!;
      const skip = rule.skip ?? 0;
      if (call <= skip || call > skip + rule.times) return next(args);
      injected[index]!++;
      if (rule.afterSend) await next(args);
      throw faultError(rule.kind, rule.command);
    };
  if (options.placement === 'inside-retries') {
    client.middlewareStack.addRelativeTo(middleware as never, {
      name,
      relation: 'after',
      toMiddleware: 'retryMiddleware',
    });
  } else {
    client.middlewareStack.add(middleware as never, { step: 'initialize', name, priority: 'high' });
  }
  return { seen, injected, remove: () => void client.middlewareStack.remove(name) };
}

/**
 * GetObject answers whose body breaks off half-way with ECONNRESET, for the first `times` calls
 * (after `skip`): the reader got part of the file and must not take it for the whole file.
 */
export function injectBodyReset(
  s3: { middlewareStack: AnyStack },
  options: { times: number; skip?: number; match?: (input: Record<string, unknown>) => boolean },
): FaultInjection {
  const name = `injectBodyReset${++nextId}`;
  const seen = [0];
  const injected = [0];
  s3.middlewareStack.add(
    ((
      next: (args: { input: Record<string, unknown> }) => Promise<{ output: { Body?: unknown } }>,
      context: { commandName?: string },
    ) =>
      async (args: { input: Record<string, unknown> }) => {
        const result = await next(args);
        if (context.commandName !== 'GetObjectCommand' || (options.match && !options.match(args.input)))
          return result;
        const call = ++seen[0]!;
        const skip = options.skip ?? 0;
        if (call <= skip || call > skip + options.times) return result;
        injected[0]!++;
        const body = result.output.Body as AsyncIterable<Uint8Array> & { transformToByteArray?: unknown };
        const whole = await collect(body);
        const half = whole.subarray(0, Math.floor(whole.length / 2));
        const broken = (async function* () {
          yield half;
          throw faultError('connection-reset', 'GetObjectCommand');
        })();
        result.output.Body = Object.assign(broken, {
          transformToByteArray: async () => {
            throw faultError('connection-reset', 'GetObjectCommand');
          },
        });
        return result;
      }) as never,
    { step: 'initialize', name, priority: 'high' },
  );
  return { seen, injected, remove: () => void s3.middlewareStack.remove(name) };
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * BatchWriteItem under load: for the first `calls` calls (all when omitted), only the first half of
 * the items is written and the rest comes back as UnprocessedItems, as DynamoDB does when throttled.
 */
export function injectUnprocessedItems(
  dynamo: { middlewareStack: AnyStack },
  options: { calls?: number } = {},
): FaultInjection & { readonly deferredItems: number } {
  const name = `injectUnprocessedItems${++nextId}`;
  const seen = [0];
  const injected = [0];
  let deferredItems = 0;
  dynamo.middlewareStack.add(
    ((
      next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
      context: { commandName?: string },
    ) =>
      async (args: { input: Record<string, unknown> }) => {
        if (context.commandName !== 'BatchWriteItemCommand') return next(args);
        const call = ++seen[0]!;
        const input = args.input as unknown as BatchWriteItemCommandInput;
        const entry = Object.entries(input.RequestItems ?? {})[0];
        if ((options.calls !== undefined && call > options.calls) || !entry || entry[1].length < 2)
          return next(args);
        const [table, requests] = entry;
        const keep = requests.slice(0, Math.ceil(requests.length / 2));
        const unprocessed = requests.slice(keep.length);
        injected[0]!++;
        deferredItems += unprocessed.length;
        const result = await next({ ...args, input: { ...input, RequestItems: { [table]: keep } } });
        const previous = (result.output.UnprocessedItems ?? {}) as Record<string, unknown[]>;
        result.output.UnprocessedItems = {
          ...previous,
          [table]: [...(previous[table] ?? []), ...unprocessed],
        };
        return result;
      }) as never,
    { step: 'initialize', name, priority: 'high' },
  );
  return {
    seen,
    injected,
    get deferredItems() {
      return deferredItems;
    },
    remove: () => void dynamo.middlewareStack.remove(name),
  };
}
