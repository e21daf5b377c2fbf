<?php

/**
 * The integration-test worker: one route per behaviour the server must handle.
 * Built on our php-worker library exactly as an application would be.
 */

declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Worker;

$worker = Worker::create();
$http = new HttpWorker($worker);

while (($req = $http->waitRequest()) !== null) {
    parse_str($req->rawQuery, $q);
    switch ($req->path) {
        case '/echo':
            $http->respond(200, json_encode([
                'method' => $req->method,
                'uri' => $req->uri,
                'path' => $req->path,
                'rawQuery' => $req->rawQuery,
                'query' => $req->query,
                'headers' => $req->headers,
                'cookies' => $req->cookies,
                'body' => $req->body,
                'bodyLength' => strlen($req->body),
                'bodyMd5' => md5($req->body),
                'protocol' => $req->protocol,
                'remoteAddr' => $req->remoteAddr,
            ], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES), ['Content-Type' => ['application/json']]);
            break;
        case '/pid':
            $http->respond(200, (string) getmypid());
            break;
        case '/env':
            $http->respond(200, json_encode([
                'RR_MODE' => getenv('RR_MODE'),
                'RR_RELAY' => getenv('RR_RELAY'),
                'RR_RPC' => getenv('RR_RPC'),
                'RR_VERSION' => getenv('RR_VERSION'),
                'APP_GREETING' => getenv('APP_GREETING'),
            ], JSON_THROW_ON_ERROR));
            break;
        case '/crash':
            exit(3);
        case '/error':
            $worker->error('boom from the worker');
            break;
        case '/sleep':
            usleep(((int) ($q['ms'] ?? 100)) * 1000);
            if (isset($q['exit'])) {
                exit((int) $q['exit']); // dies after the pause, without answering
            }
            $http->respond(200, 'slept ' . getmypid());
            break;
        case '/count':
            // Appends this worker's pid to a file: how often a request really ran, and where.
            file_put_contents((string) $q['file'], getmypid() . "\n", FILE_APPEND | LOCK_EX);
            $http->respond(200, (string) getmypid());
            break;
        case '/sched':
            // The scheduling policy of this worker: field 41 of /proc/self/stat (0 normal, 3 batch).
            $stat = (string) file_get_contents('/proc/self/stat');
            $fields = explode(' ', substr($stat, strrpos($stat, ')') + 2));
            $http->respond(200, $fields[38]);
            break;
        case '/big':
            $http->respond(200, str_repeat('x', (int) ($q['bytes'] ?? 1048576)), ['Content-Type' => ['application/octet-stream']]);
            break;
        case '/garbage':
            fwrite(STDOUT, "Warning: this is not a goridge frame at all\n");
            fflush(STDOUT);
            usleep(200000);
            break;
        case '/stdout':
            echo "stray echo output that must not corrupt the protocol\n";
            $http->respond(200, 'survived echo');
            break;
        case '/stderr':
            fwrite(STDERR, "first stderr line\nsecond stderr line\n");
            $http->respond(200, 'logged');
            break;
        case '/stop':
            $marker = (string) ($q['marker'] ?? '');
            if ($marker !== '' && !file_exists($marker)) {
                touch($marker);
                usleep(((int) ($q['ms'] ?? 0)) * 1000);
                $worker->stop();
                exit(0);
            }
            $http->respond(200, 'answered by ' . getmypid());
            break;
        case '/leak':
            // Holds memory until the worker exits, then optionally keeps the worker busy.
            $GLOBALS['leaked'][] = str_repeat('L', ((int) ($q['mb'] ?? 64)) * 1048576);
            usleep(((int) ($q['sleep_ms'] ?? 0)) * 1000);
            $http->respond(200, 'leaked by ' . getmypid());
            break;
        case '/rpc':
            // PHP code calling the server it runs under, through RR_RPC and our RPC client.
            $rpc = \Pivot\Worker\Rpc\Client::fromEnvironment();
            $workers = $rpc->call('informer.Workers', 'http');
            try {
                $rpc->call('nosuch.Method', true);
                $error = null;
            } catch (\Pivot\Worker\Rpc\ServiceException $e) {
                $error = $e->getServerError();
            }
            $http->respond(200, json_encode([
                'pids' => array_map(static fn (array $w): int => (int) $w['pid'], $workers['workers'] ?? []),
                'plugins' => $rpc->withServicePrefix('informer')->call('List', true),
                'error' => $error,
            ], JSON_THROW_ON_ERROR), ['Content-Type' => ['application/json']]);
            break;
        case '/status':
            $http->respond((int) ($q['code'] ?? 200), 'status', ['X-Custom' => ['a', 'b']]);
            break;
        case '/upload':
            // The server-parsed form and the uploads tree, each file leaf annotated with whether
            // its temp file exists now and its md5.
            $annotate = static function (array $node) use (&$annotate): array {
                if (array_key_exists('tmpName', $node) && array_key_exists('error', $node) && !is_array($node['tmpName'])) {
                    $tmp = (string) $node['tmpName'];
                    $node['exists'] = $tmp !== '' && is_file($tmp);
                    $node['md5'] = $node['exists'] ? md5_file($tmp) : null;
                    $node['perms'] = $node['exists'] ? sprintf('%o', fileperms($tmp) & 0777) : null;
                    return $node;
                }
                foreach ($node as $k => $v) {
                    if (is_array($v)) {
                        $node[$k] = $annotate($v);
                    }
                }
                return $node;
            };
            $http->respond(200, json_encode([
                'parsed' => $req->parsed,
                'form' => $req->parsed ? $req->getParsedBody() : null,
                'body' => $req->parsed ? null : $req->body,
                'uploads' => $annotate($req->uploads),
            ], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES), ['Content-Type' => ['application/json']]);
            break;
        default:
            $http->respond(200, "Hello from " . getmypid() . "\n", ['Content-Type' => ['text/plain']]);
    }
}
