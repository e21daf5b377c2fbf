<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Support;

use Pivot\Worker\Frame;
use Pivot\Worker\Relay;

/**
 * A PHP worker script run with proc_open() (no shell), talked to over its stdin/stdout pipes.
 */
final class WorkerProcess
{
    /** @var resource */
    private $process;

    /** @var resource[] */
    private array $pipes;

    private Relay $relay;

    private string $stderr = '';

    /** Exit code, once the process was seen to end (proc_get_status() reports it only once). */
    private ?int $exitCode = null;

    /**
     * @param list<string>               $args command-line arguments for the script
     * @param array<string, string>|null $env  extra environment variables (added to this process's)
     */
    public function __construct(string $script, array $args = [], ?array $env = null)
    {
        $process = proc_open(
            [\PHP_BINARY, $script, ...$args],
            [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes,
            dirname($script),
            $env === null ? null : $env + getenv(),
        );
        if (!is_resource($process)) {
            throw new \RuntimeException("Cannot start $script");
        }
        $this->process = $process;
        $this->pipes = $pipes;
        stream_set_blocking($this->pipes[2], false);
        $this->relay = new Relay($this->pipes[1], $this->pipes[0]);
    }

    public function pid(): int
    {
        return (int) proc_get_status($this->process)['pid'];
    }

    public function write(string $bytes): void
    {
        fwrite($this->pipes[0], $bytes);
        fflush($this->pipes[0]);
    }

    /**
     * Waits (at most $timeout seconds) for the next frame on the worker's stdout, draining its stderr
     * meanwhile so a chatty worker never blocks on a full stderr pipe.
     */
    public function receive(float $timeout = 10.0): ?Frame
    {
        $deadline = microtime(true) + $timeout;
        while (true) {
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                throw new \RuntimeException(
                    "No frame from the worker within {$timeout}s; stderr ends with: " . substr($this->stderr(), -2000)
                );
            }
            $read = [$this->pipes[1], $this->pipes[2]];
            $write = null;
            $except = null;
            $sec = (int) $left;
            if (stream_select($read, $write, $except, $sec, (int) (($left - $sec) * 1e6)) === false) {
                throw new \RuntimeException('stream_select() failed');
            }
            $this->drainStderr();
            if (in_array($this->pipes[1], $read, true)) {
                return $this->relay->receive();
            }
        }
    }

    /** Everything the worker wrote on stderr so far. */
    public function stderr(): string
    {
        $this->drainStderr();

        return $this->stderr;
    }

    /**
     * Waits (at most $timeout seconds) for the process to exit on its own, stdin still open.
     *
     * @return int|null the exit code, or null if it is still running
     */
    public function waitForExit(float $timeout = 10.0): ?int
    {
        $deadline = microtime(true) + $timeout;
        while ($this->exitCode === null) {
            $this->drainStderr();
            $status = proc_get_status($this->process);
            if (!$status['running']) {
                $this->exitCode = $status['exitcode'];
                break;
            }
            if (microtime(true) > $deadline) {
                return null;
            }
            usleep(10000);
        }

        return $this->exitCode;
    }

    /**
     * Closes stdin (EOF = stop) and waits for the process.
     *
     * @return array{exitCode: int, stdout: string, stderr: string}
     */
    public function close(float $timeout = 10.0): array
    {
        if (is_resource($this->pipes[0])) {
            fclose($this->pipes[0]);
        }
        $exitCode = $this->waitForExit($timeout);
        if ($exitCode === null) {
            proc_terminate($this->process, 9);
            $exitCode = -1;
        }
        $stdout = (string) stream_get_contents($this->pipes[1]);
        stream_set_blocking($this->pipes[2], true);
        $this->stderr .= (string) stream_get_contents($this->pipes[2]);
        fclose($this->pipes[1]);
        fclose($this->pipes[2]);
        proc_close($this->process);

        return ['exitCode' => $exitCode, 'stdout' => $stdout, 'stderr' => $this->stderr];
    }

    public function __destruct()
    {
        if (is_resource($this->process)) {
            $this->close(2.0);
        }
    }

    private function drainStderr(): void
    {
        if (is_resource($this->pipes[2])) {
            $this->stderr .= (string) stream_get_contents($this->pipes[2]);
        }
    }
}
