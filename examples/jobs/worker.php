<?php

declare(strict_types=1);

// One script, two roles, chosen by RR_MODE (the server sets it for each pool):
//   http  every request pushes one job to the "default" pipeline and answers 202 with its id;
//         /fail pushes a job that fails once (requeued with a delay), then succeeds.
//   jobs  the consumer: appends one line per job to $JOBS_LOG (default processed.log, in the
//         working directory) and logs it to stderr (the server logs worker stderr), then acks.

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Jobs\Consumer;
use Pivot\Worker\Jobs\Jobs;
use Pivot\Worker\Worker;

require __DIR__ . '/../../php-worker/autoload.php';

$mode = getenv('RR_MODE') ?: 'http';

if ($mode === 'jobs') {
    $consumer = new Consumer(Worker::create());
    $log = getenv('JOBS_LOG') ?: 'processed.log';

    while ($task = $consumer->waitTask()) {
        try {
            $job = json_decode($task->getPayload(), true, 16, JSON_THROW_ON_ERROR);
            $attempt = (int) ($task->getHeaderLine('x-attempt') ?: '1');
            if (($job['fail'] ?? false) && $attempt < 2) {
                // Back to the pipeline in 1 s, with a header the next attempt can read.
                $task->withHeader('x-attempt', (string) ($attempt + 1))
                    ->withDelay(1)
                    ->requeue('failing once on purpose');
                fwrite(STDERR, "job {$task->getId()} failed on attempt $attempt, requeued\n");
                continue;
            }
            $line = sprintf(
                "%s %s %s %s attempt=%d\n",
                date(DATE_ATOM),
                $task->getId(),
                $task->getName(),
                $job['path'] ?? '',
                $attempt,
            );
            file_put_contents($log, $line, FILE_APPEND | LOCK_EX);
            fwrite(STDERR, "processed $line");
            $task->ack();
        } catch (\Throwable $e) {
            $task->nack($e); // not redelivered: a payload that is not JSON will not get better
        }
    }

    return;
}

$http = new HttpWorker(Worker::create());
$jobs = Jobs::fromEnvironment(); // the server's rpc.listen, from RR_RPC

while ($request = $http->waitRequest()) {
    try {
        $id = $jobs->push('default', 'example.log', json_encode([
            'path' => $request->path,
            'method' => $request->method,
            'fail' => $request->path === '/fail',
        ], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES), ['headers' => ['x-attempt' => '1']]);
        $http->respond(202, json_encode(['id' => $id], JSON_THROW_ON_ERROR) . "\n", [
            'Content-Type' => 'application/json',
        ]);
    } catch (\Throwable $e) {
        $http->respond(503, 'cannot queue the job: ' . $e->getMessage() . "\n", ['Content-Type' => 'text/plain']);
    }
}
