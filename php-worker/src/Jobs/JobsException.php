<?php

declare(strict_types=1);

namespace Pivot\Worker\Jobs;

use Pivot\Worker\WorkerException;

/**
 * A jobs.* call failed on the server (the message is the server's error text, verbatim, e.g.
 * "no such pipeline, requested: mail" or "empty ID field not allowed"), or a task frame could not
 * be decoded.
 *
 * Transport failures (server unreachable, timeout) are {@see \Pivot\Worker\Rpc\RpcException}s and
 * are not wrapped.
 */
class JobsException extends WorkerException
{
    public function __construct(
        string $message,
        private readonly string $method = '',
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, 0, $previous);
    }

    /** The RPC method that failed ("jobs.Push"), or "" for errors that are not RPC replies. */
    public function getMethod(): string
    {
        return $this->method;
    }
}
