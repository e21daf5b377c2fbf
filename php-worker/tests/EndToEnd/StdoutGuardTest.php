<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\EndToEnd;

use Pivot\Worker\RelayException;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\Tests\Support\WorkerProcess;
use PHPUnit\Framework\TestCase;

final class StdoutGuardTest extends TestCase
{
    public function testStrayOutputGoesToStderrAndFramesStayValid(): void
    {
        $process = new WorkerProcess(dirname(__DIR__) . '/Fixtures/noisy_worker.php');

        $process->write(Wire::pidRequest());
        $reply = $process->receive();
        self::assertSame('{"pid":' . $process->pid() . ',"exact_reads":true}', $reply?->payload);

        foreach (['/one', '/two'] as $path) {
            $process->write(Wire::request(Wire::httpContext(['uri' => 'http://h' . $path, 'rawQuery' => ''])));
            $frame = $process->receive();

            self::assertNotNull($frame);
            self::assertSame(0, $frame->flags);
            self::assertSame([56], $frame->options);
            self::assertSame(
                '{"status":200,"headers":{"Content-Type":["text/plain"]}}clean body ' . $path,
                $frame->payload
            );
        }

        $process->write(Wire::stopControl());
        $result = $process->close();

        self::assertSame(0, $result['exitCode'], $result['stderr']);
        self::assertSame('', $result['stdout'], 'nothing but frames on stdout');
        $stderr = $result['stderr'];
        foreach (
            [
                "noise after create\n",
                "echo:/one\n",
                "echo:/two\n",
                "print\n",
                "printf 42\n",
                '["var_dump"]=>',
                "nested buffer\n",
                'a displayed warning',
                str_repeat('x', 100000),
                "after respond\n",
                "bye\n",
            ] as $needle
        ) {
            self::assertStringContainsString($needle, $stderr);
        }
    }

    public function testCoreDoesNotNeedPsrPackages(): void
    {
        $process = new WorkerProcess(dirname(__DIR__) . '/Fixtures/core_only.php');
        $result = $process->close();

        self::assertSame(0, $result['exitCode'], $result['stderr']);
        self::assertSame('[]', $result['stdout']);
    }

    public function testWorkerWithoutGuardWouldCorruptTheStream(): void
    {
        // Sanity check of the test above: the same echo without the guard is not a frame.
        $process = new WorkerProcess(dirname(__DIR__) . '/Fixtures/unguarded_worker.php');
        $process->write(Wire::pidRequest());
        try {
            $process->receive();
            self::fail('stray output was read as a valid frame');
        } catch (RelayException $e) {
            self::assertStringContainsString('CRC mismatch', $e->getMessage());
        }
        $process->close();
    }
}
