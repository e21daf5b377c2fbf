<?php

declare(strict_types=1);

namespace Pivot\Worker\Jobs;

use Pivot\Worker\Rpc\Client;
use Pivot\Worker\Rpc\ServiceException;

/**
 * Pushes jobs to the server's pipelines and manages them, over the goridge RPC with the JSON codec
 * (roadrunner-protocol.md §4.3; `jobs:` and `rpc:` in the server config):
 *
 *     $jobs = Jobs::fromEnvironment();                                   // RR_RPC
 *     $id = $jobs->push('emails', 'SendWelcome', json_encode(['user' => 7]), [
 *         'priority' => 5, 'delay' => 60, 'headers' => ['tenant' => 'acme'],
 *     ]);
 *     $jobs->pause('emails');  $jobs->resume('emails');
 *     $jobs->stat()['emails']['active'];
 *
 * Request bodies are the proto3 JSON mapping of the jobs.v1 messages (protocol/proto/jobs.proto):
 * jobs.Push takes {"job":{"job":NAME,"id":ID,"payload":BASE64,"headers":{"k":{"value":["v"]}},
 * "options":{"priority":0,"pipeline":P,"delay":0,"auto_ack":false}}}. Replies are read the same
 * way (int64 fields may be JSON strings, fields with default values may be missing).
 *
 * Errors: {@see JobsException} with the server's text verbatim ("no such pipeline, requested: x",
 * "empty ID field not allowed", "pipeline already exists …") and getMethod(); an unreachable server
 * is a {@see \Pivot\Worker\Rpc\RpcException}; bad arguments are \InvalidArgumentException.
 */
final class Jobs
{
    /** Option keys of push() and pushBatch(). */
    private const OPTIONS = ['priority', 'delay', 'headers', 'auto_ack'];

    /** @param Client $rpc a client for the server's rpc.listen address */
    public function __construct(private readonly Client $rpc)
    {
    }

    /** Jobs over Client::fromEnvironment() (RR_RPC, which the server sets for its workers). */
    public static function fromEnvironment(): self
    {
        return new self(Client::fromEnvironment());
    }

    /**
     * Pushes one job and returns its id (a new UUIDv4).
     *
     * @param string $pipeline the pipeline (`jobs.pipelines.<name>` or declared)
     * @param string $name     the job name the consumer sees (getName()), usually a class name
     * @param string $payload  any bytes; the consumer gets them unchanged
     * @param array{priority?: int, delay?: int, headers?: array<string, string|list<string>>, auto_ack?: bool} $options
     *        priority: 0 (default) means the pipeline's; delay: seconds before the job may be
     *        delivered (default 0); headers: name => value(s); auto_ack: ack on delivery (default false)
     */
    public function push(string $pipeline, string $name, string $payload = '', array $options = []): string
    {
        $job = self::job($pipeline, $name, $payload, $options);
        $this->call('jobs.Push', ['job' => $job]);

        return $job['id'];
    }

    /**
     * Pushes several jobs in one call (jobs.PushBatch) and returns their ids, in order.
     *
     * @param iterable<array{name: string, payload?: string, priority?: int, delay?: int, headers?: array<string, string|list<string>>, auto_ack?: bool}> $jobs
     *        each job: its name, payload and any option of push() overriding $options
     * @param array{priority?: int, delay?: int, headers?: array<string, string|list<string>>, auto_ack?: bool} $options
     *        options for every job
     *
     * @return list<string>
     */
    public function pushBatch(string $pipeline, iterable $jobs, array $options = []): array
    {
        self::checkOptions($options);
        $batch = [];
        foreach ($jobs as $i => $entry) {
            if (!is_array($entry) || !is_string($entry['name'] ?? null)) {
                throw new \InvalidArgumentException(
                    "Batch job $i must be an array with a string \"name\" (and optionally payload and push() options)"
                );
            }
            $payload = $entry['payload'] ?? '';
            if (!is_string($payload)) {
                throw new \InvalidArgumentException(sprintf(
                    'The payload of batch job %s must be a string, %s given',
                    $i,
                    get_debug_type($payload)
                ));
            }
            $jobOptions = $entry;
            unset($jobOptions['name'], $jobOptions['payload']);
            $batch[] = self::job($pipeline, $entry['name'], $payload, $jobOptions + $options);
        }
        if ($batch === []) {
            return [];
        }
        $this->call('jobs.PushBatch', ['jobs' => $batch]);

        return array_column($batch, 'id');
    }

