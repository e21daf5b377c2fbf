<?php

declare(strict_types=1);

// Smallest pivot-server worker: every request gets 200 "Hello, world!".

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Worker;

require __DIR__ . '/../../php-worker/autoload.php';

$http = new HttpWorker(Worker::create());
$headers = ['Content-Type' => ['text/plain']];

while ($http->waitRequest() !== null) {
    $http->respond(200, "Hello, world!\n", $headers);
}
