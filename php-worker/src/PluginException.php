<?php

declare(strict_types=1);

namespace Pivot\Worker;

/**
 * A call to a server plugin (jobs.*, kv.*, metrics.*) failed on the server, or its answer could
 * not be decoded. The message is the server's error text, verbatim; each plugin client throws its
 * own subclass ({@see Jobs\JobsException}, {@see KV\KvException}, {@see Metrics\MetricsException}).
 *
 * Transport failures (server unreachable, timeout) are {@see Rpc\RpcException}s and are not wrapped.
 */
abstract class PluginException extends WorkerException
{
    public function __construct(
        string $message,
        private readonly string $method = '',
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, 0, $previous);
    }

    /** The RPC method that failed (e.g. "jobs.Push"), or "" for errors that are not RPC replies. */
    public function getMethod(): string
    {
        return $this->method;
    }
}
