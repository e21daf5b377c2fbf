<?php

declare(strict_types=1);

namespace Pivot\Worker;

/**
 * A worker process's side of the pivot-server / RoadRunner protocol: answers the pid handshake,
 * hands out request payloads and sends responses, errors and stop requests.
 *
 *     $worker = Worker::create();
 *     while ($payload = $worker->waitPayload()) {
 *         $worker->respond(new Payload('', 'done'));
 *     }
 */
final class Worker
{
    private const STOP_PAYLOAD = '{"stop":true}';

    /** A request was handed out by waitPayload() and has not been answered yet. */
    private bool $pending = false;

    public function __construct(private readonly Relay $relay)
    {
    }

    /**
     * A worker on STDIN/STDOUT (the `pipes` relay). With $protectStdout (the default) any output
     * the application echoes is redirected to STDERR so it cannot corrupt the frames.
     */
    public static function create(bool $protectStdout = true): self
    {
        if ($protectStdout) {
            StdoutGuard::install();
        }

        return new self(new Relay(\STDIN, \STDOUT));
    }

    public function getRelay(): Relay
    {
        return $this->relay;
    }

    public function getPid(): int
    {
        return (int) getmypid();
    }

    /**
     * Waits for the next request. Control frames are handled here: a pid request is answered and
     * waiting continues; a stop request (or the end of STDIN) returns null, and the worker should
     * then exit.
     *
     * @throws WorkerException on an invalid control message or request frame
     * @throws RelayException  when the frame stream is corrupt or truncated
     */
    public function waitPayload(): ?Payload
    {
        while (true) {
            $frame = $this->relay->receive();
            if ($frame === null) {
                return null;
            }

            if (($frame->flags & Frame::CONTROL) !== 0) {
                if ($this->handleControl($frame->payload)) {
                    continue;
                }

                return null;
            }

            // A stream STOP or PONG that arrives outside a stream (e.g. after the last chunk): nothing to do.
            if (($frame->byte10 & (Frame::STOP | Frame::PONG)) !== 0) {
                continue;
            }

            if (!isset($frame->options[0])) {
                throw new WorkerException(
                    'Invalid request frame: option[0] (the context length) is missing; frame starts '
                    . Frame::hexdump(Frame::encode($frame), 32)
                );
            }
            $headerLength = $frame->options[0];
            if ($headerLength > strlen($frame->payload)) {
                throw new WorkerException(sprintf(
                    'Invalid request frame: context length %d exceeds payload length %d',
                    $headerLength,
                    strlen($frame->payload)
                ));
            }

            $this->pending = true;

            return new Payload(
                substr($frame->payload, 0, $headerLength),
                substr($frame->payload, $headerLength),
            );
        }
    }

    /**
     * True between waitPayload() returning a request and the final answer to it (a response with
     * eos, error() or stop()). A stream chunk (eos false) leaves the request pending.
     */
    public function hasPendingRequest(): bool
    {
        return $this->pending;
    }

    /**
     * Sends a response. $codec becomes the frame's flags (0 when null); $payload->eos === false
     * marks the frame as a stream chunk.
     */
    public function respond(Payload $payload, ?int $codec = null): void
    {
        $this->relay->send(new Frame(
            $codec ?? 0,
            [strlen($payload->header)],
            $payload->header . $payload->body,
            $payload->eos ? 0 : Frame::STREAM,
        ));
        if ($payload->eos) {
            $this->pending = false;
        }
    }

    /**
     * Fails the current request with a message (ERROR frame). The worker stays in the pool.
     */
    public function error(string $message): void
    {
        $this->relay->send(new Frame(Frame::ERROR, [], $message));
        $this->pending = false;
    }

    /**
     * Answers the current request with a restart request: the server stops this worker, starts a
     * replacement and re-dispatches the request to another worker.
     */
    public function stop(): void
    {
        $this->relay->send(new Frame(0, [strlen(self::STOP_PAYLOAD)], self::STOP_PAYLOAD));
        $this->pending = false;
    }

    /**
     * @return bool true to keep waiting (pid request answered), false to stop
     */
    private function handleControl(string $json): bool
    {
        try {
            $command = json_decode($json, true, 16, \JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new WorkerException('Invalid control frame, JSON expected: ' . $e->getMessage(), 0, $e);
        }
        if (!is_array($command)) {
            throw new WorkerException('Invalid control frame, JSON object expected: ' . substr($json, 0, 200));
        }
        if (!empty($command['stop'])) {
            return false;
        }
        if (!empty($command['pid'])) {
            $this->relay->send(new Frame(
                Frame::CONTROL,
                [],
                json_encode(['pid' => $this->getPid()], \JSON_THROW_ON_ERROR),
            ));

            return true;
        }

        throw new WorkerException('Invalid control frame, neither "pid" nor "stop": ' . substr($json, 0, 200));
    }
}
