<?php

declare(strict_types=1);

namespace Pivot\Worker\Rpc;

/**
 * The server answered a call with an error reply (ERROR flag). The connection stays usable.
 *
 * The message reads "Error '<server text>' on <address> (<method>)", like RoadRunner's PHP SDK;
 * {@see getServerError()} returns the server's text verbatim.
 */
final class ServiceException extends RpcException
{
    public function __construct(
        private readonly string $serverError,
        private readonly string $method,
        string $address,
    ) {
        parent::__construct(sprintf("Error '%s' on %s (%s)", $serverError, $address, $method));
    }

    /** The error text exactly as the server sent it (e.g. "rpc: can't find service foo"). */
    public function getServerError(): string
    {
        return $this->serverError;
    }

    /** The full method name that was called, e.g. "informer.Workers". */
    public function getMethod(): string
    {
        return $this->method;
    }
}
