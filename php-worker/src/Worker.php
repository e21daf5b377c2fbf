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

    /** A stream chunk carries PING when this many frames of the stream were sent before it (§2.6). */
    public const PING_EVERY = 5;

    /** A request was handed out by waitPayload() and has not been answered yet. */
    private bool $pending = false;

    /** Frames sent in the current response stream (0 outside a stream). */
    private int $framesSent = 0;

    /** The server sent STOP for the current stream. */
    private bool $streamStopped = false;

    /** PONGs received and not yet waited for. */
    private int $pongs = 0;

    /**
     * Frames other than STOP/PONG that arrived during a stream, for waitRequestParts(), as
     * Relay::receiveParts() returns them.
     *
     * @var list<array{0: int, 1: list<int>, 2: string, 3: int}>
     */
    private array $queued = [];

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
        $request = $this->waitRequestParts();

        return $request === null ? null : new Payload($request[0], $request[1]);
    }

    /**
     * {@see waitPayload()} without building a Payload: [context, body], or null when the worker
     * must stop (the per-request path of {@see Http\HttpWorker}).
     *
     * @return array{0: string, 1: string}|null
     *
     * @throws WorkerException on an invalid control message or request frame
     * @throws RelayException  when the frame stream is corrupt or truncated
     */
    public function waitRequestParts(): ?array
    {
        while (true) {
            $frame = $this->queued !== [] ? \array_shift($this->queued) : $this->relay->receiveParts();
            if ($frame === null) {
                return null;
            }
            [$flags, $options, $payload, $byte10] = $frame;

            if (($flags & Frame::CONTROL) !== 0) {
                if ($this->handleControl($payload)) {
                    continue;
                }

                return null;
            }

            // A stream STOP or PONG that arrives outside a stream (e.g. after the last chunk): nothing to do.
            if (($byte10 & (Frame::STOP | Frame::PONG)) !== 0) {
                continue;
            }

            if (!isset($options[0])) {
                throw new WorkerException(
                    'Invalid request frame: option[0] (the context length) is missing; frame starts '
                    . Frame::hexdump(Frame::encodeParts($flags, $options, $payload, $byte10), 32)
                );
            }
            $headerLength = $options[0];
            $length = \strlen($payload);
            if ($headerLength > $length) {
                throw new WorkerException(\sprintf(
                    'Invalid request frame: context length %d exceeds payload length %d',
                    $headerLength,
                    $length
                ));
            }

            $this->pending = true;

            return $headerLength === $length
                ? [$payload, '']
                : [\substr($payload, 0, $headerLength), \substr($payload, $headerLength)];
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
        $this->respondParts($payload->header, $payload->body, $payload->eos, $codec);
    }

    /**
     * {@see respond()} without a Payload object: context ("header") and body as strings.
     */
    public function respondParts(string $header, string $body, bool $eos = true, ?int $codec = null): void
    {
        if ($eos) {
            $this->relay->sendBytes(Frame::encodeParts($codec ?? 0, [\strlen($header)], $header . $body));
            $this->pending = false;
            if ($this->framesSent !== 0 || $this->streamStopped || $this->pongs !== 0) {
                $this->endStream();
            }

            return;
        }
        // A stream chunk. Every PING_EVERY frames it carries PING and the worker waits for the
        // PONG, which also brings any STOP the server sent before it (protocol doc §2.6).
        $byte10 = Frame::STREAM;
        if ($this->framesSent > 0 && $this->framesSent % self::PING_EVERY === 0 && !$this->streamStopped) {
            $byte10 |= Frame::PING;
        }
        $this->relay->sendBytes(Frame::encodeParts($codec ?? 0, [\strlen($header)], $header . $body, $byte10));
        ++$this->framesSent;
        if (($byte10 & Frame::PING) !== 0) {
            $this->waitPong();
        }
    }

    /**
     * True when the server stopped the current response stream (the client went away): stop
     * sending chunks and answer with a final empty response. Never blocks.
     *
     * @throws RelayException when the channel is broken
     */
    public function isStreamStopped(): bool
    {
        while (!$this->streamStopped && $this->relay->hasFrame()) {
            $this->handleStreamFrame($this->relay->receiveParts());
        }

        return $this->streamStopped;
    }

    /**
     * Fails the current request with a message (ERROR frame). The worker stays in the pool.
     */
    public function error(string $message): void
    {
        $this->relay->send(new Frame(Frame::ERROR, [], $message));
        $this->pending = false;
        $this->endStream();
    }

    /**
     * Answers the current request with a restart request: the server stops this worker, starts a
     * replacement and re-dispatches the request to another worker.
     */
    public function stop(): void
    {
        $this->relay->send(new Frame(0, [\strlen(self::STOP_PAYLOAD)], self::STOP_PAYLOAD));
        $this->pending = false;
        $this->endStream();
    }

    private function endStream(): void
    {
        $this->framesSent = 0;
        $this->streamStopped = false;
        $this->pongs = 0;
    }

    /**
     * Blocks until the PONG for the PING just sent (or a STOP) arrives.
     */
    private function waitPong(): void
    {
        while ($this->pongs === 0 && !$this->streamStopped) {
            $this->handleStreamFrame($this->relay->receiveParts());
        }
        if ($this->pongs > 0) {
            --$this->pongs;
        }
    }

    /**
     * A frame read in the middle of a stream: STOP, PONG, or a control frame kept for waitPayload().
     */
    private function handleStreamFrame(?array $frame): void
    {
        if ($frame === null) {
            $this->streamStopped = true; // the server closed our input: nobody is listening any more

            return;
        }
        $byte10 = $frame[3];
        if (($byte10 & Frame::STOP) !== 0) {
            $this->streamStopped = true;
        }
        if (($byte10 & Frame::PONG) !== 0) {
            ++$this->pongs;
        }
        if (($byte10 & (Frame::STOP | Frame::PONG)) === 0) {
            $this->queued[] = $frame; // a control frame (or anything else): waitRequestParts() handles it
        }
    }

    /**
     * @return bool true to keep waiting (pid request answered), false to stop
     */
    private function handleControl(string $json): bool
    {
        try {
            $command = \json_decode($json, true, 16, \JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new WorkerException('Invalid control frame, JSON expected: ' . $e->getMessage(), 0, $e);
        }
        if (!\is_array($command)) {
            throw new WorkerException('Invalid control frame, JSON object expected: ' . \substr($json, 0, 200));
        }
        if (!empty($command['stop'])) {
            return false;
        }
        if (!empty($command['pid'])) {
            $reply = ['pid' => $this->getPid()];
            if ($this->relay->readsExactly()) {
                $reply['exact_reads'] = true; // pivot-server may queue requests in our pipe
            }
            $this->relay->send(new Frame(Frame::CONTROL, [], \json_encode($reply, \JSON_THROW_ON_ERROR)));

            return true;
        }

        throw new WorkerException('Invalid control frame, neither "pid" nor "stop": ' . \substr($json, 0, 200));
    }
}