    /** Stops consuming the pipelines (jobs are still accepted and kept). */
    public function pause(string $pipeline, string ...$more): void
    {
        $this->call('jobs.Pause', ['pipelines' => self::names($pipeline, ...$more)]);
    }

    /** Consumes the pipelines again. */
    public function resume(string $pipeline, string ...$more): void
    {
        $this->call('jobs.Resume', ['pipelines' => self::names($pipeline, ...$more)]);
    }

    /**
     * @return list<string> the names of all pipelines
     */
    public function list(): array
    {
        return self::strings($this->call('jobs.List', new \stdClass())['pipelines'] ?? []);
    }

    /**
     * Declares a pipeline at run time (jobs.Declare). Keys: name and driver (required), priority
     * (the server's default 10) and the driver's own keys; every value is sent as a string
     * (ints as digits, bools as "true"/"false", arrays as JSON), as RoadRunner's SDK does.
     *
     * @param array<string, scalar|\Stringable|array<array-key, mixed>> $pipeline
     */
    public function declare(array $pipeline): void
    {
        foreach (['name', 'driver'] as $required) {
            if (!isset($pipeline[$required]) || !is_string($pipeline[$required]) || $pipeline[$required] === '') {
                throw new \InvalidArgumentException("A pipeline declaration needs a non-empty string \"$required\"");
            }
        }
        $map = [];
        foreach ($pipeline as $key => $value) {
            $map[(string) $key] = self::stringify((string) $key, $value);
        }
        $this->call('jobs.Declare', ['pipeline' => $map]);
    }

    /**
     * Destroys pipelines (their jobs are dropped) and returns the names the server destroyed.
     *
     * @return list<string>
     */
    public function destroy(string $pipeline, string ...$more): array
    {
        $reply = $this->call('jobs.Destroy', ['pipelines' => self::names($pipeline, ...$more)]);

        return self::strings($reply['pipelines'] ?? []);
    }

    /**
     * The state of every pipeline, keyed by name.
     *
     * @return array<string, array{pipeline: string, driver: string, queue: string, active: int, delayed: int, reserved: int, ready: bool, priority: int}>
     *         active: jobs waiting to be delivered; delayed: waiting for their delay; reserved:
     *         delivered and not settled yet; ready: consuming (not paused)
     */
    public function stat(): array
    {
        $out = [];
        foreach ($this->call('jobs.Stat', new \stdClass())['stats'] ?? [] as $stat) {
            if (!is_array($stat)) {
                continue;
            }
            $name = self::str($stat['pipeline'] ?? '');
            $out[$name] = [
                'pipeline' => $name,
                'driver' => self::str($stat['driver'] ?? ''),
                'queue' => self::str($stat['queue'] ?? ''),
                'active' => (int) ($stat['active'] ?? 0),
                'delayed' => (int) ($stat['delayed'] ?? 0),
                'reserved' => (int) ($stat['reserved'] ?? 0),
                'ready' => ($stat['ready'] ?? false) === true,
                'priority' => (int) ($stat['priority'] ?? 0),
            ];
        }

        return $out;
    }

