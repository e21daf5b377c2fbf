<?php

declare(strict_types=1);

namespace Pivot\Worker\Jobs;

use Pivot\Worker\Worker;

/**
 * The loop of a jobs consumer worker (a worker of the server's `jobs.pool`, started with
 * RR_MODE=jobs), as spiral/roadrunner-jobs' Consumer:
 *
 *     $consumer = Consumer::create();
 *     while ($task = $consumer->waitTask()) {      // null: the server asked the worker to stop
 *         process($task->getPayload());
 *         $task->ack();
 *     }
 *
 * A task frame (roadrunner-protocol.md §4.1) has flags 0x04 (raw), a JSON context
 * `{"id","job","driver","headers":{name:[values]}|null,"pipeline","queue"?}` and the payload as
 * body. The server waits for one reply per task and sends no other task to this worker meanwhile.
 *
 * **Unanswered tasks are acked.** When the application asks for the next task without having
 * replied to the previous one (no ack/nack/requeue/fail), waitTask() first acks it: returning
 * normally from the handler counts as success, and the server is never left waiting for a reply
 * that will not come (which would hold the job, and this worker, until `exec_ttl` kills it). A
 * handler that throws out of the loop ends the worker; the server nacks and redelivers the job.
 */
final class Consumer
{
    /** getQueue() when the driver sends no queue (the memory driver). */
    public const DEFAULT_QUEUE = 'unknown';

    private ?ReceivedTask $current = null;

    public function __construct(private readonly Worker $worker)
    {
    }

    /** A consumer over Worker::create() (STDIN/STDOUT, with stdout protected). */
    public static function create(): self
    {
        return new self(Worker::create());
    }

    public function getWorker(): Worker
    {
        return $this->worker;
    }

    /**
     * Waits for the next task; null when the worker must stop (then exit). Acks the previous task
     * first if it was left unanswered.
     *
     * @throws JobsException when a task's context is not the JSON object of §4.1; the task has been
     *         answered with an ERROR frame (the server nacks it), so the loop may go on
     * @throws \Pivot\Worker\WorkerException|\Pivot\Worker\RelayException on a broken frame stream
     */
    public function waitTask(): ?ReceivedTask
    {
        if ($this->current !== null) {
            if (!$this->current->isCompleted()) {
                $this->current->ack();
            }
            $this->current = null;
        }

        $payload = $this->worker->waitPayload();
        if ($payload === null) {
            return null;
        }

        try {
            $context = json_decode($payload->header, true, 64, \JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw $this->invalid('the context is not JSON (' . $e->getMessage() . ')', $payload->header, $e);
        }
        if (!is_array($context) || array_is_list($context) && $context !== []) {
            throw $this->invalid('the context is not a JSON object', $payload->header);
        }

        $id = $context['id'] ?? null;
        if (is_int($id)) {
            $id = (string) $id;
        }
        if (!is_string($id) || $id === '') {
            throw $this->invalid('"id" is missing or not a non-empty string', $payload->header);
        }
        $headers = $context['headers'] ?? null;
        if ($headers !== null && !is_array($headers)) {
            throw $this->invalid('"headers" is neither an object nor null', $payload->header);
        }
        $headerMap = [];
        foreach ($headers ?? [] as $name => $values) {
            if ($values === null) {
                continue;
            }
            if (!is_array($values)) {
                $values = [$values];
            }
            $list = [];
            foreach ($values as $value) {
                if (is_scalar($value)) {
                    $list[] = is_bool($value) ? ($value ? 'true' : 'false') : (string) $value;
                }
            }
            $headerMap[(string) $name] = $list;
        }
        $queue = self::str($context['queue'] ?? '');

        return $this->current = new ReceivedTask(
            $this->worker,
            $id,
            self::str($context['job'] ?? ''),
            $payload->body,
            self::str($context['pipeline'] ?? ''),
            self::str($context['driver'] ?? ''),
            $queue === '' ? self::DEFAULT_QUEUE : $queue,
            $headerMap,
        );
    }

    /**
     * Answers the undecodable task with an ERROR frame and builds the exception to throw.
     */
    private function invalid(string $why, string $context, ?\Throwable $previous = null): JobsException
    {
        $message = sprintf(
            'Invalid task frame: %s; context starts %s',
            $why,
            json_encode(substr($context, 0, 200), \JSON_INVALID_UTF8_SUBSTITUTE | \JSON_UNESCAPED_SLASHES)
        );
        $this->worker->error($message);

        return new JobsException($message, '', $previous);
    }

    private static function str(mixed $value): string
    {
        return is_scalar($value) ? (string) $value : '';
    }
}
