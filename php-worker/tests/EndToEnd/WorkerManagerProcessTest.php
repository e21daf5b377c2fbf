<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\EndToEnd;

use Pivot\Worker\Frame;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\Tests\Support\WorkerProcess;
use PHPUnit\Framework\TestCase;

/**
 * tests/Fixtures/managed_worker.php (a WorkerManager loop) run as a real process over pipes.
 */
final class WorkerManagerProcessTest extends TestCase
{
    private const STOP_FRAME = '14000d000000f339efdb00000d0000007b2273746f70223a747275657d';

    private static function start(string $mode): WorkerProcess
    {
        $process = new WorkerProcess(dirname(__DIR__) . '/Fixtures/managed_worker.php', [$mode]);
        $process->write(Wire::pidRequest());
        $reply = $process->receive();
        self::assertSame('{"pid":' . $process->pid() . ',"exact_reads":true}', $reply?->payload);

        return $process;
    }

    /**
     * @return array<string, int>
     */
    private static function raw(WorkerProcess $process, string $body): array
    {
        $process->write(Wire::request('', $body));
        $frame = $process->receive();
        self::assertNotNull($frame);
        self::assertSame(0, $frame->flags, (string) $frame->payload);
        self::assertSame([0], $frame->options);

        return json_decode($frame->payload, true, 4, JSON_THROW_ON_ERROR);
    }

    /**
     * @return list<string> the hook lines of the worker's stderr
     */
    private static function hookLines(string $stderr): array
    {
        return array_values(array_filter(
            explode("\n", $stderr),
            static fn (string $line): bool => str_starts_with($line, 'hook:'),
        ));
    }

    public function testHooksErrorsAndTheMemoryLimitRestart(): void
    {
        $process = self::start('raw');

        self::assertSame(1, self::raw($process, 'one')['n']);

        // An exception in the handler: ERROR frame, the worker keeps serving.
        $process->write(Wire::request('', 'throw'));
        $error = $process->receive();
        self::assertNotNull($error);
        self::assertSame(Frame::ERROR, $error->flags);
        self::assertSame([], $error->options);
        self::assertStringStartsWith('RuntimeException: fixture failure in ', $error->payload);
        self::assertSame(3, self::raw($process, 'three')['n']);

        // This request takes the worker over its soft memory limit; it is still answered normally.
        self::assertSame(4, self::raw($process, 'grow')['n']);
        self::assertNull($process->waitForExit(0.2), 'the worker waits for the next request');

        // pid requests are still answered...
        $process->write(Wire::pidRequest());
        self::assertSame('{"pid":' . $process->pid() . ',"exact_reads":true}', $process->receive()?->payload);

        // ...but the next request gets the restart request, byte for byte, and the worker exits.
        $process->write(Wire::request('', 'five'));
        $stop = $process->receive();
        self::assertNotNull($stop);
        self::assertSame(self::STOP_FRAME, bin2hex(Frame::encode($stop)));
        self::assertSame(0, $process->waitForExit(), $process->stderr());

        $result = $process->close();
        self::assertSame(0, $result['exitCode']);
        self::assertSame('', $result['stdout'], 'nothing after the stop frame');
        self::assertSame([
            'hook:before one', 'hook:after one', 'hook:reset',
            'hook:before throw', 'hook:error fixture failure', 'hook:after throw error', 'hook:reset',
            'hook:before three', 'hook:after three', 'hook:reset',
            'hook:before grow', 'hook:after grow', 'hook:reset',
        ], self::hookLines($result['stderr']));
        self::assertMatchesRegularExpression(
            '/^\[pivot-worker\] restart requested: memory \d+(\.\d)?MB > limit \d+(\.\d)?MB$/m',
            $result['stderr']
        );
        self::assertStringEndsWith("loop ended after 4 requests\n", $result['stderr']);
    }

    public function testGcEvery(): void
    {
        $process = self::start('raw');

        $runs = [];
        $collected = [];
        for ($i = 0; $i < 5; $i++) {
            $reply = self::raw($process, 'cycle');
            $runs[] = $reply['gcRuns'];
            $collected[] = $reply['gcCollected'];
        }

        // Measured inside the handler, so the collection after request N shows in request N + 1.
        self::assertSame([0, 0, 1, 1, 2], $runs);
        self::assertSame(0, $collected[1]);
        self::assertGreaterThanOrEqual(2, $collected[2], 'the cycles of requests 1 and 2 were collected');
        self::assertGreaterThanOrEqual($collected[2] + 2, $collected[4]);

        $process->write(Wire::stopControl());
        $result = $process->close();
        self::assertSame(0, $result['exitCode'], $result['stderr']);
        self::assertStringEndsWith("loop ended after 5 requests\n", $result['stderr']);
        self::assertStringNotContainsString('restart requested', $result['stderr']);
    }

    public function testHttpLoop(): void
    {
        $process = self::start('http');
        $request = static fn (string $path): string
            => Wire::request(Wire::httpContext(['uri' => 'http://h' . $path, 'rawQuery' => '']));

        $process->write($request('/a'));
        $frame = $process->receive();
        self::assertNotNull($frame);
        $context = '{"status":200,"headers":{"Content-Type":["application/json"]}}';
        self::assertSame([strlen($context)], $frame->options);
        self::assertStringStartsWith($context . '{"n":1,', $frame->payload);

        $process->write($request('/throw'));
        self::assertSame(Frame::ERROR, $process->receive()?->flags);

        $process->write(Wire::request('not json'));
        $bad = $process->receive();
        self::assertSame(Frame::ERROR, $bad?->flags);
        self::assertStringContainsString('BadRequestException', (string) $bad?->payload);

        $process->write($request('/grow'));
        self::assertStringStartsWith($context . '{"n":4,', (string) $process->receive()?->payload);

        $process->write($request('/next'));
        self::assertSame(self::STOP_FRAME, bin2hex(Frame::encode($process->receive() ?? new Frame())));
        self::assertSame(0, $process->waitForExit());

        $result = $process->close();
        self::assertSame('', $result['stdout']);
        self::assertSame([
            'hook:before /a', 'hook:after /a', 'hook:reset',
            'hook:before /throw', 'hook:error fixture failure', 'hook:after /throw error', 'hook:reset',
            'hook:error Invalid HTTP request context: Syntax error',
            'hook:before /grow', 'hook:after /grow', 'hook:reset',
        ], self::hookLines($result['stderr']));
        self::assertStringContainsString('[pivot-worker] restart requested: memory ', $result['stderr']);
    }
}
