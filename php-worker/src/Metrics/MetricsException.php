<?php

declare(strict_types=1);

namespace Pivot\Worker\Metrics;

use Pivot\Worker\WorkerException;

/**
 * A metrics.* call failed on the server. The message is the server's error text, verbatim, e.g.
 * "metrics_plugin_add: undefined collector hits, try first Declare the desired collector".
 *
 * Transport failures (server unreachable, timeout) are {@see \Pivot\Worker\Rpc\RpcException}s and
 * are not wrapped.
 */
class MetricsException extends WorkerException
{
    public function __construct(
        string $message,
        private readonly string $method = '',
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, 0, $previous);
    }

    /** The RPC method that failed ("metrics.Add"). */
    public function getMethod(): string
    {
        return $this->method;
    }
}
