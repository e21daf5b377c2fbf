<?php

declare(strict_types=1);

// The worker of tests/EndToEnd/JobsServerTest.php, for both of the server's pools:
//   RR_MODE=http  answers every request "ok" (the server needs an HTTP pool);
//   RR_MODE=jobs  a Pivot\Worker\Jobs\Consumer that writes one JSON line per delivery to
//                 $JOBS_OUT: {event, id, name, payload (base64), headers, pipeline, driver, queue, t}.
// What it does with a job depends on the job name:
//   requeue-once  first delivery (no x-attempt header): requeue with x-attempt: 2 and a 1 s delay
//                 (event "requeued"); then ack (event "done")
//   nack-once     first delivery: nack with redelivery (event "nacked"); then ack. It tells the
//                 deliveries apart with a marker file per id next to $JOBS_OUT.
//   anything else ack (event "done")

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Jobs\Consumer;
use Pivot\Worker\Jobs\ReceivedTask;
use Pivot\Worker\Worker;

require __DIR__ . '/../../autoload.php';

if (getenv('RR_MODE') !== 'jobs') {
    $http = new HttpWorker(Worker::create());
    while ($http->waitRequest()) {
        $http->respond(200, 'ok');
    }

    return;
}

$out = (string) getenv('JOBS_OUT');
$record = static function (string $event, ReceivedTask $task) use ($out): void {
    $line = json_encode([
        'event' => $event,
        'id' => $task->getId(),
        'name' => $task->getName(),
        'payload' => base64_encode($task->getPayload()),
        'headers' => (object) $task->getHeaders(),
        'pipeline' => $task->getPipeline(),
        'driver' => $task->getDriver(),
        'queue' => $task->getQueue(),
        't' => microtime(true),
        'pid' => getmypid(),
    ], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES) . "\n";
    file_put_contents($out, $line, FILE_APPEND | LOCK_EX);
};

$consumer = Consumer::create();
while ($task = $consumer->waitTask()) {
    switch ($task->getName()) {
        case 'requeue-once':
            if (!$task->hasHeader('x-attempt')) {
                $record('requeued', $task);
                $task->withHeader('x-attempt', '2')->withDelay(1)->requeue('once more');
                break;
            }
            $record('done', $task);
            $task->ack();
            break;
        case 'nack-once':
            $marker = $out . '.nacked-' . md5($task->getId());
            if (!is_file($marker)) {
                touch($marker);
                $record('nacked', $task);
                $task->nack('first delivery fails', true);
                break;
            }
            $record('done', $task);
            $task->ack();
            break;
        default:
            $record('done', $task);
            $task->ack();
    }
}
