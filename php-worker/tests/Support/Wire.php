<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Support;

/**
 * Test-side helpers that build frames byte by byte, independently of Pivot\Worker\Frame.
 */
final class Wire
{
    /**
     * @param int[] $options
     */
    public static function frame(int $flags, array $options, string $payload, int $byte10 = 0): string
    {
        $len = strlen($payload);
        $head = chr(0x10 | (3 + count($options))) . chr($flags)
            . chr($len & 0xFF) . chr(($len >> 8) & 0xFF) . chr(($len >> 16) & 0xFF) . chr(($len >> 24) & 0xFF);
        $crc = crc32($head);
        $head .= chr($crc & 0xFF) . chr(($crc >> 8) & 0xFF) . chr(($crc >> 16) & 0xFF) . chr(($crc >> 24) & 0xFF);
        $head .= chr($byte10) . "\0";
        foreach ($options as $o) {
            $head .= chr($o & 0xFF) . chr(($o >> 8) & 0xFF) . chr(($o >> 16) & 0xFF) . chr(($o >> 24) & 0xFF);
        }

        return $head . $payload;
    }

    /** A request frame as the server sends it: one option (context length), context . body. */
    public static function request(string $context, string $body = ''): string
    {
        return self::frame(0, [strlen($context)], $context . $body);
    }

    public static function pidRequest(int $pid = 12345): string
    {
        return self::frame(0x09, [], '{"pid":' . $pid . '}');
    }

    public static function stopControl(): string
    {
        return self::frame(0x09, [], '{"stop":true}');
    }

    /**
     * @return resource a php://temp stream holding $bytes, rewound
     */
    public static function input(string $bytes)
    {
        $stream = fopen('php://temp', 'w+b');
        fwrite($stream, $bytes);
        rewind($stream);

        return $stream;
    }

    /**
     * @param resource $stream
     */
    public static function contents($stream): string
    {
        rewind($stream);

        return (string) stream_get_contents($stream);
    }

    /**
     * A realistic JSON request context as pivot-server / RoadRunner sends it.
     *
     * @param array<string, mixed> $overrides
     */
    public static function httpContext(array $overrides = []): string
    {
        return json_encode($overrides + [
            'remoteAddr' => '10.1.2.3',
            'protocol' => 'HTTP/1.1',
            'method' => 'POST',
            'uri' => 'http://example.test:8080/api/items?a=1&b[]=2&b[]=3',
            'headers' => [
                'Accept' => ['application/json', 'text/plain'],
                'Content-Type' => ['application/json'],
                'Content-Length' => ['13'],
                'Cookie' => ['session=abc; theme=dark'],
                'X-Forwarded-For' => ['1.1.1.1', '2.2.2.2'],
            ],
            'cookies' => ['session' => 'abc', 'theme' => 'dark'],
            'rawQuery' => 'a=1&b[]=2&b[]=3',
            'parsed' => false,
            'uploads' => null,
            'attributes' => (object) [],
        ], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
    }
}
