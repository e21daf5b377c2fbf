<?php

declare(strict_types=1);

namespace Pivot\Worker;

/**
 * A request or response: context ("header", e.g. the JSON HTTP context) and body.
 * On the wire it is a frame with one option (strlen(header)) and payload header . body.
 */
final class Payload
{
    /**
     * @param string $header context bytes
     * @param string $body   body bytes
     * @param bool   $eos    end of stream; false marks a stream chunk (byte10 STREAM) with more to follow
     */
    public function __construct(
        public readonly string $header = '',
        public readonly string $body = '',
        public readonly bool $eos = true,
    ) {
    }
}
