<?php

// A worker that ignores the stop frame: after its loop ends it keeps running, so only SIGKILL ends it.
declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Worker;

$http = new HttpWorker(Worker::create());
while (($req = $http->waitRequest()) !== null) {
    $http->respond(200, 'stubborn ' . getmypid());
}
fwrite(STDERR, "ignorestop fixture: got the stop frame, ignoring it\n");
while (true) {
    sleep(1);
}
