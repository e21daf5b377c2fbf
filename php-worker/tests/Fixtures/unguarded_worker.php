<?php

declare(strict_types=1);

// Like a worker, but without the StdoutGuard: its echo lands on the frame channel.

use Pivot\Worker\Worker;

require __DIR__ . '/../../autoload.php';

$worker = Worker::create(protectStdout: false);
echo "stray output!\n";
while ($worker->waitPayload() !== null) {
    $worker->error('unreachable');
}
