<?php

/**
 * Pushes jobs from PHP over RPC with the JSON codec (the proto3 JSON form of jobs.v1), through
 * php-worker's Rpc\Client. Prints one JSON line: {"pushed":N,"seconds":S} or {"error":"..."}.
 * Usage: php jobs_push.php <rpc address> <pipeline> <count> [batch size] [job name]
 */

declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Rpc\Client;

[, $address, $pipeline, $count, $batch, $name] = $argv + [null, null, null, '1', '1000', 'record'];
$rpc = new Client((string) $address, 30.0);
$count = (int) $count;
$batch = max(1, (int) $batch);
$t0 = microtime(true);
try {
    for ($i = 0; $i < $count; $i += $batch) {
        $jobs = [];
        for ($k = $i; $k < min($count, $i + $batch); ++$k) {
            $jobs[] = [
                'job' => $name,
                'id' => sprintf('php-%06d', $k),
                'payload' => base64_encode("payload {$k}"),
                'headers' => ['n' => ['value' => [(string) $k]]],
                'options' => ['pipeline' => $pipeline, 'priority' => 0, 'delay' => 0],
            ];
        }
        $rpc->call('jobs.PushBatch', ['jobs' => $jobs]);
    }
    echo json_encode(['pushed' => $count, 'seconds' => microtime(true) - $t0]), "\n";
} catch (\Throwable $e) {
    echo json_encode(['error' => $e->getMessage()]), "\n";
}
