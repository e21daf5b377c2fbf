<?php

// Fails at boot while the file named by BOOT_FAIL_MARKER exists; serves normally otherwise.
// Lets a test break and then "fix" a deployment without restarting the server.
declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Worker;

$marker = (string) getenv('BOOT_FAIL_MARKER');
if ($marker !== '' && file_exists($marker)) {
    fwrite(STDERR, "PHP Fatal error: bootswitch fixture is broken on purpose ({$marker} exists)\n");
    exit(255);
}
$http = new HttpWorker(Worker::create());
while (($req = $http->waitRequest()) !== null) {
    if ($req->path === '/sleep') {
        parse_str($req->rawQuery, $q);
        usleep(((int) ($q['ms'] ?? 100)) * 1000);
    }
    $http->respond(200, (string) getmypid());
}
