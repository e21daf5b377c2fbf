<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\EndToEnd;

use Pivot\Worker\Frame;
use Pivot\Worker\Jobs\Jobs;
use Pivot\Worker\Rpc\Client;
use Pivot\Worker\Tests\Support\FakeRpcServer;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\Tests\Support\WorkerProcess;
use PHPUnit\Framework\TestCase;

/**
 * examples/jobs/worker.php as a real process over pipes: in its consumer role (RR_MODE=jobs) task
 * frames in (§4.1), reply frames out (§4.2), the processed-jobs file written; in its HTTP role
 * (RR_MODE=http) each request pushes a job to tests/Fixtures/fake_rpc_server.php's jobs service.
 */
final class JobsExampleTest extends TestCase
{
    private string $log = '';

    protected function setUp(): void
    {
        $this->log = tempnam(sys_get_temp_dir(), 'pivot-jobs-example-');
        unlink($this->log);
    }

    protected function tearDown(): void
    {
        @unlink($this->log);
    }

    private static function task(string $id, string $payload, ?array $headers = null): string
    {
        $context = json_encode(
            ['id' => $id, 'job' => 'example.log', 'driver' => 'memory', 'headers' => $headers, 'pipeline' => 'default'],
            JSON_THROW_ON_ERROR
        );

        return Wire::frame(0x04, [strlen($context)], $context . $payload);
    }

    private static function replyBody(?Frame $frame): string
    {
        self::assertNotNull($frame);
        self::assertSame(0, $frame->flags, 'flags 0: ' . $frame->payload);
        self::assertSame([0], $frame->options, 'empty context');
        self::assertSame(0, $frame->byte10);

        return $frame->payload;
    }

    public function testTheConsumerRole(): void
    {
        $process = new WorkerProcess(PIVOT_REPO_ROOT . '/examples/jobs/worker.php', [], ['RR_MODE' => 'jobs', 'JOBS_LOG' => $this->log]);
        $process->write(Wire::pidRequest());
        self::assertSame('{"pid":' . $process->pid() . ',"exact_reads":true}', $process->receive()?->payload);

        $process->write(self::task('id-1', '{"path":"/hello","method":"GET","fail":false}', ['x-attempt' => ['1']]));
        self::assertSame('{"type":2,"data":[]}', self::replyBody($process->receive()));
        self::assertMatchesRegularExpression('~^\S+ id-1 example.log /hello attempt=1\n$~', (string) file_get_contents($this->log));

        // A failing job: requeued once, 1 s later, with the next attempt number as a header.
        $process->write(self::task('id-2', '{"path":"/fail","method":"GET","fail":true}', ['x-attempt' => ['1']]));
        self::assertSame(
            '{"type":4,"data":{"message":"failing once on purpose","delay_seconds":1,"headers":{"x-attempt":["2"]}}}',
            self::replyBody($process->receive())
        );
        $process->write(self::task('id-2', '{"path":"/fail","method":"GET","fail":true}', ['x-attempt' => ['2']]));
        self::assertSame('{"type":2,"data":[]}', self::replyBody($process->receive()));
        self::assertMatchesRegularExpression('~ id-2 example.log /fail attempt=2\n$~', (string) file_get_contents($this->log));

        // A payload that is not JSON: nacked without redelivery, the worker goes on.
        $process->write(self::task('id-3', 'not json'));
        $body = json_decode(self::replyBody($process->receive()), true, 8, JSON_THROW_ON_ERROR);
        self::assertSame(3, $body['type']);
        self::assertFalse($body['data']['requeue']);
        self::assertStringStartsWith('JsonException: Syntax error', $body['data']['message']);

        $process->write(Wire::stopControl());
        $result = $process->close();
        self::assertSame(0, $result['exitCode'], $result['stderr']);
        self::assertSame('', $result['stdout']);
        self::assertStringContainsString('job id-2 failed on attempt 1, requeued', $result['stderr']);
        self::assertSame(2, substr_count((string) file_get_contents($this->log), "\n"));
    }

    public function testTheHttpRolePushesOneJobPerRequest(): void
    {
        $rpc = new FakeRpcServer();
        $process = new WorkerProcess(PIVOT_REPO_ROOT . '/examples/jobs/worker.php', [], [
            'RR_MODE' => 'http',
            'RR_RPC' => $rpc->address,
        ]);
        $process->write(Wire::pidRequest());
        self::assertSame('{"pid":' . $process->pid() . ',"exact_reads":true}', $process->receive()?->payload);

        $ids = [];
        foreach (['/a', '/fail'] as $path) {
            $process->write(Wire::request(Wire::httpContext(['method' => 'GET', 'uri' => "http://h$path"]), ''));
            $frame = $process->receive();
            self::assertNotNull($frame);
            self::assertSame(0, $frame->flags, $frame->payload);
            $context = json_decode(substr($frame->payload, 0, $frame->options[0]), true, 8, JSON_THROW_ON_ERROR);
            self::assertSame(202, $context['status']);
            $ids[] = json_decode(substr($frame->payload, $frame->options[0]), true, 8, JSON_THROW_ON_ERROR)['id'];
        }
        self::assertCount(2, array_unique($ids));
        self::assertSame(2, (new Jobs(new Client($rpc->address)))->stat()['default']['active']);

        $process->write(Wire::stopControl());
        $result = $process->close();
        self::assertSame(0, $result['exitCode'], $result['stderr']);
        self::assertSame('', $rpc->stop());
    }
}
