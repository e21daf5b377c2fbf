<?php

declare(strict_types=1);

namespace Pivot\Worker\KV;

use Pivot\Worker\WorkerException;

/**
 * A kv.* call failed on the server (the message is the server's error text, verbatim, e.g.
 * "rpc_set:\n\tredis_driver_set: redis unavailable: connect 127.0.0.1:6379: Connection refused"),
 * or a stored value could not be unserialized.
 *
 * Transport failures (server unreachable, timeout) are {@see \Pivot\Worker\Rpc\RpcException}s and
 * are not wrapped.
 */
class KvException extends WorkerException
{
    public function __construct(
        string $message,
        private readonly string $method = '',
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, 0, $previous);
    }

    /** The RPC method that failed ("kv.MGet"), or "" for client-side errors. */
    public function getMethod(): string
    {
        return $this->method;
    }
}
