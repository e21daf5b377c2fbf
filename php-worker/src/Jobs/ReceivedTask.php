<?php

declare(strict_types=1);

namespace Pivot\Worker\Jobs;

use Pivot\Worker\Payload;
use Pivot\Worker\Worker;

/**
 * One job handed to a consumer worker by {@see Consumer::waitTask()} (roadrunner-protocol.md
 * §4.1), with the replies of §4.2. The method names are those of spiral/roadrunner-jobs'
 * ReceivedTask, so consumer code written for RoadRunner reads the same:
 *
 *     while ($task = $consumer->waitTask()) {
 *         try {
 *             handle($task->getName(), $task->getPayload());
 *             $task->ack();
 *         } catch (\Throwable $e) {
 *             $task->withDelay(10)->withHeader('x-error', $e->getMessage())->requeue($e);
 *         }
 *     }
 *
 * Only the first reply is sent; later ones are ignored. withHeader() and withDelay() return a copy
 * that shares the reply state with the original, so once either copy replied, both are completed.
 * A task left unanswered is acked by the next Consumer::waitTask() (see {@see Consumer}).
 *
 * Reply frames: flags 0, one option [0] (empty context), body `{"type":T,"data":D}` with
 * T = {@see Type}; D is `[]` for ack/complete, else an object with `message`, `requeue` (nack, fail),
 * `delay_seconds` and `headers` (requeue, fail; only when the task has headers).
 */
final class ReceivedTask
{
    private const JSON_FLAGS = \JSON_THROW_ON_ERROR | \JSON_UNESCAPED_SLASHES | \JSON_UNESCAPED_UNICODE
        | \JSON_INVALID_UTF8_SUBSTITUTE;

    /** Reply state shared with the copies made by withHeader()/withDelay(): ->type is null until replied. */
    private \stdClass $state;

    /** @var array<string, list<string>> */
    private array $headers;

    /** Seconds sent as delay_seconds with nack(), requeue() and fail(). */
    private int $delay = 0;

    /**
     * @param array<array-key, string|list<string>> $headers name => values
     */
    public function __construct(
        private readonly Worker $worker,
        private readonly string $id,
        private readonly string $name,
        private readonly string $payload,
        private readonly string $pipeline,
        private readonly string $driver,
        private readonly string $queue = Consumer::DEFAULT_QUEUE,
        array $headers = [],
    ) {
        $this->headers = self::normalizeHeaders($headers);
        $this->state = new \stdClass();
        $this->state->type = null;
    }

    /** The job id (a UUIDv4 when pushed by {@see Jobs}). */
    public function getId(): string
    {
        return $this->id;
    }

    /** The job name (`job` on the wire; usually a PHP class name). */
    public function getName(): string
    {
        return $this->name;
    }

    /** The payload bytes, exactly as pushed. */
    public function getPayload(): string
    {
        return $this->payload;
    }

    /** The pipeline the job came from. */
    public function getPipeline(): string
    {
        return $this->pipeline;
    }

    /** The broker queue or topic; "unknown" when the driver does not send one (memory). */
    public function getQueue(): string
    {
        return $this->queue;
    }

    /** The driver name: "memory", "amqp", … */
    public function getDriver(): string
    {
        return $this->driver;
    }

    /** The delay, in seconds, that nack(), requeue() and fail() will send. */
    public function getDelay(): int
    {
        return $this->delay;
    }

    /**
     * @return array<string, list<string>> name => values, as received plus withHeader() changes
     */
    public function getHeaders(): array
    {
        return $this->headers;
    }

    /** True when the header exists with at least one value (the name is case-sensitive). */
    public function hasHeader(string $name): bool
    {
        return ($this->headers[$name] ?? []) !== [];
    }

    /**
     * @return list<string> the header's values, [] when absent
     */
    public function getHeader(string $name): array
    {
        return $this->headers[$name] ?? [];
    }

    /** The header's values joined with ",", "" when absent. */
    public function getHeaderLine(string $name): string
    {
        return implode(',', $this->getHeader($name));
    }

    /**
     * A copy with the header replaced. Headers travel with requeue() and fail().
     *
     * @param string|iterable<string> $value
     */
    public function withHeader(string $name, string|iterable $value): self
    {
        self::checkHeaderName($name);
        $self = clone $this;
        $self->headers[$name] = self::headerValues($value);

        return $self;
    }

    /**
     * A copy with values appended to the header.
     *
     * @param string|iterable<string> $value
     */
    public function withAddedHeader(string $name, string|iterable $value): self
    {
        self::checkHeaderName($name);
        $self = clone $this;
        $self->headers[$name] = [...($this->headers[$name] ?? []), ...self::headerValues($value)];

        return $self;
    }

