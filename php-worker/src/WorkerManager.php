<?php

declare(strict_types=1);

namespace Pivot\Worker;

use Pivot\Worker\Http\BadRequestException;
use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Http\Request;

/**
 * The request loop of a long-running application: hooks around every request, state reset,
 * periodic garbage collection, and restart requests when the worker grows too large.
 *
 *     $manager = new WorkerManager(Worker::create(), ['memory_limit_bytes' => 128 << 20]);
 *     $manager->onStateReset(fn () => $container->resetServices());
 *     $manager->runHttp(new HttpWorker($worker), fn (Request $r) => [200, 'Hello', []]);
 *
 * For every request, in this order: beforeRequest hooks, the handler, the answer (the handler's
 * response, or an ERROR frame when something threw), onError hooks (on failure), afterRequest
 * hooks, onStateReset hooks, then housekeeping (gc_every, memory_limit_bytes, max_requests).
 *
 * A worker cannot send a frame on its own. When it wants to be replaced (memory over the soft
 * limit, max_requests reached, a state-reset hook failed), it answers the NEXT request with the
 * {"stop":true} frame ({@see Worker::stop()}): the server retries that request on another worker
 * and replaces this one. run() then returns, and the script should exit.
 */
final class WorkerManager
{
    private const OPTIONS = ['gc_every', 'memory_limit_bytes', 'max_requests', 'log'];

    private int $gcEvery = 0;

    private int $memoryLimit = 0;

    private int $maxRequests = 0;

    /** @var \Closure(string): void */
    private \Closure $log;

    /** @var list<callable> */
    private array $beforeRequest = [];

    /** @var list<callable> */
    private array $afterRequest = [];

    /** @var list<callable> */
    private array $stateReset = [];

    /** @var list<callable> */
    private array $onError = [];

    private int $requests = 0;

    private ?string $restartReason = null;

    /**
     * @param array{gc_every?: int, memory_limit_bytes?: int|string, max_requests?: int,
     *              log?: callable(string): void} $options
     *        - gc_every: run gc_collect_cycles() after every N requests (0, the default: never)
     *        - memory_limit_bytes: soft limit; when memory_get_usage(true) exceeds it after a request
     *          (and after a gc_collect_cycles()), the worker asks to be replaced. An int, or a
     *          php.ini-style size such as "128M". 0 (the default): no limit
     *        - max_requests: ask to be replaced after this many requests (0, the default: never)
     *        - log: receives one-line messages (default: written to STDERR, which the server logs)
     */
    public function __construct(private readonly Worker $worker, array $options = [])
    {
        $unknown = array_diff(array_keys($options), self::OPTIONS);
        if ($unknown !== []) {
            throw new \InvalidArgumentException(sprintf(
                'Unknown WorkerManager option(s): %s (known: %s)',
                implode(', ', $unknown),
                implode(', ', self::OPTIONS)
            ));
        }
        $this->gcEvery = self::intOption($options, 'gc_every');
        $this->maxRequests = self::intOption($options, 'max_requests');
        $this->memoryLimit = self::bytes($options['memory_limit_bytes'] ?? 0);
        if (isset($options['log'])) {
            if (!is_callable($options['log'])) {
                throw new \InvalidArgumentException('The "log" option must be a callable');
            }
            $this->log = \Closure::fromCallable($options['log']);
        } else {
            $this->log = static function (string $line): void {
                fwrite(defined('STDERR') ? \STDERR : fopen('php://stderr', 'wb'), $line . "\n");
            };
        }
    }

    public function getWorker(): Worker
    {
        return $this->worker;
    }

    /**
     * Called before the handler with the request (a Payload in run(), an Http\Request in runHttp()).
     * An exception fails the request like one from the handler.
     *
     * @param callable(Payload|Request): void $hook
     */
    public function beforeRequest(callable $hook): self
    {
        $this->beforeRequest[] = $hook;

        return $this;
    }

    /**
     * Called after the request was answered, with the request and the exception that failed it
     * (null on success).
     *
     * @param callable(Payload|Request, ?\Throwable): void $hook
     */
    public function afterRequest(callable $hook): self
    {
        $this->afterRequest[] = $hook;

        return $this;
    }

    /**
     * Called after every request, successful or not, to reset application state (singletons,
     * identity maps, request-scoped services...). If it throws, the worker asks to be replaced.
     *
     * @param callable(): void $hook
     */
    public function onStateReset(callable $hook): self
    {
        $this->stateReset[] = $hook;

        return $this;
    }

