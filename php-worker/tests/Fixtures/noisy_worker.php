<?php

declare(strict_types=1);

// A worker that prints to stdout in every way it can; the StdoutGuard must move all of it to stderr.

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Worker;

require __DIR__ . '/../../autoload.php';

ini_set('display_errors', '1'); // displayed errors go through the output layer too
error_reporting(E_ALL);

$http = new HttpWorker(Worker::create());
echo "noise after create\n";

while ($request = $http->waitRequest()) {
    echo 'echo:', $request->path, "\n";
    print "print\n";
    printf("printf %d\n", 42);
    var_dump(['var_dump' => true]);
    ob_start();
    echo "nested buffer\n";
    ob_end_flush();
    trigger_error('a displayed warning', E_USER_WARNING);
    echo str_repeat('x', 100000), "\n"; // larger than a pipe buffer
    $http->respond(200, 'clean body ' . $request->path, ['Content-Type' => 'text/plain']);
    echo "after respond\n";
}
echo "bye\n";
