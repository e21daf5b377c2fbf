<?php

declare(strict_types=1);

namespace Pivot\Worker;

/**
 * Goridge v3 frames over a pair of blocking streams (by default the process's STDIN and STDOUT).
 */
final class Relay
{
    /** Largest single fread() request while reading a payload. */
    private const READ_CHUNK = 1 << 20;

    /** @var resource */
    private $in;

    /** @var resource */
    private $out;

    /** True when reads on $in never go past the bytes asked for (an unbuffered pipe). */
    private bool $exactReads = false;

    /**
     * @param resource|null $in  stream frames are read from (default STDIN)
     * @param resource|null $out stream frames are written to (default STDOUT)
     */
    public function __construct($in = null, $out = null)
    {
        $in ??= \STDIN;
        $out ??= \STDOUT;
        if (!is_resource($in) || !is_resource($out)) {
            throw new \InvalidArgumentException('Relay needs two open stream resources');
        }
        $this->in = $in;
        $this->out = $out;
        // On a pipe, read exactly what each frame needs instead of PHP's 8 KiB read-ahead: a request
        // the server queued behind the current one then stays in the pipe, where the server can take
        // it back if this request turns slow (pivot-server's pipelining; see readsExactly()).
        $stat = @\fstat($in);
        if ($stat !== false && ($stat['mode'] & 0170000) === 0010000) {
            $this->exactReads = \stream_set_read_buffer($in, 0) === 0;
        }
    }

    /**
     * True when this relay reads its input pipe unbuffered, never past the end of the frame it is
     * reading. The worker then says `"exact_reads":true` in its pid handshake, which lets
     * pivot-server write requests behind the current one.
     */
    public function readsExactly(): bool
    {
        return $this->exactReads;
    }

    /**
     * Writes the whole frame (header, options and payload in one buffer).
     *
     * @throws RelayException when the stream is closed or a write fails
     */
    public function send(Frame $frame): void
    {
        $this->sendBytes(Frame::encode($frame));
    }

    /**
     * Writes an already encoded frame ({@see Frame::encodeParts()}) whole.
     *
     * @throws RelayException when the stream is closed or a write fails
     */
    public function sendBytes(string $data): void
    {
        $length = \strlen($data);
        $written = 0;
        $n = @\fwrite($this->out, $data);
        while (true) {
            if ($n === false || $n === 0) {
                throw new RelayException(\sprintf(
                    'Failed to write a frame (%d of %d bytes written)%s',
                    $written,
                    $length,
                    self::lastError()
                ));
            }
            $written += $n;
            if ($written >= $length) {
                break;
            }
            // A short write (non-blocking or signal-interrupted stream): write the rest.
            $n = @\fwrite($this->out, \substr($data, $written));
        }
        \fflush($this->out);
    }

    /**
     * Reads one frame. Returns null on a clean end of stream (EOF before the first header byte).
     *
     * @throws RelayException on a truncated frame or an invalid header (CRC, version, HL)
     */
    public function receive(): ?Frame
    {
        $parts = $this->receiveParts();

        return $parts === null ? null : new Frame($parts[0], $parts[1], $parts[2], $parts[3]);
    }

