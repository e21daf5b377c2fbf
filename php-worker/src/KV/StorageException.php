<?php

declare(strict_types=1);

namespace Pivot\Worker\KV;

/**
 * The server has no storage of this name (its `kv:` config lacks it). The message is the server's
 * text, e.g. "rpc_mget: no such storage: sessions".
 */
final class StorageException extends KvException
{
}
