<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\EndToEnd;

use PHPUnit\Framework\TestCase;
use Pivot\Worker\Jobs\Jobs;
use Pivot\Worker\Jobs\JobsException;
use Pivot\Worker\Rpc\Client;
use Pivot\Worker\Rpc\RpcException;
use Pivot\Worker\Tests\Support\PivotServer;

/**
 * Jobs\Jobs and Jobs\Consumer against the real pivot-server binary ($PIVOT_SERVER_BIN or
 * build/pivot-server) on the memory driver: jobs pushed over RPC (JSON codec) are delivered to
 * tests/Fixtures/jobs_consumer.php workers, whose replies (ack, requeue with headers and delay,
 * nack with redelivery) the server acts on. One server for the whole class.
 */
final class JobsServerTest extends TestCase
{
    private const CONFIG = <<<'YAML'
        version: "3"
        server:
          command: ["php", "{{FIXTURE}}"]
          env:
            JOBS_OUT: "{{OUT}}"
        http:
          address: "127.0.0.1:{{HTTP}}"
          pool:
            num_workers: 1
        rpc:
          listen: "tcp://127.0.0.1:{{RPC}}"
        jobs:
          pool:
            num_workers: 3
          consume: [default, second]
          pipelines:
            default:
              driver: memory
              config:
                priority: 10
            second:
              driver: memory
              config:
                priority: 5
        logs:
          level: info
        YAML;

    private static ?PivotServer $server = null;

    private static string $out = '';

    private Jobs $jobs;

    public static function setUpBeforeClass(): void
    {
        self::$out = sys_get_temp_dir() . '/pivot-jobs-e2e-' . bin2hex(random_bytes(6)) . '.jsonl';
        self::$server = new PivotServer(strtr(self::CONFIG, [
            '{{FIXTURE}}' => dirname(__DIR__) . '/Fixtures/jobs_consumer.php',
            '{{OUT}}' => self::$out,
        ]));
        $jobs = new Jobs(new Client(self::$server->rpcAddress(), 2.0));
        try {
            self::$server->waitFor(static function () use ($jobs): bool {
                try {
                    return in_array('default', $jobs->list(), true);
                } catch (RpcException) {
                    return false; // not listening yet
                }
            }, 20.0, 'the jobs RPC service');
        } catch (\Throwable $e) {
            $log = self::$server->log();
            self::$server->cleanup();
            self::$server = null;
            throw new \RuntimeException(
                'pivot-server (' . PivotServer::binary() . ") did not serve jobs.List: {$e->getMessage()}\nlog:\n" . substr($log, -3000),
                0,
                $e
            );
        }
    }

    public static function tearDownAfterClass(): void
    {
        if (self::$server !== null) {
            $code = self::$server->stop();
            $log = self::$server->log();
            self::$server->cleanup();
            self::$server = null;
            foreach (glob(self::$out . '*') ?: [] as $file) {
                @unlink($file);
            }
            self::assertSame(0, $code, "pivot-server exits 0 on SIGTERM; log ends:\n" . substr($log, -3000));
        }
    }

    protected function setUp(): void
    {
        $this->jobs = new Jobs(new Client((string) self::$server?->rpcAddress(), 5.0));
    }

    /**
     * The consumer's records so far.
     *
     * @return list<array<string, mixed>>
     */
    private static function records(): array
    {
        $lines = is_file(self::$out) ? file(self::$out, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) : [];
        $records = [];
        foreach ($lines ?: [] as $line) {
            $records[] = json_decode($line, true, 16, JSON_THROW_ON_ERROR);
        }

        return $records;
    }

    /**
     * Waits until every id has a record with $event; returns those records by id (the first of each).
     *
     * @param list<string> $ids
     *
     * @return array<string, array<string, mixed>>
     */
    private static function waitForEvents(array $ids, string $event, float $timeout = 30.0): array
    {
        $want = array_flip($ids);

        return self::$server?->waitFor(static function () use ($want, $event): ?array {
            $found = [];
            foreach (self::records() as $r) {
                if ($r['event'] === $event && isset($want[$r['id']]) && !isset($found[$r['id']])) {
                    $found[$r['id']] = $r;
                }
            }

            return count($found) === count($want) ? $found : null;
        }, $timeout, count($ids) . " jobs with event $event") ?? [];
    }

    /**
     * Waits until no job of $pipeline is waiting or in flight.
     */
    private function waitForIdle(string $pipeline): void
    {
        self::$server?->waitFor(function () use ($pipeline): bool {
            $s = $this->jobs->stat()[$pipeline] ?? null;

            return $s !== null && $s['active'] === 0 && $s['reserved'] === 0 && $s['delayed'] === 0;
        }, 10.0, "pipeline $pipeline to be idle");
    }