    /**
     * Called with every exception the handler or a hook threw, and the request (null when the
     * request could not be decoded). The request has already been answered when this runs: with
     * an ERROR frame if it was still pending (the client gets a 500).
     *
     * @param callable(\Throwable, Payload|Request|null): void $hook
     */
    public function onError(callable $hook): self
    {
        $this->onError[] = $hook;

        return $this;
    }

    /**
     * Serves raw payloads until the server stops the worker or the worker asked to be replaced.
     *
     * The handler gets the Payload and the Worker and returns the response: a Payload, a string
     * (the body, with an empty context) or null when it answered itself through the Worker (e.g. a
     * streamed response). An exception fails the request with an ERROR frame; the loop goes on.
     *
     * @param callable(Payload, Worker): (Payload|string|null) $handler
     *
     * @throws RelayException  when the frame channel breaks (exit; the server starts a new worker)
     * @throws WorkerException on a protocol violation by the server
     */
    public function run(callable $handler): void
    {
        while (($payload = $this->worker->waitPayload()) !== null) {
            if ($this->stopInsteadOfAnswering()) {
                return;
            }
            $this->handle($payload, function (Payload $payload) use ($handler): void {
                $response = $handler($payload, $this->worker);
                if ($response === null) {
                    return;
                }
                if (!$response instanceof Payload) {
                    if (!is_string($response)) {
                        throw new \UnexpectedValueException(sprintf(
                            'The handler must return a Payload, a string or null, got %s',
                            get_debug_type($response)
                        ));
                    }
                    $response = new Payload('', $response);
                }
                $this->answer(fn () => $this->worker->respond($response));
            });
        }
    }

    /**
     * Serves HTTP requests until the server stops the worker or the worker asked to be replaced.
     *
     * The handler gets the Request and the HttpWorker and returns [status, body, headers] (body and
     * headers optional), or null when it called $http->respond() itself. An exception fails the
     * request (the client gets a 500); the loop goes on. Requests whose context cannot be decoded
     * are failed the same way and reach only the onError hooks.
     *
     * @param callable(Request, HttpWorker): (array{0: int, 1?: string, 2?: array<string, mixed>}|null) $handler
     *
     * @throws RelayException  when the frame channel breaks (exit; the server starts a new worker)
     * @throws WorkerException on a protocol violation by the server
     */
    public function runHttp(HttpWorker $http, callable $handler): void
    {
        if ($http->getWorker() !== $this->worker) {
            throw new \InvalidArgumentException('The HttpWorker must wrap the WorkerManager\'s Worker');
        }
        while (true) {
            try {
                $request = $http->waitRequest();
            } catch (BadRequestException $e) {
                if ($this->stopInsteadOfAnswering()) {
                    return;
                }
                $this->requests++;
                $this->worker->error((string) $e);
                $this->reportError($e, null);
                $this->housekeeping();
                continue;
            }
            if ($request === null) {
                return;
            }
            if ($this->stopInsteadOfAnswering()) {
                return;
            }
            $this->handle($request, function (Request $request) use ($http, $handler): void {
                $response = $handler($request, $http);
                if ($response === null) {
                    return;
                }
                if (!is_array($response) || !is_int($response[0] ?? null)) {
                    throw new \UnexpectedValueException(sprintf(
                        'The HTTP handler must return [status, body, headers] or null, got %s',
                        get_debug_type($response)
                    ));
                }
                $body = $response[1] ?? '';
                if (!is_string($body) && !$body instanceof \Stringable) {
                    throw new \UnexpectedValueException(
                        'The response body must be a string, got ' . get_debug_type($body)
                    );
                }
                $headers = $response[2] ?? [];
                if (!is_array($headers)) {
                    throw new \UnexpectedValueException(
                        'The response headers must be an array, got ' . get_debug_type($headers)
                    );
                }
                $this->answer(fn () => $http->respond($response[0], (string) $body, $headers));
            });
        }
    }

    /** Requests handled so far (including failed ones). */
    public function getRequestCount(): int
    {
        return $this->requests;
    }

    /** Why the worker wants to be replaced, or null. */
    public function getRestartReason(): ?string
    {
        return $this->restartReason;
    }

    /**
     * Makes the worker answer the next request with a restart request (see the class comment).
     */
    public function requestRestart(string $reason): void
    {
        if ($this->restartReason === null) {
            $this->restartReason = $reason;
            ($this->log)('[pivot-worker] restart requested: ' . $reason);
        }
    }

    /**
     * A request has arrived. If a restart is wanted, answer it with the stop frame (the server
     * retries it elsewhere) and tell the caller to leave the loop.
     */
    private function stopInsteadOfAnswering(): bool
    {
        if ($this->restartReason === null) {
            return false;
        }
        $this->worker->stop();

        return true;
    }

