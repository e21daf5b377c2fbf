<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Support;

/**
 * tests/Fixtures/fake_rpc_server.php run with proc_open() (no shell): a scripted goridge RPC server
 * listening on a free TCP port or on a unix socket.
 */
final class FakeRpcServer
{
    /** @var resource */
    private $process;

    /** @var resource[] */
    private array $pipes;

    public readonly string $address;

    public function __construct(string $listen = 'tcp://127.0.0.1:0')
    {
        $script = dirname(__DIR__) . '/Fixtures/fake_rpc_server.php';
        $process = proc_open(
            [\PHP_BINARY, $script, $listen],
            [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes,
        );
        if (!is_resource($process)) {
            throw new \RuntimeException("Cannot start $script");
        }
        $this->process = $process;
        $this->pipes = $pipes;

        $read = [$pipes[1]];
        $write = null;
        $except = null;
        $line = stream_select($read, $write, $except, 10) > 0 ? fgets($pipes[1]) : false;
        if (!is_string($line) || trim($line) === '') {
            $stderr = stream_get_contents($pipes[2]);
            $this->stop();
            throw new \RuntimeException("The fake RPC server did not start: $stderr");
        }
        $this->address = trim($line);
    }

    /**
     * Closes its stdin (it exits then) and returns what it wrote on stderr.
     */
    public function stop(): string
    {
        if (!is_resource($this->process)) {
            return '';
        }
        fclose($this->pipes[0]);
        $deadline = microtime(true) + 5;
        while (proc_get_status($this->process)['running'] && microtime(true) < $deadline) {
            usleep(5000);
        }
        if (proc_get_status($this->process)['running']) {
            proc_terminate($this->process, 9);
        }
        $stderr = (string) stream_get_contents($this->pipes[2]);
        fclose($this->pipes[1]);
        fclose($this->pipes[2]);
        proc_close($this->process);

        return $stderr;
    }

    public function __destruct()
    {
        $this->stop();
    }
}