    /** A new random (version 4) UUID, e.g. "0f8fad5b-d9cb-469f-a165-70867728950e". */
    public static function uuid(): string
    {
        $bytes = random_bytes(16);
        $bytes[6] = chr((ord($bytes[6]) & 0x0F) | 0x40);
        $bytes[8] = chr((ord($bytes[8]) & 0x3F) | 0x80);

        return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($bytes), 4));
    }

    /**
     * The jobs.v1.Job message as proto3 JSON.
     *
     * @param array<array-key, mixed> $options
     *
     * @return array{job: string, id: string, payload: string, headers?: array<string, array{value: list<string>}>, options: array<string, mixed>}
     */
    private static function job(string $pipeline, string $name, string $payload, array $options): array
    {
        if ($pipeline === '') {
            throw new \InvalidArgumentException('The pipeline name cannot be empty');
        }
        if ($name === '') {
            throw new \InvalidArgumentException('The job name cannot be empty');
        }
        self::checkOptions($options);
        $priority = $options['priority'] ?? 0;
        if (!is_int($priority) || $priority < 0) {
            throw new \InvalidArgumentException(
                'Option "priority" must be an int >= 0 (0: the pipeline\'s), got ' . var_export($priority, true)
            );
        }
        $delay = $options['delay'] ?? 0;
        if (!is_int($delay) || $delay < 0) {
            throw new \InvalidArgumentException(
                'Option "delay" must be an int >= 0 (seconds), got ' . var_export($delay, true)
            );
        }
        $autoAck = $options['auto_ack'] ?? false;
        if (!is_bool($autoAck)) {
            throw new \InvalidArgumentException('Option "auto_ack" must be a bool, got ' . get_debug_type($autoAck));
        }

        $job = ['job' => $name, 'id' => self::uuid(), 'payload' => base64_encode($payload)];
        $headers = self::headers($options['headers'] ?? []);
        if ($headers !== []) {
            $job['headers'] = $headers;
        }
        $job['options'] = ['priority' => $priority, 'pipeline' => $pipeline, 'delay' => $delay, 'auto_ack' => $autoAck];

        return $job;
    }

    /**
     * @param array<array-key, mixed> $options
     */
    private static function checkOptions(array $options): void
    {
        foreach ($options as $key => $_) {
            if (!in_array($key, self::OPTIONS, true)) {
                throw new \InvalidArgumentException(sprintf(
                    'Unknown job option "%s"; allowed: %s',
                    $key,
                    implode(', ', self::OPTIONS)
                ));
            }
        }
    }

    /**
     * name => value(s) as the map<string, HeaderValue> of jobs.v1.Job.
     *
     * @return array<string, array{value: list<string>}>
     */
    private static function headers(mixed $headers): array
    {
        if (!is_array($headers)) {
            throw new \InvalidArgumentException(
                'Option "headers" must be an array of name => value(s), got ' . get_debug_type($headers)
            );
        }
        $out = [];
        foreach ($headers as $name => $values) {
            $name = (string) $name;
            if ($name === '') {
                throw new \InvalidArgumentException('A header name cannot be empty');
            }
            $list = [];
            foreach (is_array($values) ? $values : [$values] as $value) {
                if (!is_scalar($value) && !$value instanceof \Stringable) {
                    throw new \InvalidArgumentException(sprintf(
                        'Header "%s": values must be strings, %s given',
                        $name,
                        get_debug_type($value)
                    ));
                }
                $list[] = is_bool($value) ? ($value ? 'true' : 'false') : (string) $value;
            }
            $out[$name] = ['value' => $list];
        }

        return $out;
    }

    private static function stringify(string $key, mixed $value): string
    {
        return match (true) {
            is_string($value) => $value,
            is_bool($value) => $value ? 'true' : 'false',
            is_int($value), is_float($value), $value instanceof \Stringable => (string) $value,
            is_array($value) || $value instanceof \JsonSerializable => json_encode(
                $value,
                \JSON_THROW_ON_ERROR | \JSON_UNESCAPED_SLASHES | \JSON_UNESCAPED_UNICODE
                | ($value === [] ? \JSON_FORCE_OBJECT : 0)
            ),
            default => throw new \InvalidArgumentException(sprintf(
                'Pipeline key "%s": cannot send a %s as a string',
                $key,
                get_debug_type($value)
            )),
        };
    }

    /**
     * @return list<string>
     */
    private static function names(string ...$pipelines): array
    {
        foreach ($pipelines as $name) {
            if ($name === '') {
                throw new \InvalidArgumentException('A pipeline name cannot be empty');
            }
        }

        return array_values($pipelines);
    }

    /**
     * @return list<string>
     */
    private static function strings(mixed $list): array
    {
        return is_array($list) ? array_values(array_map(self::str(...), $list)) : [];
    }

    private static function str(mixed $value): string
    {
        return is_scalar($value) ? (string) $value : '';
    }

    /**
     * @return array<array-key, mixed> the decoded reply ([] for an empty one)
     */
    private function call(string $method, mixed $request): array
    {
        try {
            $reply = $this->rpc->call($method, $request);
        } catch (ServiceException $e) {
            throw new JobsException($e->getServerError(), $method, $e);
        }

        return is_array($reply) ? $reply : [];
    }
}
