<?php

declare(strict_types=1);

namespace Pivot\Worker;

/**
 * The frame channel is broken: a corrupt, truncated or invalid frame was read, or a write
 * failed. The worker cannot recover from it and should exit; the server spawns a new one.
 */
class RelayException extends WorkerException
{
}
