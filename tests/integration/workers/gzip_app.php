<?php

/**
 * The static-files and gzip test worker: bodies of a chosen size and type for gzip, and a JSON
 * answer for everything else, so a test can tell that a request fell through to PHP.
 */

declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Worker;

$worker = Worker::create();
$http = new HttpWorker($worker);

/** Text of exactly $bytes bytes that compresses well. */
function text_of(int $bytes): string
{
    $line = "pivot-server gzip test line, repeated so that deflate has work to do\n";
    return substr(str_repeat($line, intdiv($bytes, strlen($line)) + 1), 0, $bytes);
}

while (($req = $http->waitRequest()) !== null) {
    parse_str($req->rawQuery, $q);
    $bytes = (int) ($q['bytes'] ?? 50000);
    switch ($req->path) {
        case '/text':
            $headers = ['Content-Type' => [(string) ($q['type'] ?? 'text/plain; charset=utf-8')]];
            if (isset($q['etag'])) {
                $headers['ETag'] = ['"' . $q['etag'] . '"'];
            }
            if (isset($q['vary'])) {
                $headers['Vary'] = [(string) $q['vary']];
            }
            if (isset($q['encoding'])) {
                $headers['Content-Encoding'] = [(string) $q['encoding']];
            }
            $http->respond((int) ($q['status'] ?? 200), text_of($bytes), $headers);
            break;
        default:
            $http->respond(200, json_encode([
                'php' => true,
                'method' => $req->method,
                'path' => $req->path,
                'uri' => $req->uri,
            ], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES), ['Content-Type' => ['application/json']]);
    }
}