    /** A copy without the header. */
    public function withoutHeader(string $name): self
    {
        $self = clone $this;
        unset($self->headers[$name]);

        return $self;
    }

    /** A copy whose nack(), requeue() and fail() ask for the job to come back after $seconds. */
    public function withDelay(int $seconds): self
    {
        if ($seconds < 0) {
            throw new \InvalidArgumentException("A task delay cannot be negative, got $seconds seconds");
        }
        $self = clone $this;
        $self->delay = $seconds;

        return $self;
    }

    /** The job is done: the server acks it (type 2). */
    public function ack(): void
    {
        $this->reply(Type::ACK, []);
    }

    /**
     * The job failed (type 3): the server nacks it; with $redelivery it is delivered again (after
     * the task's delay), as far as the driver and the pipeline's retry limit allow.
     */
    public function nack(string|\Stringable|\Throwable $message, bool $redelivery = false): void
    {
        $this->reply(Type::NACK, [
            'message' => (string) $message,
            'requeue' => $redelivery,
            'delay_seconds' => $this->delay,
        ]);
    }

    /** The job goes back to its pipeline (type 4) with this task's headers, after its delay. */
    public function requeue(string|\Stringable|\Throwable $message): void
    {
        $data = ['message' => (string) $message, 'delay_seconds' => $this->delay];
        if ($this->headers !== []) {
            $data['headers'] = $this->headers;
        }
        $this->reply(Type::REQUEUE, $data);
    }

    /**
     * RoadRunner's deprecated success reply (type 0), acked by the server. Prefer ack().
     */
    public function complete(): void
    {
        $this->reply(Type::SUCCESS, []);
    }

    /**
     * RoadRunner's deprecated error reply (type 1): the server logs $error, then requeues the job
     * (with headers and delay) when $requeue is true, and acks it otherwise. Prefer nack()/requeue().
     */
    public function fail(string|\Stringable|\Throwable $error, bool $requeue = false): void
    {
        $data = ['message' => (string) $error, 'requeue' => $requeue, 'delay_seconds' => $this->delay];
        if ($this->headers !== []) {
            $data['headers'] = $this->headers;
        }
        $this->reply(Type::ERROR, $data);
    }

    /** True once this task (or a copy of it) has replied. */
    public function isCompleted(): bool
    {
        return $this->state->type !== null;
    }

    /** True when the reply was ack() or complete(). */
    public function isSuccessful(): bool
    {
        return $this->state->type === Type::ACK || $this->state->type === Type::SUCCESS;
    }

    /** True when the reply was nack(), requeue() or fail(). */
    public function isFails(): bool
    {
        return in_array($this->state->type, [Type::NACK, Type::REQUEUE, Type::ERROR], true);
    }

    /** The {@see Type} of the reply sent, or null before it. */
    public function getReplyType(): ?int
    {
        return $this->state->type;
    }

    /**
     * Encodes a reply body: {"type":T,"data":D}; an empty $data becomes [] as in RoadRunner's SDK.
     *
     * @param array<string, mixed> $data
     */
    public static function encodeReply(int $type, array $data = []): string
    {
        return json_encode(['type' => $type, 'data' => $data], self::JSON_FLAGS);
    }

    /**
     * @param array<string, mixed> $data
     */
    private function reply(int $type, array $data): void
    {
        if ($this->state->type !== null) {
            return;
        }
        $body = self::encodeReply($type, $data);
        // Marked first: if the relay breaks mid-write, the task must not be answered twice.
        $this->state->type = $type;
        $this->worker->respond(new Payload('', $body));
    }

    private static function checkHeaderName(string $name): void
    {
        if ($name === '') {
            throw new \InvalidArgumentException('A header name cannot be empty');
        }
    }

    /**
     * @param string|iterable<mixed> $value
     *
     * @return list<string>
     */
    private static function headerValues(string|iterable $value): array
    {
        if (is_string($value)) {
            return [$value];
        }
        $out = [];
        foreach ($value as $item) {
            if (!is_scalar($item) && !$item instanceof \Stringable) {
                throw new \InvalidArgumentException(sprintf(
                    'A header value must be a string, %s given',
                    get_debug_type($item)
                ));
            }
            $out[] = is_bool($item) ? ($item ? 'true' : 'false') : (string) $item;
        }

        return $out;
    }

    /**
     * @param array<array-key, mixed> $headers
     *
     * @return array<string, list<string>>
     */
    private static function normalizeHeaders(array $headers): array
    {
        $out = [];
        foreach ($headers as $name => $values) {
            $name = (string) $name;
            if ($name === '' || $values === null) {
                continue;
            }
            $out[$name] = self::headerValues(is_iterable($values) ? $values : (string) $values);
        }

        return $out;
    }
}