    public function testPushedJobsAreAllProcessedOnce(): void
    {
        $ids = [];
        for ($batch = 0; $batch < 5; $batch++) {
            $entries = [];
            for ($i = 0; $i < 200; $i++) {
                $entries[] = ['name' => 'bulk', 'payload' => "job $batch/$i"];
            }
            array_push($ids, ...$this->jobs->pushBatch('default', $entries));
        }
        for ($i = 0; $i < 50; $i++) {
            $ids[] = $this->jobs->push($i % 2 === 0 ? 'default' : 'second', 'single', "single $i");
        }
        self::assertCount(1050, array_unique($ids));

        $started = microtime(true);
        $done = self::waitForEvents($ids, 'done');
        $seconds = microtime(true) - $started;
        $this->waitForIdle('default');
        $this->waitForIdle('second');

        $counts = array_count_values(array_column(array_filter(
            self::records(),
            static fn (array $r): bool => $r['name'] === 'bulk' || $r['name'] === 'single'
        ), 'id'));
        $duplicates = array_filter($counts, static fn (int $n): bool => $n > 1);
        self::assertSame([], $duplicates, 'the memory driver delivers each acked job once');
        self::assertSame('job 4/199', base64_decode($done[$ids[999]]['payload']));
        self::assertSame('memory', $done[$ids[0]]['driver']);
        self::assertSame('unknown', $done[$ids[0]]['queue']);
        self::assertSame('second', $done[$ids[1001]]['pipeline']);
        self::assertGreaterThan(1, count(array_unique(array_column($done, 'pid'))), 'several consumer workers took part');
        fwrite(STDERR, sprintf("[JobsServerTest] 1050 jobs consumed in %.2fs (%.0f jobs/s)\n", $seconds, 1050 / max($seconds, 1e-6)));
    }

    public function testPayloadAndHeadersRoundTrip(): void
    {
        $payload = random_bytes(64 * 1024) . "\x00end";
        $id = $this->jobs->push('default', 'App\\Jobs\\Binary', $payload, [
            'headers' => ['tenant' => 'acme', 'tags' => ['a', 'b']],
            'priority' => 3,
        ]);

        $record = self::waitForEvents([$id], 'done')[$id];
        self::assertSame($payload, base64_decode($record['payload'], true));
        self::assertSame('App\\Jobs\\Binary', $record['name']);
        self::assertSame(['acme'], $record['headers']['tenant']);
        self::assertSame(['a', 'b'], $record['headers']['tags']);
    }

    public function testRequeueCarriesHeadersAndDelay(): void
    {
        $id = $this->jobs->push('default', 'requeue-once', 'r');

        $requeued = self::waitForEvents([$id], 'requeued')[$id];
        $done = self::waitForEvents([$id], 'done')[$id];
        self::assertArrayNotHasKey('x-attempt', $requeued['headers']);
        self::assertSame(['2'], $done['headers']['x-attempt'], 'the header set with withHeader() came back');
        self::assertGreaterThanOrEqual(0.9, $done['t'] - $requeued['t'], 'withDelay(1) held the job about a second');
        $this->waitForIdle('default');
    }

    public function testNackWithRedeliveryDeliversAgain(): void
    {
        $id = $this->jobs->push('default', 'nack-once', 'n');

        $nacked = self::waitForEvents([$id], 'nacked')[$id];
        $done = self::waitForEvents([$id], 'done')[$id];
        $this->waitForIdle('default');
        self::assertGreaterThan($nacked['t'], $done['t'], 'delivered again after the nack');
        $events = array_column(array_filter(self::records(), static fn (array $r): bool => $r['id'] === $id), 'event');
        self::assertSame(['nacked', 'done'], $events, 'one redelivery, then acked for good');
    }

    public function testPauseResumeDeclareDestroy(): void
    {
        $this->jobs->pause('second');
        self::assertFalse($this->jobs->stat()['second']['ready']);
        $id = $this->jobs->push('second', 'while-paused', 'p');
        // Kept, not delivered, while paused.
        self::$server?->waitFor(fn (): bool => $this->jobs->stat()['second']['active'] === 1, 5.0, 'the job to wait in the paused pipeline');
        self::assertSame([], array_filter(self::records(), static fn (array $r): bool => $r['id'] === $id));

        $this->jobs->resume('second');
        self::waitForEvents([$id], 'done');
        self::assertTrue($this->jobs->stat()['second']['ready']);

        $this->jobs->declare(['name' => 'dynamic', 'driver' => 'memory', 'priority' => 7]);
        self::assertContains('dynamic', $this->jobs->list());
        $stat = $this->jobs->stat()['dynamic'];
        self::assertSame('memory', $stat['driver']);
        self::assertSame(7, $stat['priority']);
        try {
            $this->jobs->declare(['name' => 'dynamic', 'driver' => 'memory']);
            self::fail('declaring twice must fail');
        } catch (JobsException $e) {
            self::assertStringContainsString('pipeline already exists', $e->getMessage());
        }
        self::assertSame(['dynamic'], $this->jobs->destroy('dynamic'));
        self::assertNotContains('dynamic', $this->jobs->list());
    }

    public function testServerErrors(): void
    {
        try {
            $this->jobs->push('nope', 'x');
            self::fail('pushing to an unknown pipeline must fail');
        } catch (JobsException $e) {
            self::assertStringContainsString('no such pipeline, requested: nope', $e->getMessage());
            self::assertSame('jobs.Push', $e->getMethod());
        }
        try {
            $this->jobs->pause('nope');
            self::fail('pausing an unknown pipeline must fail');
        } catch (JobsException $e) {
            self::assertStringContainsString('nope', $e->getMessage());
        }
    }
}
