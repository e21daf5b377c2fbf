<?php

declare(strict_types=1);

namespace Pivot\Worker\KV;

use Pivot\Worker\Rpc\Client;
use Pivot\Worker\Rpc\ServiceException;

/**
 * One KV storage of pivot-server (or RoadRunner) — `kv.<name>` in the server's config — over the
 * goridge RPC with the JSON codec (roadrunner-protocol.md §5.3):
 *
 *     $cache = new Storage(Client::fromEnvironment(), 'local');
 *     $cache->set('user:1', ['name' => 'Ada'], 300);      // TTL in seconds, or a DateInterval
 *     $user = $cache->get('user:1');                       // ['name' => 'Ada'], or null
 *
 * The method names and semantics follow PSR-16 (the interface is not declared, so psr/simple-cache
 * is not needed). Values are stored as serialize() bytes unless another serializer pair is given.
 * A TTL is sent as an absolute RFC 3339 time with microseconds; a TTL of 0 or less deletes the keys
 * (PSR-16). Keys must be non-empty strings.
 *
 * Errors: {@see StorageException} when the storage does not exist, {@see KvException} for any other
 * error the server answers (its text verbatim), {@see \Pivot\Worker\Rpc\RpcException} when the
 * server cannot be reached, and \InvalidArgumentException for bad keys or TTLs.
 */
final class Storage
{
    /** @var \Closure(mixed): string */
    private \Closure $serializer;

    /** @var \Closure(string): mixed */
    private \Closure $unserializer;

    /**
     * @param Client        $rpc          a client for the server's rpc.listen address
     * @param string        $name         the storage name (`kv.<name>`)
     * @param callable|null $serializer   fn (mixed $value): string; default serialize()
     * @param callable|null $unserializer fn (string $bytes): mixed; default unserialize()
     */
    public function __construct(
        private readonly Client $rpc,
        private readonly string $name,
        ?callable $serializer = null,
        ?callable $unserializer = null,
    ) {
        if ($name === '') {
            throw new \InvalidArgumentException('The KV storage name cannot be empty');
        }
        if (($serializer === null) !== ($unserializer === null)) {
            throw new \InvalidArgumentException('Give both a serializer and an unserializer, or neither');
        }
        $this->serializer = $serializer !== null
            ? \Closure::fromCallable($serializer)
            : static fn (mixed $value): string => serialize($value);
        $this->unserializer = $unserializer !== null
            ? \Closure::fromCallable($unserializer)
            : static function (string $bytes): mixed {
                $value = @unserialize($bytes);
                if ($value === false && $bytes !== serialize(false)) {
                    throw new KvException('The stored value is not in serialize() format (a different serializer wrote it?)');
                }

                return $value;
            };
    }

    /** A storage over Client::fromEnvironment() (RR_RPC, which the server sets for its workers). */
    public static function fromEnvironment(string $name, ?callable $serializer = null, ?callable $unserializer = null): self
    {
        return new self(Client::fromEnvironment(), $name, $serializer, $unserializer);
    }

    /** The same storage with another serializer pair. */
    public function withSerializer(callable $serializer, callable $unserializer): self
    {
        return new self($this->rpc, $this->name, $serializer, $unserializer);
    }

    public function getName(): string
    {
        return $this->name;
    }

    /** The value of $key, or $default when it does not exist (or has expired). */
    public function get(string $key, mixed $default = null): mixed
    {
        return $this->getMultiple([$key], $default)[$key];
    }

    /**
     * @param iterable<int|string> $keys
     *
     * @return array<string, mixed> every requested key, with $default for the missing ones
     */
    public function getMultiple(iterable $keys, mixed $default = null): array
    {
        $keys = self::keys($keys);
        if ($keys === []) {
            return [];
        }
        $found = [];
        foreach ($this->call('kv.MGet', self::items($keys)) as $item) {
            $key = (string) ($item['key'] ?? '');
            $bytes = base64_decode((string) ($item['value'] ?? ''), true);
            if ($bytes === false) {
                throw new KvException("The server sent an invalid base64 value for \"$key\"", 'kv.MGet');
            }
            $found[$key] = $bytes;
        }
        $result = [];
        foreach ($keys as $key) {
            $result[$key] = array_key_exists($key, $found) ? ($this->unserializer)($found[$key]) : $default;
        }

        return $result;
    }

    /** True when $key exists (and has not expired). */
    public function has(string $key): bool
    {
        foreach ($this->call('kv.Has', self::items([self::key($key)])) as $item) {
            if (($item['key'] ?? null) === $key) {
                return true;
            }
        }

        return false;
    }

    /**
     * @param int|\DateInterval|null $ttl seconds from now, an interval, or null for no expiry;
     *                                    0 or less deletes the key (PSR-16)
     */
    public function set(string $key, mixed $value, null|int|\DateInterval $ttl = null): bool
    {
        return $this->setMultiple([$key => $value], $ttl);
    }

