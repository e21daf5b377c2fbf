<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Support;

/**
 * The real pivot-server binary run with proc_open() (no shell), with a config written to a fresh
 * temp directory; its log goes to a file there. The binary is $PIVOT_SERVER_BIN, else
 * build/pivot-server in the repository.
 */
final class PivotServer
{
    /** @var resource */
    private $process;

    public readonly string $dir;

    public readonly string $logFile;

    public readonly int $httpPort;

    public readonly int $rpcPort;

    /**
     * @param string $yaml the config; {{HTTP}} and {{RPC}} become free 127.0.0.1 ports
     */
    public function __construct(string $yaml)
    {
        $binary = self::binary();
        if (!is_file($binary) || !is_executable($binary)) {
            throw new \RuntimeException(
                "pivot-server binary not found at $binary: build it (cmake --build build) or set PIVOT_SERVER_BIN"
            );
        }
        $dir = sys_get_temp_dir() . '/pivot-php-e2e-' . bin2hex(random_bytes(6));
        if (!mkdir($dir, 0700)) {
            throw new \RuntimeException("cannot create $dir");
        }
        $this->dir = $dir;
        $this->logFile = "$dir/server.log";
        $this->httpPort = self::freePort();
        $this->rpcPort = self::freePort();
        file_put_contents("$dir/.pivot.yaml", strtr($yaml, [
            '{{HTTP}}' => (string) $this->httpPort,
            '{{RPC}}' => (string) $this->rpcPort,
        ]));
        $process = proc_open(
            [$binary, 'serve', '-w', $dir, '-c', '.pivot.yaml'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->logFile, 'a'], 2 => ['file', $this->logFile, 'a']],
            $pipes,
            $dir,
        );
        if (!is_resource($process)) {
            throw new \RuntimeException("cannot start $binary");
        }
        $this->process = $process;
    }

    public static function binary(): string
    {
        $env = getenv('PIVOT_SERVER_BIN');

        return is_string($env) && $env !== '' ? $env : PIVOT_REPO_ROOT . '/build/pivot-server';
    }

    public function rpcAddress(): string
    {
        return 'tcp://127.0.0.1:' . $this->rpcPort;
    }

    public function isRunning(): bool
    {
        return is_resource($this->process) && proc_get_status($this->process)['running'];
    }

    /** Everything the server logged so far. */
    public function log(): string
    {
        return (string) @file_get_contents($this->logFile);
    }

    /**
     * Polls $condition every 20 ms until it returns a truthy value or $timeout seconds pass; fails
     * early when the server exits. Returns the last value.
     */
    public function waitFor(callable $condition, float $timeout, string $what): mixed
    {
        $deadline = microtime(true) + $timeout;
        while (true) {
            $value = $condition();
            if ($value) {
                return $value;
            }
            if (!$this->isRunning()) {
                throw new \RuntimeException("pivot-server exited while waiting for $what; log:\n" . substr($this->log(), -4000));
            }
            if (microtime(true) > $deadline) {
                throw new \RuntimeException("timed out after {$timeout}s waiting for $what; log ends:\n" . substr($this->log(), -4000));
            }
            usleep(20000);
        }
    }

    /**
     * SIGTERM, then waits (SIGKILL after $timeout seconds). Returns the exit code, -1 when killed.
     */
    public function stop(float $timeout = 15.0): int
    {
        if (!is_resource($this->process)) {
            return -1;
        }
        proc_terminate($this->process, 15);
        $deadline = microtime(true) + $timeout;
        $code = -1;
        while (microtime(true) < $deadline) {
            $status = proc_get_status($this->process);
            if (!$status['running']) {
                $code = $status['exitcode'];
                break;
            }
            usleep(20000);
        }
        if ($code === -1) {
            proc_terminate($this->process, 9);
        }
        proc_close($this->process);

        return $code;
    }

    /** Stops the server and removes its directory. */
    public function cleanup(): void
    {
        $this->stop();
        foreach (glob($this->dir . '/{,.}[!.]*', GLOB_BRACE) ?: [] as $file) {
            @unlink($file);
        }
        @rmdir($this->dir);
    }

    public function __destruct()
    {
        if (is_resource($this->process)) {
            $this->stop();
        }
    }

    private static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        if ($socket === false) {
            throw new \RuntimeException("no free port: $errstr");
        }
        $name = (string) stream_socket_get_name($socket, false);
        fclose($socket);

        return (int) substr($name, strrpos($name, ':') + 1);
    }
}