    /**
     * Runs one request through the hooks and $process, and makes sure it is answered exactly once.
     *
     * @param callable(Payload|Request): void $process
     */
    private function handle(Payload|Request $request, callable $process): void
    {
        $this->requests++;
        $error = null;
        try {
            foreach ($this->beforeRequest as $hook) {
                $hook($request);
            }
            $process($request);
            if ($this->worker->hasPendingRequest()) {
                throw new \LogicException('The handler returned null but did not answer the request');
            }
        } catch (RelayException $e) {
            throw $e;
        } catch (\Throwable $e) {
            $error = $e;
            if ($this->worker->hasPendingRequest()) {
                $this->worker->error((string) $e);
            } else {
                ($this->log)('[pivot-worker] exception after the request was answered: ' . self::describe($e));
            }
            $this->reportError($e, $request);
        }

        try {
            foreach ($this->afterRequest as $hook) {
                $hook($request, $error);
            }
        } catch (RelayException $e) {
            throw $e;
        } catch (\Throwable $e) {
            $this->reportError($e, $request);
        }

        try {
            foreach ($this->stateReset as $hook) {
                $hook();
            }
        } catch (RelayException $e) {
            throw $e;
        } catch (\Throwable $e) {
            $this->reportError($e, $request);
            $this->requestRestart('state reset failed: ' . self::describe($e));
        }

        $this->housekeeping();
    }

    /**
     * Sends the handler's response, unless the handler already answered.
     *
     * @param callable(): void $send
     */
    private function answer(callable $send): void
    {
        if (!$this->worker->hasPendingRequest()) {
            ($this->log)('[pivot-worker] the handler answered the request itself; its return value is ignored');

            return;
        }
        $send();
    }

    private function reportError(\Throwable $e, Payload|Request|null $request): void
    {
        foreach ($this->onError as $hook) {
            try {
                $hook($e, $request);
            } catch (RelayException $relay) {
                throw $relay;
            } catch (\Throwable $inner) {
                ($this->log)('[pivot-worker] onError hook failed: ' . self::describe($inner));
            }
        }
    }

    private function housekeeping(): void
    {
        if ($this->gcEvery > 0 && $this->requests % $this->gcEvery === 0) {
            gc_collect_cycles();
        }
        if ($this->memoryLimit > 0 && $this->restartReason === null && memory_get_usage(true) > $this->memoryLimit) {
            // Garbage cycles may be all that is left over: collect them before giving up.
            gc_collect_cycles();
            gc_mem_caches();
            $usage = memory_get_usage(true);
            if ($usage > $this->memoryLimit) {
                $this->requestRestart(sprintf(
                    'memory %s > limit %s',
                    self::formatBytes($usage),
                    self::formatBytes($this->memoryLimit)
                ));
            }
        }
        if ($this->maxRequests > 0 && $this->requests >= $this->maxRequests) {
            $this->requestRestart(sprintf('%d requests served (max_requests %d)', $this->requests, $this->maxRequests));
        }
    }

    /**
     * @param array<string, mixed> $options
     */
    private static function intOption(array $options, string $name): int
    {
        $value = $options[$name] ?? 0;
        if (!is_int($value) || $value < 0) {
            throw new \InvalidArgumentException("The \"$name\" option must be an integer >= 0");
        }

        return $value;
    }

    private static function bytes(mixed $value): int
    {
        if (is_int($value) && $value >= 0) {
            return $value;
        }
        if (is_string($value) && preg_match('/^\s*(\d+)\s*([kmg]?)b?\s*$/i', $value, $m)) {
            return (int) $m[1] << ['' => 0, 'k' => 10, 'm' => 20, 'g' => 30][strtolower($m[2])];
        }
        throw new \InvalidArgumentException(
            'The "memory_limit_bytes" option must be a number of bytes >= 0 or a size such as "128M"'
        );
    }

    /** 140MB, 34.5MB, 512KB, 100B. */
    private static function formatBytes(int $bytes): string
    {
        if ($bytes >= 1 << 20) {
            $mb = round($bytes / (1 << 20), 1);

            return (fmod($mb, 1.0) === 0.0 ? sprintf('%d', $mb) : sprintf('%.1f', $mb)) . 'MB';
        }
        if ($bytes >= 1 << 10 && $bytes % (1 << 10) === 0) {
            return sprintf('%dKB', $bytes >> 10);
        }

        return $bytes . 'B';
    }

    private static function describe(\Throwable $e): string
    {
        return sprintf(
            '%s: %s in %s:%d',
            get_class($e),
            str_replace(["\r", "\n"], ' ', $e->getMessage()),
            $e->getFile(),
            $e->getLine()
        );
    }
}
