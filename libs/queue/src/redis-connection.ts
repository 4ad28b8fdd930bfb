import { createIORedisClient, RedisConnection } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export interface QueueOptions {
  redisUrl: string;
  /** Key prefix of every queue (BullMQ `prefix`): lets several deployments or test files share one Redis. */
  prefix: string;
  /** Redis Cluster seed nodes (`host:port,…`, REDIS_CLUSTER_NODES); empty or absent: `redisUrl` is one server. */
  clusterNodes?: string;
}

/** The settings every app reads from its config, as QueueOptions. */
export function queueOptionsFromConfig(config: { REDIS_URL: string; REDIS_PREFIX: string; REDIS_CLUSTER_NODES?: string }): QueueOptions {
  return { redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX, clusterNodes: config.REDIS_CLUSTER_NODES };
}

/**
 * ioredis options from a redis:// or rediss:// URL. BullMQ gets options rather than a client, so that it
 * owns (and closes) every connection it opens when the app shuts down.
 */
export function redisOptionsFromUrl(redisUrl: string): RedisOptions {
  const url = new URL(redisUrl);
  const db = url.pathname.replace(/^\//, '');
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: db ? Number(db) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
  };
}

/** `host:port,…` → ioredis Cluster start-up nodes (an IPv6 host in brackets). */
export function parseClusterNodes(text: string | undefined): Array<{ host: string; port: number }> {
  return (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const separator = entry.lastIndexOf(':');
      const port = Number(entry.slice(separator + 1));
      if (separator <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`Redis Cluster node "${entry}" is not host:port`);
      }
      return { host: entry.slice(0, separator).replace(/^\[(.*)\]$/, '$1'), port };
    });
}

export function isClusterMode(options: Pick<QueueOptions, 'clusterNodes'>): boolean {
  return parseClusterNodes(options.clusterNodes).length > 0;
}

/**
 * The BullMQ prefix. On a Redis Cluster it is a hash tag (`{mw}`): BullMQ's Lua scripts touch several keys of a
 * queue at once, and a cluster runs a script only when all its keys hash to one slot. One tag for every queue keeps
 * any script that spans queues valid too; the price is that the queues live on one master (BullMQ's documented setup).
 */
export function queuePrefix(options: QueueOptions): string {
  return isClusterMode(options) ? `{${options.prefix}}` : options.prefix;
}

/** Mark BullMQ connection options whose client must be a Cluster (read by the client factory below). */
const CLUSTER_NODES = 'mailwardenClusterNodes';
const CLUSTER_OPTIONS = 'mailwardenQueueOptions';
/** Per-node options of a cluster: the URL's credentials and TLS; no database (a cluster has only 0). */
function clusterOptions(options: QueueOptions, overrides: RedisOptions = {}): ClusterOptions {
  const { db: _db, host: _host, port: _port, retryStrategy: _retry, ...perNode } = { ...redisOptionsFromUrl(options.redisUrl), ...overrides };
  return {
    redisOptions: perNode,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    // Commands issued while the slots are (re)loaded wait for them rather than fail.
    enableOfflineQueue: perNode.enableOfflineQueue ?? true,
    slotsRefreshTimeout: 2000,
  };
}

/**
 * BullMQ's `connection` and `prefix` for Queues and Workers. On one server: options, as before. On a cluster:
 * options marked with the seed nodes, from which the client factory builds an ioredis Cluster, so BullMQ still
 * owns (and closes) every connection it opens, the Workers' blocking connections included.
 */
export function bullQueueSettings(options: QueueOptions): { connection: never; prefix: string } {
  const nodes = parseClusterNodes(options.clusterNodes);
  const connection = nodes.length > 0 ? { ...redisOptionsFromUrl(options.redisUrl), [CLUSTER_NODES]: nodes, [CLUSTER_OPTIONS]: options } : redisOptionsFromUrl(options.redisUrl);
  return { connection: connection as never, prefix: queuePrefix(options) };
}


/**
 * A client for Mailwarden's own Redis use (rate limits, health): an ioredis Cluster on a cluster, else one Redis.
 * A Cluster routes each command (and each MULTI, whose keys must share a slot) to the master of its slot.
 */
export function createRedisClient(options: QueueOptions, overrides: RedisOptions = {}): Redis | Cluster {
  const nodes = parseClusterNodes(options.clusterNodes);
  if (nodes.length > 0) {
    const cluster = clusterOptions(options, overrides);
    return new Cluster(nodes, { ...cluster, lazyConnect: overrides.lazyConnect ?? false, enableOfflineQueue: overrides.enableOfflineQueue ?? true });
  }
  return new Redis({ ...redisOptionsFromUrl(options.redisUrl), ...overrides });
}

/**
 * BullMQ builds a client from connection options; this factory does what its default does (one ioredis client) and,
 * for options marked by bullQueueSettings, builds an ioredis Cluster over the seed nodes instead.
 */
RedisConnection.clientFactory = (opts) => {
  const { url, [CLUSTER_NODES]: nodes, [CLUSTER_OPTIONS]: queueOptions, ...rest } = opts as RedisOptions & { url?: string; [CLUSTER_NODES]?: Array<{ host: string; port: number }>; [CLUSTER_OPTIONS]?: QueueOptions };
  if (nodes && queueOptions) {
    // BullMQ sets maxRetriesPerRequest: null on blocking connections; keep whatever it decided for this one.
    return createIORedisClient(new Cluster(nodes, clusterOptions(queueOptions, { maxRetriesPerRequest: rest.maxRetriesPerRequest ?? null })));
  }
  return createIORedisClient(url ? new Redis(url, rest) : new Redis(rest));
};
