<?php

declare(strict_types=1);

namespace Pivot\Worker\Http;

use Pivot\Worker\WorkerException;

/**
 * A request frame arrived but its context (or parsed body) could not be decoded. The frame stream
 * is intact and the server is waiting for an answer: reply, e.g. with Worker::error(), and go on.
 */
final class BadRequestException extends WorkerException
{
}
