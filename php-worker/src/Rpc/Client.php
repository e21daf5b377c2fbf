<?php

declare(strict_types=1);

namespace Pivot\Worker\Rpc;

use Pivot\Worker\Frame;

/**
 * Goridge RPC client for pivot-server's (and RoadRunner's) `rpc.listen` socket.
 *
 *     $rpc = new Client('tcp://127.0.0.1:6001');
 *     $plugins = $rpc->call('informer.List', true);            // ["http"]
 *     $workers = $rpc->withServicePrefix('informer')->call('Workers', 'http');
 *
 * One request at a time per connection. The connection opens on the first call and is reused;
 * after a transport error ({@see RpcException}) it is closed and the next call reconnects. An
 * error reply from the server is a {@see ServiceException} and leaves the connection usable.
 *
 * Wire format (roadrunner-protocol.md §5.1): request frame flags = codec, options
 * [seq, strlen(method)], payload = method . encoded argument. The reply must carry the same seq.
 */
final class Client
{
    /** JSON codec: the argument is json_encode()d, the reply json_decode()d into arrays. */
    public const JSON = Frame::CODEC_JSON;

    /** Raw codec: the argument must be a string, the reply is returned as bytes. */
    public const RAW = Frame::CODEC_RAW;

    /** Protobuf codec: the argument must be the serialized message, the reply is returned as bytes. */
    public const PROTO = Frame::CODEC_PROTO;

    public const DEFAULT_ADDRESS = 'tcp://127.0.0.1:6001';
    public const DEFAULT_TIMEOUT = 5.0;

    private Connection $connection;

    private string $prefix = '';

    /**
     * @param string $address `tcp://host:port` or `unix:///path/to.sock`
     * @param float  $timeout seconds allowed to connect, and to send a request and read its reply
     */
    public function __construct(string $address = self::DEFAULT_ADDRESS, float $timeout = self::DEFAULT_TIMEOUT)
    {
        if (!preg_match('~^(tcp://[^/]+:\d+|unix://.+)$~', $address)) {
            throw new \InvalidArgumentException(
                "Invalid RPC address \"$address\": expected tcp://host:port or unix:///path"
            );
        }
        if (!($timeout > 0)) {
            throw new \InvalidArgumentException("The RPC timeout must be positive, got $timeout");
        }
        $this->connection = new Connection($address, $timeout);
    }

    /**
     * A client for the address in the RR_RPC environment variable (which pivot-server and RoadRunner
     * set for their workers), or tcp://127.0.0.1:6001 when it is not set.
     */
    public static function fromEnvironment(float $timeout = self::DEFAULT_TIMEOUT): self
    {
        $address = getenv('RR_RPC');
        if (!is_string($address) || $address === '') {
            $address = $_ENV['RR_RPC'] ?? $_SERVER['RR_RPC'] ?? null;
        }

        return new self(is_string($address) && $address !== '' ? $address : self::DEFAULT_ADDRESS, $timeout);
    }

    /**
     * A client (sharing this one's connection and sequence counter) that prefixes every method
     * with "$service.": withServicePrefix('informer')->call('List', true) calls informer.List.
     */
    public function withServicePrefix(string $service): self
    {
        $service = trim($service, '.');
        if ($service === '') {
            throw new \InvalidArgumentException('The service prefix cannot be empty');
        }
        $clone = clone $this;
        $clone->prefix = $service . '.';

        return $clone;
    }

    public function getAddress(): string
    {
        return $this->connection->address;
    }

    public function getTimeout(): float
    {
        return $this->connection->timeout;
    }

    /** The sequence id the next call will use (starts at 1). */
    public function getNextSequence(): int
    {
        return $this->connection->nextSeq();
    }

    public function isConnected(): bool
    {
        return $this->connection->isConnected();
    }

    /**
     * Calls a method and returns its decoded reply.
     *
     * @param string $method  "Service.Method" (or "Method" with a service prefix)
     * @param mixed  $payload the argument: any JSON-encodable value for JSON, a string for RAW and PROTO
     * @param int    $codec   self::JSON (default), self::RAW or self::PROTO
     *
     * @return mixed JSON: the json_decode()d reply (objects as arrays, null for an empty reply);
     *               RAW and PROTO: the reply bytes
     *
     * @throws ServiceException when the server answers with an error
     * @throws RpcException     on connection, timeout or framing problems
     */
    public function call(string $method, mixed $payload, int $codec = self::JSON): mixed
    {
        $method = $this->prefix . $method;
        if ($method === '' || strlen($method) > 0xFFFF) {
            throw new \InvalidArgumentException('Invalid RPC method name "' . $method . '"');
        }

        [$reply, $body] = $this->connection->exchange($method, self::encode($method, $payload, $codec), $codec);

        if ($reply->hasFlag(Frame::ERROR)) {
            throw new ServiceException($body, $method, $this->connection->address);
        }
        if ($codec !== self::JSON) {
            return $body;
        }
        if ($body === '') {
            return null;
        }
        try {
            return json_decode($body, true, 512, \JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new RpcException(sprintf(
                'Invalid JSON in the reply to %s from %s: %s; reply starts %s',
                $method,
                $this->connection->address,
                $e->getMessage(),
                json_encode(substr($body, 0, 100), \JSON_INVALID_UTF8_SUBSTITUTE | \JSON_UNESCAPED_SLASHES)
            ), 0, $e);
        }
    }

    /**
     * Closes the connection (the next call reconnects). Also happens when the last client sharing
     * the connection is destroyed.
     */
    public function close(): void
    {
        $this->connection->close();
    }

    private static function encode(string $method, mixed $payload, int $codec): string
    {
        switch ($codec) {
            case self::JSON:
                try {
                    return json_encode(
                        $payload,
                        \JSON_THROW_ON_ERROR | \JSON_UNESCAPED_SLASHES | \JSON_UNESCAPED_UNICODE
                        | \JSON_PRESERVE_ZERO_FRACTION
                    );
                } catch (\JsonException $e) {
                    throw new RpcException("Cannot JSON-encode the argument of $method: " . $e->getMessage(), 0, $e);
                }
            case self::RAW:
            case self::PROTO:
                if (!is_string($payload)) {
                    throw new \InvalidArgumentException(sprintf(
                        'The %s codec needs a string argument, %s given (calling %s)',
                        $codec === self::RAW ? 'raw' : 'protobuf',
                        get_debug_type($payload),
                        $method
                    ));
                }

                return $payload;
            default:
                throw new \InvalidArgumentException(sprintf(
                    'Unsupported RPC codec 0x%02x: use Client::JSON, Client::RAW or Client::PROTO',
                    $codec
                ));
        }
    }
}
