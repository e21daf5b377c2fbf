<?php

declare(strict_types=1);

// Uses the core classes, then reports which PSR / Nyholm classes got loaded (there must be none).

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Payload;
use Pivot\Worker\Relay;
use Pivot\Worker\Worker;

require __DIR__ . '/../../autoload.php';

$in = fopen('php://memory', 'w+b');
$out = fopen('php://memory', 'w+b');
$worker = new Worker(new Relay($in, $out));
$worker->respond(new Payload('h', 'b'));
(new HttpWorker($worker))->respond(200, 'ok');
$worker->error('e');
$worker->stop();

$loaded = array_values(array_filter(
    array_merge(get_declared_classes(), get_declared_interfaces()),
    static fn (string $c): bool => str_starts_with($c, 'Psr\\') || str_starts_with($c, 'Nyholm\\'),
));
fwrite(STDOUT, json_encode($loaded, JSON_THROW_ON_ERROR));
