<?php

/**
 * The streamed-response test worker (protocol doc §2.6, §3.5, §3.6): generator bodies, 1xx
 * interim responses, protobuf response contexts, and workers that die or fail mid-stream.
 * Built on our php-worker library exactly as an application would be.
 */

declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Frame;
use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Http\StreamStoppedException;
use Pivot\Worker\Payload;
use Pivot\Worker\Worker;

$worker = Worker::create();
$http = new HttpWorker($worker);

/** Protobuf http.v1.Response{status, headers} encoded by hand (field 1 varint, field 2 map). */
function proto_response(int $status, array $headers): string
{
    $varint = static function (int $v): string {
        $out = '';
        do {
            $b = $v & 0x7F;
            $v >>= 7;
            $out .= chr($v !== 0 ? $b | 0x80 : $b);
        } while ($v !== 0);
        return $out;
    };
    $ld = static fn (int $field, string $bytes): string => chr(($field << 3) | 2) . $varint(strlen($bytes)) . $bytes;
    $out = "\x08" . $varint($status);
    foreach ($headers as $name => $values) {
        $hv = '';
        foreach ($values as $value) {
            $hv .= $ld(1, $value);
        }
        $out .= $ld(2, $ld(1, $name) . $ld(2, $hv));
    }
    return $out;
}

/** $n chunks "chunk i\n", $ms apart; the marker file records how the generator ended. */
function chunks(int $n, int $ms, string $marker): Generator
{
    $how = 'completed';
    try {
        for ($i = 1; $i <= $n; ++$i) {
            if ($i > 1) {
                usleep($ms * 1000);
            }
            yield "chunk $i\n";
        }
    } catch (StreamStoppedException) {
        $how = 'stopped';
    } finally {
        if ($marker !== '') {
            file_put_contents($marker, $how . ' ' . getmypid());
        }
    }
}

while (($req = $http->waitRequest()) !== null) {
    parse_str($req->rawQuery, $q);
    $n = (int) ($q['n'] ?? 10);
    $ms = (int) ($q['ms'] ?? 0);
    $marker = (string) ($q['marker'] ?? '');
    switch ($req->path) {
        case '/stream':
            usleep(((int) ($q['first_ms'] ?? 0)) * 1000); // before the first frame
            $http->respond(200, chunks($n, $ms, $marker), ['Content-Type' => 'text/plain', 'X-Stream' => 'yes']);
            break;
        case '/early-hints':
            $http->respond(103, '', ['Link' => '</style.css>; rel=preload; as=style'], false);
            $http->respond(200, 'final body', ['Content-Type' => 'text/plain']);
            break;
        case '/early-hints-stream':
            $http->respond(103, '', ['Link' => '</app.js>; rel=preload; as=script'], false);
            $http->respond(200, chunks($n, $ms, $marker), ['Content-Type' => 'text/plain']);
            break;
        case '/raw-informational':
            // Frames HttpWorker refuses to build: a 1xx with a body, and a 101; neither may reach the client.
            $worker->respond(new Payload(HttpWorker::encodeResponseContext(103, ['Link' => '</x>']), 'dropped 1xx body', false));
            $worker->respond(new Payload(HttpWorker::encodeResponseContext(101, ['Upgrade' => 'h2c']), '', false));
            $worker->respond(new Payload(HttpWorker::encodeResponseContext(200), 'final'));
            break;
        case '/die-mid-stream':
            $http->respond(200, (static function () use ($ms): Generator {
                yield "first\n";
                yield "second\n";
                usleep($ms * 1000);
                exit(7);
            })());
            break;
        case '/ignore-stop':
            // A worker that never looks for STOP: the server must kill it after stream_timeout.
            for ($i = 1; $i <= $n; ++$i) {
                $worker->respond(new Payload($i === 1 ? HttpWorker::encodeResponseContext(200) : '', "tick $i\n", $i === $n));
                usleep($ms * 1000);
            }
            break;
        case '/error-mid-stream':
            $worker->respond(new Payload(HttpWorker::encodeResponseContext(200), "partial\n", false));
            $worker->error('failed mid-stream');
            break;
        case '/proto':
            $worker->respond(new Payload(proto_response(200, ['Content-Type' => ['text/plain']]), 'Hello'), Frame::CODEC_PROTO);
            break;
        case '/proto-multi':
            $worker->respond(new Payload(proto_response(201, ['X-Multi' => ['a', 'b'], 'Content-Type' => ['text/plain']]), 'multi'), Frame::CODEC_PROTO);
            break;
        case '/proto-bad-status':
            $worker->respond(new Payload(proto_response(700, []), 'never'), Frame::CODEC_PROTO);
            break;
        case '/proto-stream':
            $worker->respond(new Payload(proto_response(202, ['X-First' => ['1']]), "p1\n", false), Frame::CODEC_PROTO);
            // Header changes after the first frame are ignored.
            $worker->respond(new Payload(proto_response(500, ['X-Late' => ['no']]), "p2\n", false), Frame::CODEC_PROTO);
            $worker->respond(new Payload('', "p3\n"), Frame::CODEC_PROTO);
            break;
        case '/pid':
            $http->respond(200, (string) getmypid());
            break;
        case '/sleep':
            usleep(((int) ($q['ms'] ?? 100)) * 1000);
            $http->respond(200, 'slept ' . getmypid());
            break;
        default:
            $http->respond(200, "Hello from " . getmypid() . "\n", ['Content-Type' => ['text/plain']]);
    }
}
