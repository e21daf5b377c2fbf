<?php

declare(strict_types=1);

namespace Pivot\Worker\Rpc;

use Pivot\Worker\WorkerException;

/**
 * An RPC call failed in transport: the server could not be reached, did not answer in time, closed
 * the connection, or sent a reply that is not a valid goridge RPC frame (bad CRC, wrong option
 * count, wrong sequence id, undecodable JSON). The client drops the connection; the next call
 * reconnects.
 *
 * {@see ServiceException} (a subclass) is different: the server answered with an error.
 */
class RpcException extends WorkerException
{
}