    /**
     * {@see receive()} without building a Frame: [flags, options, payload, byte10] (the
     * per-request read path of {@see Worker}).
     *
     * @return array{0: int, 1: list<int>, 2: string, 3: int}|null
     *
     * @throws RelayException on a truncated frame or an invalid header (CRC, version, HL)
     */
    public function receiveParts(): ?array
    {
        $header = @\fread($this->in, Frame::HEADER_SIZE);
        if ($header === false || \strlen($header) !== Frame::HEADER_SIZE) {
            $header = $this->readRest($header === false ? '' : $header, Frame::HEADER_SIZE, true, 'header');
            if ($header === null) {
                return null;
            }
        }
        // The hot path of every request: a few byte reads, one CRC and one read for options and
        // payload together. Anything unusual goes through Frame::decodeHeader() for its precise error.
        $b0 = \ord($header[0]);
        $optionCount = ($b0 & 0x0F) - 3;
        $words = \unpack('V2', $header, 2); // [1 => payload length, 2 => CRC]
        if (($b0 & 0xF0) !== 0x10 || $optionCount < 0 || $optionCount > Frame::MAX_OPTIONS
            || \crc32(\substr($header, 0, 6)) !== $words[2]) {
            Frame::decodeHeader($header); // throws the precise error
        }

        $length = $words[1];
        $flags = \ord($header[1]);
        $byte10 = \ord($header[10]);
        if ($optionCount === 0) {
            return [$flags, [], $length > 0 ? $this->read($length, false, 'payload') : '', $byte10];
        }
        $optionBytes = $optionCount * 4;
        $data = $this->read($optionBytes + $length, false, 'options and payload');
        $options = $optionCount === 1 ? [\unpack('V', $data)[1]] : \array_values(\unpack('V' . $optionCount, $data));

        return [$flags, $options, $length > 0 ? \substr($data, $optionBytes) : '', $byte10];
    }

    /**
     * True when a frame (or the end of the stream) can be read without blocking. Used to notice
     * a stream STOP between chunks. In-memory streams (tests) report whether unread bytes remain.
     *
     * @throws RelayException when the input cannot be polled
     */
    public function hasFrame(): bool
    {
        $type = stream_get_meta_data($this->in)['stream_type'];
        if ($type === 'MEMORY' || $type === 'TEMP') {
            $stat = fstat($this->in);

            return $stat !== false && ftell($this->in) < $stat['size'];
        }
        $read = [$this->in];
        $write = null;
        $except = null;
        $n = @stream_select($read, $write, $except, 0, 0);
        if ($n === false) {
            throw new RelayException('Failed to poll the input' . self::lastError());
        }

        return $n > 0;
    }

    /**
     * Reads exactly $length bytes.
     *
     * @return string|null null only when $eofAllowed and the stream ended before the first byte
     */
    private function read(int $length, bool $eofAllowed, string $what = 'header'): ?string
    {
        $chunk = @\fread($this->in, \min($length, self::READ_CHUNK));
        if ($chunk !== false && \strlen($chunk) === $length) {
            return $chunk; // nearly always: the whole frame is already in the stream's buffer
        }

        return $this->readRest($chunk === false ? '' : $chunk, $length, $eofAllowed, $what);
    }

    /**
     * Completes a read that returned $have (fewer than $length bytes) so far.
     *
     * @return string|null null only when $eofAllowed and the stream ended before the first byte
     */
    private function readRest(string $have, int $length, bool $eofAllowed, string $what): ?string
    {
        $chunks = $have === '' ? [] : [$have];
        $got = \strlen($have);
        while ($got < $length) {
            $chunk = @\fread($this->in, \min($length - $got, self::READ_CHUNK));
            if ($chunk === false || $chunk === '') {
                if (\feof($this->in) || $chunk === false) {
                    if ($got === 0 && $eofAllowed) {
                        return null;
                    }
                    throw new RelayException(\sprintf(
                        'Truncated frame: end of stream after %d of %d %s bytes%s',
                        $got,
                        $length,
                        $what,
                        $got > 0 && $what === 'header' ? ' (' . Frame::hexdump(\implode('', $chunks)) . ')' : ''
                    ));
                }
                $this->waitReadable();
                continue;
            }
            $chunks[] = $chunk;
            $got += \strlen($chunk);
        }

        return \count($chunks) === 1 ? $chunks[0] : \implode('', $chunks);
    }

    /**
     * A read returned nothing without EOF (non-blocking stream or interrupted call): wait for data
     * instead of spinning.
     */
    private function waitReadable(): void
    {
        $read = [$this->in];
        $write = null;
        $except = null;
        if (@stream_select($read, $write, $except, null) === false && !\feof($this->in)) {
            throw new RelayException('Failed to wait for input' . self::lastError());
        }
    }

    private static function lastError(): string
    {
        $error = error_get_last();

        return $error === null ? '' : ': ' . $error['message'];
    }
}
