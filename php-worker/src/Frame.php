<?php

declare(strict_types=1);

namespace Pivot\Worker;

/**
 * One goridge v3 frame.
 *
 * Wire layout (all integers little-endian):
 *
 *     byte 0      0x10 | HL          version 1, HL = 3 + count(options) (32-bit words)
 *     byte 1      flags
 *     bytes 2..5  payload length     uint32, options not included
 *     bytes 6..9  CRC-32 of bytes 0..5
 *     byte 10     stream bits (STREAM, STOP, PING, PONG)
 *     byte 11     0
 *     then        options, uint32 each (at most 10)
 *     then        payload
 */
final class Frame
{
    // Flags (byte 1).
    public const CONTROL = 0x01;
    public const CODEC_RAW = 0x04;
    public const CODEC_JSON = 0x08;
    public const CODEC_MSGPACK = 0x10;
    public const CODEC_GOB = 0x20;
    public const ERROR = 0x40;
    public const CODEC_PROTO = 0x80;

    // Stream bits (byte 10).
    public const STREAM = 0x01;
    public const STOP = 0x02;
    public const PING = 0x04;
    public const PONG = 0x08;

    public const VERSION = 1;
    public const HEADER_SIZE = 12;
    public const MAX_OPTIONS = 10;
    public const MAX_PAYLOAD = 0xFFFFFFFF;

    /**
     * @param int   $flags   byte 1, 0..255
     * @param int[] $options uint32 words, at most 10
     * @param string $payload raw bytes
     * @param int   $byte10  stream bits, 0..255
     */
    public function __construct(
        public readonly int $flags = 0,
        public readonly array $options = [],
        public readonly string $payload = '',
        public readonly int $byte10 = 0,
    ) {
        if ($flags < 0 || $flags > 0xFF) {
            throw new \InvalidArgumentException("Frame flags out of range: $flags");
        }
        if ($byte10 < 0 || $byte10 > 0xFF) {
            throw new \InvalidArgumentException("Frame byte10 out of range: $byte10");
        }
        if ($options === []) {
            return;
        }
        if (\count($options) > self::MAX_OPTIONS) {
            throw new \InvalidArgumentException(
                'A frame carries at most ' . self::MAX_OPTIONS . ' options, got ' . \count($options)
            );
        }
        if (!\array_is_list($options)) {
            throw new \InvalidArgumentException('Frame options must be a list');
        }
        foreach ($options as $option) {
            if (!\is_int($option) || $option < 0 || $option > 0xFFFFFFFF) {
                throw new \InvalidArgumentException('Frame options must be uint32 integers');
            }
        }
    }

    public function hasFlag(int $flag): bool
    {
        return ($this->flags & $flag) === $flag;
    }

    /**
     * Serializes a frame: header, options and payload as one string.
     */
    public static function encode(Frame $frame): string
    {
        return self::encodeParts($frame->flags, $frame->options, $frame->payload, $frame->byte10);
    }

    /**
     * Serializes a frame from its parts without building a Frame (the per-request write path).
     * The caller guarantees what the constructor checks: flags and byte10 in 0..255, at most 10
     * uint32 options.
     *
     * @param int[] $options
     */
    public static function encodeParts(int $flags, array $options, string $payload, int $byte10 = 0): string
    {
        $length = \strlen($payload);
        if ($length > self::MAX_PAYLOAD) {
            throw new \InvalidArgumentException("Frame payload too large: $length bytes");
        }
        $count = \count($options);
        $head = \pack('CCV', (self::VERSION << 4) | (3 + $count), $flags, $length);
        $head .= \pack('VCC', \crc32($head), $byte10, 0);
        if ($count === 1) {
            $head .= \pack('V', $options[0]);
        } elseif ($count > 0) {
            $head .= \pack('V*', ...$options);
        }

        return $head . $payload;
    }

    /**
     * Parses and validates a 12-byte frame header (version, HL, CRC).
     *
     * @return array{version: int, hl: int, flags: int, payloadLength: int, crc: int,
     *               byte10: int, byte11: int, optionCount: int}
     *
     * @throws RelayException when the header is not a valid goridge v3 header
     */
    public static function decodeHeader(string $header): array
    {
        if (strlen($header) !== self::HEADER_SIZE) {
            throw new RelayException(sprintf(
                'Frame header must be %d bytes, got %d',
                self::HEADER_SIZE,
                strlen($header)
            ));
        }
        /** @var array{b0: int, flags: int, length: int, crc: int, byte10: int, byte11: int} $h */
        $h = unpack('Cb0/Cflags/Vlength/Vcrc/Cbyte10/Cbyte11', $header);
        $version = $h['b0'] >> 4;
        $hl = $h['b0'] & 0x0F;
        $computed = crc32(substr($header, 0, 6));
        if ($computed !== $h['crc']) {
            throw new RelayException(sprintf(
                'Frame header CRC mismatch (computed 0x%08x, header says 0x%08x): '
                . 'the stream is corrupt or not goridge frames; header bytes: %s',
                $computed,
                $h['crc'],
                self::hexdump($header)
            ));
        }
        if ($version !== self::VERSION) {
            throw new RelayException(sprintf(
                'Unsupported frame protocol version %d (expected %d); header bytes: %s',
                $version,
                self::VERSION,
                self::hexdump($header)
            ));
        }
        if ($hl < 3 || $hl > 3 + self::MAX_OPTIONS) {
            throw new RelayException(sprintf(
                'Invalid frame header length HL=%d (must be 3..%d); header bytes: %s',
                $hl,
                3 + self::MAX_OPTIONS,
                self::hexdump($header)
            ));
        }

        return [
            'version' => $version,
            'hl' => $hl,
            'flags' => $h['flags'],
            'payloadLength' => $h['length'],
            'crc' => $h['crc'],
            'byte10' => $h['byte10'],
            'byte11' => $h['byte11'],
            'optionCount' => $hl - 3,
        ];
    }

    /**
     * Space-separated hex of (at most the first 64 bytes of) a string, for error messages.
     */
    public static function hexdump(string $bytes, int $max = 64): string
    {
        $shown = substr($bytes, 0, $max);
        $hex = trim(chunk_split(bin2hex($shown), 2, ' '));

        return strlen($bytes) > $max ? $hex . ' …' : $hex;
    }
}
