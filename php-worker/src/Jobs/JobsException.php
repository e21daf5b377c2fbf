<?php

declare(strict_types=1);

namespace Pivot\Worker\Jobs;

use Pivot\Worker\PluginException;

/**
 * A jobs.* call failed on the server (the message is the server's error text, verbatim, e.g.
 * "no such pipeline, requested: mail" or "empty ID field not allowed"), or a task frame could not
 * be decoded.
 *
 * Transport failures (server unreachable, timeout) are {@see \Pivot\Worker\Rpc\RpcException}s and
 * are not wrapped. getMethod() names the RPC method that failed.
 */
class JobsException extends PluginException
{
}
