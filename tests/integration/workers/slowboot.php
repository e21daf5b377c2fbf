<?php

// A worker whose bootstrap takes SLOW_BOOT_MS milliseconds before it reads the handshake.
declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Worker;

usleep(((int) (getenv('SLOW_BOOT_MS') ?: '0')) * 1000);
$http = new HttpWorker(Worker::create());
while (($req = $http->waitRequest()) !== null) {
    $http->respond(200, 'booted slowly ' . getmypid());
}
