<?php

/**
 * The jobs integration-test consumer (RR_MODE=jobs): built on php-worker's Worker with raw
 * replies of protocol doc §4.2. Every delivery appends one JSON line to $JOBS_OUT:
 * {"id","job","pipeline","driver","headers","payload","pid","event"}. Behaviour by job name:
 *   record          ack
 *   slow            sleep <payload> ms, ack
 *   crash_once      first delivery: exit(1) mid-job; later: ack
 *   error_once      first delivery: ERROR frame; later: ack
 *   timeout_once    first delivery: sleep 3 s (beyond exec_ttl); later: ack
 *   always_nack     nack with requeue (type 3), every time
 *   nack_drop       nack without requeue
 *   requeue_once    first delivery: requeue (type 4) with header retried=yes; later: ack
 * "First delivery" is tracked with a marker file per id in $JOBS_OUT.d/.
 */

declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Payload;
use Pivot\Worker\Worker;

$out = (string) getenv('JOBS_OUT');
$markers = $out . '.d';
if (!is_dir($markers)) {
    @mkdir($markers, 0777, true);
}

$worker = Worker::create();

function reply(Worker $worker, int $type, array $data = []): void
{
    $worker->respond(new Payload('', json_encode(['type' => $type, 'data' => $data], JSON_THROW_ON_ERROR)));
}

/** True the first time it is called for $id (across workers: an exclusive marker file). */
function first_time(string $dir, string $id): bool
{
    return @fopen($dir . '/' . md5($id), 'x') !== false;
}

while (($p = $worker->waitPayload()) !== null) {
    $ctx = json_decode($p->header, true, 512, JSON_THROW_ON_ERROR);
    $line = [
        'id' => $ctx['id'],
        'job' => $ctx['job'],
        'pipeline' => $ctx['pipeline'],
        'driver' => $ctx['driver'],
        'headers' => $ctx['headers'],
        'has_queue' => array_key_exists('queue', $ctx),
        'payload' => $p->body,
        'pid' => getmypid(),
    ];
    $record = static function (string $event) use ($out, $line): void {
        $line['event'] = $event;
        file_put_contents($out, json_encode($line, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES) . "\n", FILE_APPEND | LOCK_EX);
    };
    switch ($ctx['job']) {
        case 'slow':
            usleep(((int) $p->body) * 1000);
            $record('ack');
            reply($worker, 2);
            break;
        case 'crash_once':
            if (first_time($markers, $ctx['id'])) {
                $record('crash');
                exit(1);
            }
            $record('ack');
            reply($worker, 2);
            break;
        case 'error_once':
            if (first_time($markers, $ctx['id'])) {
                $record('error');
                $worker->error('boom from the consumer');
                break;
            }
            $record('ack');
            reply($worker, 2);
            break;
        case 'timeout_once':
            if (first_time($markers, $ctx['id'])) {
                $record('timeout');
                sleep(3);
            }
            $record('ack');
            reply($worker, 2);
            break;
        case 'always_nack':
            $record('nack');
            reply($worker, 3, ['message' => 'cannot process', 'requeue' => true, 'delay_seconds' => 0]);
            break;
        case 'nack_drop':
            $record('nack_drop');
            reply($worker, 3, ['message' => 'rejected', 'requeue' => false]);
            break;
        case 'requeue_once':
            if (first_time($markers, $ctx['id'])) {
                $record('requeue');
                reply($worker, 4, ['message' => 'later', 'delay_seconds' => 0, 'headers' => ['retried' => ['yes']]]);
                break;
            }
            $record('ack');
            reply($worker, 2);
            break;
        default:
            $record('ack');
            reply($worker, 2);
    }
}