    /**
     * @param iterable<int|string, mixed> $values key => value
     */
    public function setMultiple(iterable $values, null|int|\DateInterval $ttl = null): bool
    {
        $timeout = self::timeout($ttl);
        $items = [];
        foreach ($values as $key => $value) {
            $key = self::key($key);
            $item = ['key' => $key, 'value' => base64_encode(($this->serializer)($value))];
            if ($timeout !== null && $timeout !== '') {
                $item['timeout'] = $timeout;
            }
            $items[] = $item;
        }
        if ($items === []) {
            return true;
        }
        if ($timeout === null) { // already expired: PSR-16 says delete
            return $this->deleteMultiple(array_column($items, 'key'));
        }
        $this->call('kv.Set', $items);

        return true;
    }

    public function delete(string $key): bool
    {
        return $this->deleteMultiple([$key]);
    }

    /**
     * @param iterable<int|string> $keys
     */
    public function deleteMultiple(iterable $keys): bool
    {
        $keys = self::keys($keys);
        if ($keys !== []) {
            $this->call('kv.Delete', self::items($keys));
        }

        return true;
    }

    /** Removes every key of this storage (a Redis storage without a prefix FLUSHDBs its database). */
    public function clear(): bool
    {
        $this->call('kv.Clear', []);

        return true;
    }

    /**
     * Sets a new expiry on existing keys (kv.MExpire); missing keys are ignored.
     *
     * @param string|iterable<int|string> $keys
     * @param int|\DateInterval           $ttl 0 or less deletes them
     */
    public function expire(string|iterable $keys, int|\DateInterval $ttl): bool
    {
        $keys = self::keys(is_string($keys) ? [$keys] : $keys);
        $timeout = self::timeout($ttl);
        if ($keys === []) {
            return true;
        }
        if ($timeout === null) {
            return $this->deleteMultiple($keys);
        }
        $items = [];
        foreach ($keys as $key) {
            $items[] = ['key' => $key, 'timeout' => $timeout];
        }
        $this->call('kv.MExpire', $items);

        return true;
    }

    /** When $key expires (UTC, whole seconds), or null when it has no TTL or does not exist. */
    public function getTtl(string $key): ?\DateTimeImmutable
    {
        return $this->getMultipleTtl([$key])[$key];
    }

    /**
     * @param iterable<int|string> $keys
     *
     * @return array<string, \DateTimeImmutable|null> every requested key
     */
    public function getMultipleTtl(iterable $keys): array
    {
        $keys = self::keys($keys);
        if ($keys === []) {
            return [];
        }
        $found = [];
        foreach ($this->call('kv.TTL', self::items($keys)) as $item) {
            $timeout = (string) ($item['timeout'] ?? '');
            if ($timeout === '') {
                continue;
            }
            try {
                $found[(string) ($item['key'] ?? '')] = (new \DateTimeImmutable($timeout))->setTimezone(new \DateTimeZone('UTC'));
            } catch (\Exception $e) {
                throw new KvException("The server sent an invalid expiry time \"$timeout\"", 'kv.TTL', $e);
            }
        }
        $result = [];
        foreach ($keys as $key) {
            $result[$key] = $found[$key] ?? null;
        }

        return $result;
    }

    /**
     * @param list<array<string, string>> $items
     *
     * @return list<array<string, string>> the reply's items
     */
    private function call(string $method, array $items): array
    {
        $request = ['storage' => $this->name];
        if ($items !== []) {
            $request['items'] = $items;
        }
        try {
            $reply = $this->rpc->call($method, $request);
        } catch (ServiceException $e) {
            $text = $e->getServerError();
            if (str_contains($text, 'no such storage')) {
                throw new StorageException($text, $method, $e);
            }
            throw new KvException($text, $method, $e);
        }

        return is_array($reply) && is_array($reply['items'] ?? null) ? array_values($reply['items']) : [];
    }

    /**
     * @param list<string> $keys
     *
     * @return list<array{key: string}>
     */
    private static function items(array $keys): array
    {
        return array_map(static fn (string $key): array => ['key' => $key], $keys);
    }

    /**
     * @param iterable<int|string> $keys
     *
     * @return list<string>
     */
    private static function keys(iterable $keys): array
    {
        $out = [];
        foreach ($keys as $key) {
            $out[] = self::key($key);
        }

        return $out;
    }

    private static function key(mixed $key): string
    {
        if (is_int($key)) {
            $key = (string) $key; // PHP turns numeric string array keys into ints
        }
        if (!is_string($key) || trim($key) === '') {
            throw new \InvalidArgumentException(sprintf(
                'A KV key must be a non-empty string, %s given',
                is_string($key) ? '"' . $key . '"' : get_debug_type($key)
            ));
        }

        return $key;
    }

    /**
     * '' for no TTL, null when the TTL is already over, else the absolute RFC 3339 expiry.
     */
    private static function timeout(null|int|\DateInterval $ttl): ?string
    {
        if ($ttl === null) {
            return '';
        }
        $now = new \DateTimeImmutable('now', new \DateTimeZone('UTC'));
        $expires = $ttl instanceof \DateInterval
            ? $now->add($ttl)
            : $now->modify(sprintf('%+d seconds', $ttl));
        if ($expires <= $now) {
            return null;
        }

        return $expires->format('Y-m-d\TH:i:s.uP');
    }
}
