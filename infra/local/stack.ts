/**
 * The embedded local stack: s3rver and dynalite on loopback with the bucket, table and SDK clients,
 * shared between a running `cvm up` and the other CLI commands.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { type AwsClients, createAwsClients } from '#adapters/aws-clients.ts';
import { configToEnv, type RuntimeConfig, runtimeConfigSchema } from '#adapters/config.ts';
import { ensureTable } from '#adapters/dynamo/table.ts';
import { encodeS3EventKey } from '#domain/s3-key.ts';
import { lockStackHome } from './process-lock.ts';
import { installS3rverContinuationTokenFix } from './s3rver-compat.ts';
import { compactTableIfRequested } from './table-compaction.ts';

export interface LocalStackOptions {
  /**
   * State directory. When given, S3 objects live under `<home>/s3` and DynamoDB under `<home>/dynamodb`
   * and survive restarts. When omitted, a temporary directory is used and DynamoDB is in memory.
   */
  home?: string;
  /** @default 0 (a free port) */
  s3Port?: number;
  /** @default 0 (a free port) */
  dynamoPort?: number;
  /** @default 'cvm-local' */
  bucket?: string;
  /** @default 'cvm' */
  table?: string;
  /** @default 'EUR' */
  defaultCurrency?: string;
}

/** An S3 ObjectCreated notification as AWS delivers it: the key is URL-encoded. */
export interface LocalObjectCreated {
  bucket: string;
  /** Form-URL-encoded key, exactly as in a real S3 event record. */
  encodedKey: string;
  size: number;
  eTag: string;
  eventTime: string;
}

export interface LocalStack {
  config: RuntimeConfig;
  clients: AwsClients;
  /** Environment variables that make `configFromEnv()` return {@link LocalStack.config}. */
  env: Record<string, string>;
  /** Subscribe to ObjectCreated events of the local bucket; returns an unsubscribe function. */
  onObjectCreated(listener: (event: LocalObjectCreated) => void): () => void;
  stop(): Promise<void>;
}

