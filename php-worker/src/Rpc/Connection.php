<?php

declare(strict_types=1);

namespace Pivot\Worker\Rpc;

use Pivot\Worker\Frame;
use Pivot\Worker\RelayException;

/**
 * One lazily opened socket to a goridge RPC server plus its sequence counter. Shared by a
 * {@see Client} and the clones made by Client::withServicePrefix().
 *
 * @internal
 */
final class Connection
{
    /** Largest single fread() request while reading a reply. */
    private const READ_CHUNK = 1 << 20;

    /** @var resource|null */
    private $socket = null;

    /** Sequence id of the next call; incremented after each completed call. */
    private int $seq = 1;

    public function __construct(
        public readonly string $address,
        public readonly float $timeout,
    ) {
    }

    public function __destruct()
    {
        $this->close();
    }

    public function nextSeq(): int
    {
        return $this->seq;
    }

    public function isConnected(): bool
    {
        return $this->socket !== null;
    }

    public function close(): void
    {
        if ($this->socket !== null) {
            if (is_resource($this->socket)) {
                @fclose($this->socket);
            }
            $this->socket = null;
        }
    }

    /**
     * Sends one request frame and reads its reply.
     *
     * @return array{0: Frame, 1: string} the reply frame and its body (the payload after the method name)
     *
     * @throws RpcException on any transport or framing problem; the connection is closed then
     */
    public function exchange(string $method, string $body, int $codec): array
    {
        $seq = $this->seq;
        $request = Frame::encode(new Frame($codec, [$seq, strlen($method)], $method . $body));
        $deadline = microtime(true) + $this->timeout;
        try {
            $socket = $this->connect();
            $this->write($socket, $request, $deadline, $method);
            $reply = $this->readFrame($socket, $deadline, $method);
        } catch (RpcException $e) {
            $this->close();
            throw $e;
        }

        if (count($reply->options) !== 2) {
            $this->close();
            throw new RpcException(sprintf(
                'Invalid RPC frame, options missing: the reply to %s from %s has %d option(s), 2 expected',
                $method,
                $this->address,
                count($reply->options)
            ));
        }
        if ($reply->options[0] !== $seq) {
            $this->close();
            throw new RpcException(sprintf(
                'RPC sequence mismatch: expected %d, got %d (reply to %s from %s)',
                $seq,
                $reply->options[0],
                $method,
                $this->address
            ));
        }
        if ($reply->options[1] > strlen($reply->payload)) {
            $this->close();
            throw new RpcException(sprintf(
                'Invalid RPC frame: method length %d exceeds payload length %d (reply to %s from %s)',
                $reply->options[1],
                strlen($reply->payload),
                $method,
                $this->address
            ));
        }

        $this->seq = $seq >= 0xFFFFFFFF ? 1 : $seq + 1;

        return [$reply, substr($reply->payload, $reply->options[1])];
    }

    /**
     * @return resource
     */
    private function connect()
    {
        if ($this->socket !== null) {
            return $this->socket;
        }
        $context = stream_context_create(
            str_starts_with($this->address, 'tcp://') ? ['socket' => ['tcp_nodelay' => true]] : []
        );
        $errno = 0;
        $errstr = '';
        $socket = @stream_socket_client(
            $this->address,
            $errno,
            $errstr,
            $this->timeout,
            \STREAM_CLIENT_CONNECT,
            $context
        );
        if ($socket === false) {
            if ($errstr === '') {
                $last = error_get_last();
                $errstr = $last['message'] ?? 'unknown error';
            }
            throw new RpcException(sprintf(
                'Cannot connect to the RPC server at %s: %s%s',
                $this->address,
                $errstr,
                $errno !== 0 ? " (errno $errno)" : ''
            ));
        }
        stream_set_blocking($socket, true);
        $this->socket = $socket;

        return $socket;
    }

    /**
     * Writes the whole request (header, options and payload in one buffer), looping on short writes.
     *
     * @param resource $socket
     */
    private function write($socket, string $data, float $deadline, string $method): void
    {
        $length = strlen($data);
        $written = 0;
        while ($written < $length) {
            $this->applyTimeout($socket, $deadline, $method, 'sending the request');
            $n = @fwrite($socket, $written === 0 ? $data : substr($data, $written));
            if ($n === false || $n === 0) {
                if (stream_get_meta_data($socket)['timed_out']) {
                    throw $this->timeoutException($method, 'sending the request');
                }
                $error = error_get_last();
                throw new RpcException(sprintf(
                    'Failed to send the %s request to %s (%d of %d bytes written)%s',
                    $method,
                    $this->address,
                    $written,
                    $length,
                    $error === null ? '' : ': ' . $error['message']
                ));
            }
            $written += $n;
        }
    }

    /**
     * @param resource $socket
     */
    private function readFrame($socket, float $deadline, string $method): Frame
    {
        $header = $this->read($socket, Frame::HEADER_SIZE, $deadline, $method, 'header');
        try {
            $h = Frame::decodeHeader($header);
        } catch (RelayException $e) {
            throw new RpcException(
                sprintf('Invalid RPC reply to %s from %s: %s', $method, $this->address, $e->getMessage()),
                0,
                $e
            );
        }
        $options = [];
        if ($h['optionCount'] > 0) {
            $raw = $this->read($socket, $h['optionCount'] * 4, $deadline, $method, 'options');
            $options = array_values((array) unpack('V*', $raw));
        }
        $payload = $h['payloadLength'] > 0
            ? $this->read($socket, $h['payloadLength'], $deadline, $method, 'payload')
            : '';

        return new Frame($h['flags'], $options, $payload, $h['byte10']);
    }

    /**
     * Reads exactly $length bytes before $deadline.
     *
     * @param resource $socket
     */
    private function read($socket, int $length, float $deadline, string $method, string $what): string
    {
        $chunks = [];
        $have = 0;
        while ($have < $length) {
            $this->applyTimeout($socket, $deadline, $method, 'waiting for the reply');
            $chunk = @fread($socket, min($length - $have, self::READ_CHUNK));
            if ($chunk === false || $chunk === '') {
                if (stream_get_meta_data($socket)['timed_out']) {
                    throw $this->timeoutException($method, 'waiting for the reply');
                }
                if ($chunk === false || feof($socket)) {
                    throw new RpcException(sprintf(
                        'The RPC server at %s closed the connection %s (%s: %d of %d bytes read)',
                        $this->address,
                        $what === 'header' && $have === 0
                            ? "without answering $method"
                            : "in the middle of the reply to $method",
                        $what,
                        $have,
                        $length
                    ));
                }
                continue;
            }
            $chunks[] = $chunk;
            $have += strlen($chunk);
        }

        return count($chunks) === 1 ? $chunks[0] : implode('', $chunks);
    }

    /**
     * Sets the stream timeout to what is left until $deadline.
     *
     * @param resource $socket
     */
    private function applyTimeout($socket, float $deadline, string $method, string $doing): void
    {
        $left = $deadline - microtime(true);
        if ($left <= 0) {
            throw $this->timeoutException($method, $doing);
        }
        $seconds = (int) $left;
        stream_set_timeout($socket, $seconds, max(1, (int) (($left - $seconds) * 1e6)));
    }

    private function timeoutException(string $method, string $doing): RpcException
    {
        return new RpcException(sprintf(
            'RPC timeout: %s from %s took longer than %ss (%s)',
            $method,
            $this->address,
            self::seconds($this->timeout),
            $doing
        ));
    }

    private static function seconds(float $seconds): string
    {
        return rtrim(rtrim(sprintf('%.3f', $seconds), '0'), '.');
    }
}
