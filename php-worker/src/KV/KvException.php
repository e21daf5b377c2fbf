<?php

declare(strict_types=1);

namespace Pivot\Worker\KV;

use Pivot\Worker\PluginException;

/**
 * A kv.* call failed on the server (the message is the server's error text, verbatim, e.g.
 * "rpc_set:\n\tredis_driver_set: redis unavailable: connect 127.0.0.1:6379: Connection refused"),
 * or a stored value could not be unserialized.
 *
 * Transport failures (server unreachable, timeout) are {@see \Pivot\Worker\Rpc\RpcException}s and
 * are not wrapped. getMethod() names the RPC method that failed.
 */
class KvException extends PluginException
{
}