/**
 * Starts the embedded stand-ins on loopback: s3rver (S3) and dynalite (DynamoDB), creates the bucket
 * and the table, and builds SDK clients pointed at them. DuckDB needs no server: adapters open it
 * in-process. Used by `npm start`, the CLI and integration tests alike.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  installS3rverContinuationTokenFix();
  const ownsTemp = options.home === undefined;
  const home = options.home ? resolve(options.home) : await mkdtemp(join(tmpdir(), 'cvm-local-'));
  const s3Dir = join(home, 's3');
  mkdirSync(s3Dir, { recursive: true });
  // dynalite's LevelDB files open in one process only: a second process must be told, not crash.
  const unlockHome = ownsTemp ? () => {} : lockStackHome(home);
  const tableDirectory = join(home, 'dynamodb');
  // An erasure made while another process had the table open is purged from its files now.
  if (!ownsTemp) {
    try {
      await compactTableIfRequested(home, tableDirectory);
    } catch (error) {
      unlockHome();
      throw error;
    }
  }

  const dynamoServer = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(ownsTemp ? {} : { path: tableDirectory }),
  });
  try {
    await new Promise<void>((resolveListen, reject) => {
      dynamoServer.once('error', reject);
      dynamoServer.listen(options.dynamoPort ?? 0, '127.0.0.1', () => resolveListen());
    });
  } catch (error) {
    unlockHome();
    throw error;
  }
  const dynamoPort = (dynamoServer.address() as AddressInfo).port;

  const s3Server = new S3rver({
    address: '127.0.0.1',
    port: options.s3Port ?? 0,
    silent: true,
    directory: s3Dir,
    // Path-style only: virtual-host buckets would need DNS for *.localhost.
    vhostBuckets: false,
  });
  let s3Address: AddressInfo;
  try {
    s3Address = (await s3Server.run()) as AddressInfo;
  } catch (error) {
    await new Promise((r) => dynamoServer.close(r));
    unlockHome();
    throw error;
  }

  const config = runtimeConfigSchema.parse({
    region: 'eu-west-1',
    bucket: options.bucket ?? 'cvm-local',
    table: options.table ?? 'cvm',
    s3Endpoint: `http://127.0.0.1:${s3Address.port}`,
    dynamoEndpoint: `http://127.0.0.1:${dynamoPort}`,
    localCredentials: true,
    defaultCurrency: options.defaultCurrency ?? 'EUR',
    home,
  });
  const clients = createAwsClients(config);

  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: config.bucket }));
  } catch {
    await clients.s3.send(new CreateBucketCommand({ Bucket: config.bucket }));
  }
  await ensureTable(clients.dynamo, config.table);

  const listeners = new Set<(event: LocalObjectCreated) => void>();
  s3Server.on('event', (event: S3rverEvent) => {
    for (const record of event.Records ?? []) {
      if (!record.eventName?.startsWith('ObjectCreated')) continue;
      const created: LocalObjectCreated = {
        bucket: record.s3.bucket.name,
        // s3rver hands out raw keys; real S3 encodes them. Encode so handlers see the AWS shape.
        encodedKey: encodeS3EventKey(record.s3.object.key),
        size: record.s3.object.size ?? 0,
        eTag: record.s3.object.eTag ?? '',
        eventTime: record.eventTime ?? new Date().toISOString(),
      };
      for (const listener of listeners) listener(created);
    }
  });

  let stopped = false;
  return {
    config,
    clients,
    env: configToEnv(config),
    onObjectCreated(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      listeners.clear();
      for (const client of Object.values(clients)) client.destroy();
      await s3Server.close();
      await new Promise((r) => dynamoServer.close(r));
      // Deleted items (an erasure) leave the table's files once it is closed.
      if (!ownsTemp) await compactTableIfRequested(home, tableDirectory).finally(unlockHome);
      else unlockHome();
      if (ownsTemp) await rm(home, { recursive: true, force: true });
    },
  };
}

interface S3rverEvent {
  Records?: Array<{
    eventName?: string;
    eventTime?: string;
    s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
  }>;
}

/** What a running `cvm up` writes to `<home>/stack.json` so other CLI commands can use its stack. */
interface StackFile {
  pid: number;
  config: RuntimeConfig;
}

const stackFile = (home: string) => join(resolve(home), 'stack.json');

/**
 * For CLI commands: use the stack a running `cvm up` already serves from `home` (dynalite's LevelDB
 * files can be opened by one process only), or start one of our own when none is running.
 * `stop()` on a borrowed stack only releases the clients.
 */
export async function useLocalStack(
  home: string,
  options: Omit<LocalStackOptions, 'home'> = {},
): Promise<LocalStack> {
  const running = readRunningStack(home);
  if (running) {
    const clients = createAwsClients(running.config);
    try {
      await clients.s3.send(new HeadBucketCommand({ Bucket: running.config.bucket }));
      return {
        config: running.config,
        clients,
        env: configToEnv(running.config),
        onObjectCreated() {
          throw new Error('ObjectCreated events are only delivered inside the process that runs the stack');
        },
        async stop() {
          for (const client of Object.values(clients)) client.destroy();
        },
      };
    } catch {
      for (const client of Object.values(clients)) client.destroy();
      // The file is stale (the process died without cleaning up): start our own below.
    }
  }
  return startLocalStack({ ...options, home });
}

/** Marks the stack as served by this process, for {@link useLocalStack}; returns the cleanup. */
export function advertiseLocalStack(stack: LocalStack): () => void {
  const home = stack.config.home;
  if (!home) throw new Error('Only a stack with a home directory can be advertised');
  const file = stackFile(home);
  writeFileSync(
    file,
    JSON.stringify({ pid: process.pid, config: stack.config } satisfies StackFile, null, 2),
  );
  return () => {
    if (readRunningStack(home)?.pid === process.pid) rmSync(file, { force: true });
  };
}

function readRunningStack(home: string): StackFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(stackFile(home), 'utf8')) as StackFile;
    process.kill(parsed.pid, 0); // throws when the process is gone
    return { pid: parsed.pid, config: runtimeConfigSchema.parse(parsed.config) };
  } catch {
    return undefined;
  }
}
