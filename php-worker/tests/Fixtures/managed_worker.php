<?php

declare(strict_types=1);

// A WorkerManager-driven worker for tests/EndToEnd/WorkerManagerProcessTest.php.
// Usage: php managed_worker.php raw|http
//
// gc_every 2; soft memory limit = memory at start + 16 MB. Hooks and the end of the loop are
// logged to STDERR. Request bodies (raw) or paths (http) select what the handler does:
//   throw  the handler throws
//   grow   keeps 32 MB referenced (over the memory limit from now on)
//   cycle  leaves a garbage reference cycle behind
//   other  answers {"n": <requests so far>, "gcRuns": ..., "gcCollected": ...}

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Http\Request;
use Pivot\Worker\Payload;
use Pivot\Worker\Worker;
use Pivot\Worker\WorkerManager;

require __DIR__ . '/../../autoload.php';

$mode = $argv[1] ?? 'raw';
$worker = Worker::create();
$limit = memory_get_usage(true) + (16 << 20);
$manager = new WorkerManager($worker, ['gc_every' => 2, 'memory_limit_bytes' => $limit]);

$name = static fn (Payload|Request $r): string => $r instanceof Request ? $r->path : $r->body;
$manager
    ->beforeRequest(static function (Payload|Request $r) use ($name): void {
        fwrite(STDERR, 'hook:before ' . $name($r) . "\n");
    })
    ->afterRequest(static function (Payload|Request $r, ?Throwable $e) use ($name): void {
        fwrite(STDERR, 'hook:after ' . $name($r) . ($e === null ? '' : ' error') . "\n");
    })
    ->onStateReset(static function (): void {
        fwrite(STDERR, "hook:reset\n");
    })
    ->onError(static function (Throwable $e): void {
        fwrite(STDERR, 'hook:error ' . $e->getMessage() . "\n");
    });

$handle = static function (string $what) use ($manager): string {
    static $hog = [];
    switch ($what) {
        case 'throw':
        case '/throw':
            throw new RuntimeException('fixture failure');
        case 'grow':
        case '/grow':
            $hog[] = str_repeat('x', 32 << 20);
            break;
        case 'cycle':
        case '/cycle':
            $a = new stdClass();
            $a->self = $a;
            unset($a);
            break;
    }
    $gc = gc_status();

    return json_encode(
        ['n' => $manager->getRequestCount(), 'gcRuns' => $gc['runs'], 'gcCollected' => $gc['collected']],
        JSON_THROW_ON_ERROR
    );
};

if ($mode === 'http') {
    $manager->runHttp(
        new HttpWorker($worker),
        static fn (Request $r): array => [200, $handle($r->path), ['Content-Type' => 'application/json']]
    );
} else {
    $manager->run(static fn (Payload $p): string => $handle($p->body));
}

fwrite(STDERR, 'loop ended after ' . $manager->getRequestCount() . " requests\n");
