<?php

declare(strict_types=1);

namespace Pivot\Worker\Http;

/**
 * Thrown into a response generator when the server stopped the stream (the client went away).
 * Catch it in the generator to stop producing chunks; `finally` blocks run either way.
 */
final class StreamStoppedException extends \RuntimeException
{
    public function __construct(string $message = 'The server stopped the response stream (the client went away)')
    {
        parent::__construct($message);
    }
}
