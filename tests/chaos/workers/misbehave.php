<?php

/**
 * Chaos fixture: a hello-world worker that misbehaves on demand, one route per failure mode.
 *   /garbage   prints non-protocol bytes on stdout (the relay) instead of a response
 *   /leak      keeps ?mb= MiB allocated for the rest of its life, then answers 200 "leaked by PID"
 *   /deadlock  takes the same flock twice through two handles: blocks forever (a real deadlock)
 *   anything else: 200 "Hello, world!"
 */

declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Worker;

$http = new HttpWorker(Worker::create());
$headers = ['Content-Type' => ['text/plain']];
$leaked = [];

while (($req = $http->waitRequest()) !== null) {
    parse_str($req->rawQuery, $q);
    switch ($req->path) {
        case '/garbage':
            fwrite(STDOUT, "PHP Warning: this is not a goridge frame\n<html>garbage</html>\n");
            fflush(STDOUT);
            usleep(500000);
            break;
        case '/leak':
            $leaked[] = str_repeat('L', ((int) ($q['mb'] ?? 64)) * 1048576);
            $http->respond(200, 'leaked by ' . getmypid(), $headers);
            break;
        case '/deadlock':
            $dir = getenv('CHAOS_LOCK_DIR');
            $path = ($dir !== false && $dir !== '' ? $dir : sys_get_temp_dir()) . '/deadlock-' . getmypid() . '.lock';
            $first = fopen($path, 'c');
            $second = fopen($path, 'c');
            flock($first, LOCK_EX);
            flock($second, LOCK_EX); // never returns: the first handle holds the lock
            $http->respond(200, 'unreachable', $headers);
            break;
        default:
            $http->respond(200, "Hello, world!\n", $headers);
    }
}
