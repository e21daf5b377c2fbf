<?php

declare(strict_types=1);

namespace Pivot\Worker\Metrics;

use Pivot\Worker\PluginException;

/**
 * A metrics.* call failed on the server. The message is the server's error text, verbatim, e.g.
 * "metrics_plugin_add: undefined collector hits, try first Declare the desired collector".
 *
 * Transport failures (server unreachable, timeout) are {@see \Pivot\Worker\Rpc\RpcException}s and
 * are not wrapped. getMethod() names the RPC method that failed.
 */
class MetricsException extends PluginException
{
}
