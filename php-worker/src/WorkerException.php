<?php

declare(strict_types=1);

namespace Pivot\Worker;

/**
 * Base class of every error this library throws: protocol violations by the peer,
 * malformed control messages or request contexts.
 */
class WorkerException extends \RuntimeException
{
}
