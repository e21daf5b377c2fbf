<?php

declare(strict_types=1);

// A scripted goridge RPC server for the Rpc\Client tests. Usage: php fake_rpc_server.php <listen address>
// (tcp://127.0.0.1:0 or unix:///path). Prints the bound address on stdout, serves any number of
// connections, and exits when its stdin closes. Frames are built by hand (tests/Support/Wire.php),
// not with the library under test. What it answers depends on the method name:
//
//   informer.List   JSON ["http","jobs"]
//   test.Echo       JSON {"seq","method","flags","arg","request"}: what it received (request = hex of
//                   the whole request frame); with the raw or proto codec: the argument bytes reversed
//   test.LastRequest  JSON: hex of the previous request frame on this connection
//   test.Error      an error reply (codec | 0x40) with the text of ERROR_TEXT below
//   test.WrongSeq   a reply with seq + 1
//   test.BadCrc     a reply whose header CRC is wrong
//   test.OneOption  a reply with a single option
//   test.NotJson    a JSON-codec reply whose body is not JSON
//   test.Split      the Echo reply, written in small pieces with pauses
//   test.Big        JSON: a string of <arg> bytes
//   test.Silent     no reply at all (the connection stays open)
//   test.Close      closes the connection without a reply
//   kv.*            (JSON codec) an in-memory KV service with one storage, "local", for the
//                   KV\Storage tests: kv.Has/Set/MGet/MExpire/TTL/Delete/Clear with RoadRunner's
//                   replies and error texts; storage "broken" answers a Redis-style driver error
//   metrics.*       (JSON codec) Metrics\Metrics tests: replies true; the collector name "nope" is
//                   undefined, "dup" answers RoadRunner's old re-declare error, and a Declare type
//                   other than counter/gauge/histogram/summary is unknown (RoadRunner's texts)
//   jobs.*          (JSON codec) Jobs\Jobs tests: an in-memory jobs service with pipelines "default"
//                   (memory) and "emails" (amqp, queue "mail"); it checks the proto3 JSON shape of
//                   each request as strictly as the real server (unknown fields are errors), keeps
//                   pushed jobs (jobs.Stat counts them as active) and answers RoadRunner's error
//                   texts; its replies look like protobuf's MessageToJsonString (int64 as strings,
//                   default values left out); jobs.FakeReset restores the two pipelines
//   anything else   an error reply "rpc: can't find service X" (Go's text)

use Pivot\Worker\Tests\Support\Wire;

require __DIR__ . '/../Support/Wire.php';

const ERROR_TEXT = "rpc_test: something failed: \"quoted\" \u{00fc}n\u{00ef}code:\n\tnested cause";

$address = $argv[1] ?? 'tcp://127.0.0.1:0';
$server = @stream_socket_server($address, $errno, $errstr);
if ($server === false) {
    fwrite(STDERR, "cannot listen on $address: $errstr\n");
    exit(1);
}
$bound = str_starts_with($address, 'unix://') ? $address : 'tcp://' . stream_socket_get_name($server, false);
fwrite(STDOUT, $bound . "\n");
fflush(STDOUT);

/** @var resource[] $clients */
$clients = [];

/**
 * @param resource $conn
 */
function readExactly($conn, int $length): ?string
{
    $data = '';
    while (strlen($data) < $length) {
        $chunk = fread($conn, $length - strlen($data));
        if ($chunk === false || $chunk === '') {
            if (feof($conn)) {
                return null;
            }
            continue;
        }
        $data .= $chunk;
    }

    return $data;
}

/**
 * The fake kv service: returns [reply body, is error]. Keys live for the server's lifetime; an
 * item whose RFC 3339 timeout has passed is treated as missing.
 *
 * @return array{0: string, 1: bool}
 */
function kv(string $method, string $arg): array
{
    static $store = []; // key => ['value' => base64, 'timeout' => string]
    $ops = ['kv.Has' => 'rpc_has', 'kv.Set' => 'rpc_set', 'kv.MGet' => 'rpc_mget', 'kv.MExpire' => 'rpc_mexpire',
        'kv.TTL' => 'rpc_ttl', 'kv.Delete' => 'rcp_delete', 'kv.Clear' => 'rcp_delete'];
    $op = $ops[$method] ?? null;
    if ($op === null) {
        return ["rpc: can't find method $method", true];
    }
    $req = json_decode($arg, true);
    $storage = (string) ($req['storage'] ?? '');
    $items = is_array($req['items'] ?? null) ? $req['items'] : [];
    if ($storage === '') {
        return ["$op: no storage provided", true];
    }
    if ($storage === 'broken') {
        $driverOp = 'redis_driver_' . strtolower(substr($method, 3));
        return ["$op:\n\t$driverOp: redis unavailable: connect 127.0.0.1:1: Connection refused", true];
    }
    if ($storage !== 'local') {
        return ["$op: no such storage: $storage", true];
    }
    $live = static function (string $key) use (&$store): bool {
        if (!isset($store[$key])) {
            return false;
        }
        $t = $store[$key]['timeout'];
        if ($t !== '' && (new DateTimeImmutable($t)) <= new DateTimeImmutable()) {
            unset($store[$key]);
            return false;
        }
        return true;
    };
    $out = [];
    foreach ($items as $item) {
        $key = (string) ($item['key'] ?? '');
        switch ($method) {
            case 'kv.Set':
                $store[$key] = ['value' => (string) ($item['value'] ?? ''), 'timeout' => (string) ($item['timeout'] ?? '')];
                break;
            case 'kv.Has':
                if ($live($key)) {
                    $out[] = ['key' => $key];
                }
                break;
            case 'kv.MGet':
                if ($live($key)) {
                    $out[] = ['key' => $key, 'value' => $store[$key]['value']];
                }
                break;
            case 'kv.TTL':
                if ($live($key)) {
                    $out[] = $store[$key]['timeout'] === '' ? ['key' => $key] : ['key' => $key, 'timeout' => $store[$key]['timeout']];
                }
                break;
            case 'kv.MExpire':
                if ((string) ($item['timeout'] ?? '') === '') {
                    return ["$op:\n\tin_memory_plugin_mexpire: timeout for MExpire is empty or key is empty", true];
                }
                if ($live($key)) {
                    $store[$key]['timeout'] = (string) $item['timeout'];
                }
                break;
            case 'kv.Delete':
                unset($store[$key]);
                break;
        }
    }
    if ($method === 'kv.Clear') {
        $store = [];
    }

    return [json_encode($out === [] ? new stdClass() : ['items' => $out], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES), false];
}

/**
 * The fake metrics service: returns [reply body, is error].
 *
 * @return array{0: string, 1: bool}
 */
function metrics(string $method, string $arg): array
{
    $req = json_decode($arg, true);
    $op = 'metrics_plugin_' . strtolower(substr($method, 8));
    $name = is_array($req) ? (string) ($req['name'] ?? '') : (string) $req;
    if ($method === 'metrics.Declare') {
        $type = (string) ($req['collector']['type'] ?? '');
        if ($name === 'dup') {
            return ["$op: tried to register existing collector with the name `dup`", true];
        }
        if (!in_array($type, ['counter', 'gauge', 'histogram', 'summary'], true)) {
            return ["$op: unknown collector type $type", true];
        }
    } elseif ($name === 'nope') {
        return ["$op: undefined collector nope", true];
    }

    return ['true', false];
}

/**
 * The fake jobs service: returns [reply body, is error].
 *
 * @return array{0: string, 1: bool}
 */
function jobs(string $method, string $arg): array
{
    $initial = [
        'default' => ['driver' => 'memory', 'queue' => '', 'priority' => 10, 'ready' => true, 'jobs' => []],
        'emails' => ['driver' => 'amqp', 'queue' => 'mail', 'priority' => 3, 'ready' => true, 'jobs' => []],
    ];
    static $pipelines = null;
    if ($pipelines === null || $method === 'jobs.FakeReset') {
        $pipelines = $initial;
    }
    if ($method === 'jobs.FakeReset') {
        return ['{}', false];
    }
    $req = $arg === '' ? [] : json_decode($arg, true);
    if (!is_array($req) || ($req !== [] && array_is_list($req))) {
        return ["$method: invalid JSON argument: $arg", true];
    }
    $unknown = static function (array $object, array $known, string $what): ?string {
        foreach (array_keys($object) as $key) {
            if (!in_array($key, $known, true)) {
                return "invalid JSON for $what: unknown field \"$key\"";
            }
        }
        return null;
    };
    $checkJob = static function (mixed $job) use ($unknown, &$pipelines): ?string {
        if (!is_array($job)) {
            return 'invalid JSON for jobs.v1.Job: not an object';
        }
        if (($e = $unknown($job, ['job', 'id', 'payload', 'headers', 'options'], 'jobs.v1.Job')) !== null) {
            return $e;
        }
        if (($e = $unknown((array) ($job['options'] ?? []), ['priority', 'pipeline', 'delay', 'auto_ack'], 'jobs.v1.Options')) !== null) {
            return $e;
        }
        foreach ((array) ($job['headers'] ?? []) as $name => $value) {
            if (!is_array($value) || ($e = $unknown($value, ['value'], 'jobs.v1.HeaderValue')) !== null
                || !array_is_list($value['value'] ?? [])) {
                return "invalid JSON for jobs.v1.HeaderValue of \"$name\"";
            }
        }
        if (base64_decode((string) ($job['payload'] ?? ''), true) === false) {
            return 'invalid JSON for jobs.v1.Job: payload is not base64';
        }
        if ((string) ($job['id'] ?? '') === '') {
            return 'empty ID field not allowed';
        }
        $pipeline = (string) ($job['options']['pipeline'] ?? '');
        if (!isset($pipelines[$pipeline])) {
            return "no such pipeline, requested: $pipeline";
        }
        return null;
    };
    $names = static function (array $req) use ($unknown): array|string {
        if (($e = $unknown($req, ['pipelines'], 'jobs.v1.Pipelines')) !== null) {
            return $e;
        }
        return array_map('strval', (array) ($req['pipelines'] ?? []));
    };

    switch ($method) {
        case 'jobs.Push':
        case 'jobs.PushBatch':
            $batch = $method === 'jobs.Push' ? [$req['job'] ?? null] : (array) ($req['jobs'] ?? []);
            if (($e = $unknown($req, [$method === 'jobs.Push' ? 'job' : 'jobs'], 'the request')) !== null) {
                return ["jobs_plugin_push: $e", true];
            }
            foreach ($batch as $job) {
                if (($e = $checkJob($job)) !== null) {
                    return ["jobs_plugin_push: $e", true];
                }
            }
            foreach ($batch as $job) {
                $pipelines[$job['options']['pipeline']]['jobs'][] = $job;
            }
            return ['{}', false];
        case 'jobs.Pause':
        case 'jobs.Resume':
        case 'jobs.Destroy':
            $list = $names($req);
            if (is_string($list)) {
                return ["$method: $list", true];
            }
            $done = [];
            foreach ($list as $name) {
                if (!isset($pipelines[$name])) {
                    return ["no such pipeline, requested: $name", true];
                }
                if ($method === 'jobs.Destroy') {
                    unset($pipelines[$name]);
                    $done[] = $name;
                } else {
                    $pipelines[$name]['ready'] = $method === 'jobs.Resume';
                }
            }
            return [$done === [] ? '{}' : json_encode(['pipelines' => $done], JSON_THROW_ON_ERROR), false];
        case 'jobs.List':
            $all = array_keys($pipelines);
            sort($all);
            return [$all === [] ? '{}' : json_encode(['pipelines' => $all], JSON_THROW_ON_ERROR), false];
        case 'jobs.Declare':
            if (($e = $unknown($req, ['pipeline'], 'jobs.v1.DeclareRequest')) !== null) {
                return ["jobs_plugin_declare: $e", true];
            }
            $map = (array) ($req['pipeline'] ?? []);
            foreach ($map as $key => $value) {
                if (!is_string($value)) {
                    return ["jobs_plugin_declare: invalid JSON: the value of \"$key\" is not a string", true];
                }
            }
            $name = $map['name'] ?? '';
            if (isset($pipelines[$name])) {
                return ["jobs_plugin_declare: pipeline already exists: $name", true];
            }
            $pipelines[$name] = ['driver' => $map['driver'] ?? '', 'queue' => $map['queue'] ?? '',
                'priority' => (int) ($map['priority'] ?? 10), 'ready' => true, 'jobs' => []];
            return ['{}', false];
        case 'jobs.Stat':
            $stats = [];
            foreach ($pipelines as $name => $p) {
                // MessageToJsonString: int64/uint64 as strings, default values (0, "", false) left out
                $stat = array_filter([
                    'pipeline' => $name,
                    'driver' => $p['driver'],
                    'queue' => $p['queue'],
                    'active' => count($p['jobs']) > 0 ? (string) count($p['jobs']) : null,
                    'ready' => $p['ready'] ? true : null,
                    'priority' => (string) $p['priority'],
                ], static fn ($v) => $v !== null && $v !== '');
                $stats[] = $stat;
            }
            return [json_encode(['stats' => $stats], JSON_THROW_ON_ERROR), false];
    }

    return ["rpc: can't find method $method", true];
}

/**
 * Serves one request. Returns false when the connection is to be dropped.
 *
 * @param resource $conn
 */
function serve($conn): bool
{
    $header = readExactly($conn, 12);
    if ($header === null) {
        return false;
    }
    $h = unpack('Cb0/Cflags/Vlength/Vcrc', $header);
    if ($h['crc'] !== crc32(substr($header, 0, 6)) || ($h['b0'] & 0x0F) !== 5) {
        fwrite(STDERR, 'bad request header ' . bin2hex($header) . "\n");

        return false; // like Go: "rpc: server cannot decode request", connection closed
    }
    $options = unpack('V2', (string) readExactly($conn, 8));
    [$seq, $methodLength] = [$options[1], $options[2]];
    $payload = $h['length'] > 0 ? (string) readExactly($conn, $h['length']) : '';
    $method = substr($payload, 0, $methodLength);
    $arg = substr($payload, $methodLength);
    $codec = $h['flags'];
    $request = $header . pack('V2', $seq, $methodLength) . $payload;
    static $last = [];
    $previous = $last[(int) $conn] ?? '';
    $last[(int) $conn] = $request;

    $reply = static fn (string $body, int $flags = -1, ?int $replySeq = null): string
        => Wire::frame($flags < 0 ? $codec : $flags, [$replySeq ?? $seq, strlen($method)], $method . $body);
    $echo = static function () use ($codec, $seq, $method, $arg, $request): string {
        if (($codec & 0x08) === 0) {
            return strrev($arg);
        }

        return json_encode([
            'seq' => $seq,
            'method' => $method,
            'flags' => $codec,
            'arg' => json_decode($arg, true),
            'request' => bin2hex($request),
        ], JSON_THROW_ON_ERROR | JSON_PRESERVE_ZERO_FRACTION);
    };

    switch ($method) {
        case 'informer.List':
            $out = $reply('["http","jobs"]');
            break;
        case 'test.Echo':
            $out = $reply($echo());
            break;
        case 'test.LastRequest':
            $out = $reply(json_encode(bin2hex($previous), JSON_THROW_ON_ERROR));
            break;
        case 'test.Error':
            $out = $reply(ERROR_TEXT, $codec | 0x40);
            break;
        case 'test.WrongSeq':
            $out = $reply('true', -1, $seq + 1);
            break;
        case 'test.BadCrc':
            $out = $reply('true');
            $out[6] = chr(ord($out[6]) ^ 0xFF);
            break;
        case 'test.OneOption':
            $out = Wire::frame($codec, [$seq], $method . 'true');
            break;
        case 'test.NotJson':
            $out = $reply('{not json');
            break;
        case 'test.Split':
            $out = $reply($echo());
            foreach ([1, 5, 12, 17, strlen($out)] as $i => $end) {
                $start = [0, 1, 5, 12, 17][$i];
                fwrite($conn, substr($out, $start, $end - $start));
                fflush($conn);
                usleep(20000);
            }

            return true;
        case 'test.Big':
            $out = $reply(json_encode(str_repeat('x', (int) json_decode($arg)), JSON_THROW_ON_ERROR));
            break;
        case 'test.Silent':
            return true;
        case 'test.Close':
            return false;
        default:
            if (str_starts_with($method, 'metrics.') && ($codec & 0x08) !== 0) {
                [$body, $isError] = metrics($method, $arg);
                $out = $reply($body, $isError ? $codec | 0x40 : -1);
                break;
            }
            if (str_starts_with($method, 'jobs.') && ($codec & 0x08) !== 0) {
                [$body, $isError] = jobs($method, $arg);
                $out = $reply($body, $isError ? $codec | 0x40 : -1);
                break;
            }
            if (str_starts_with($method, 'kv.') && ($codec & 0x08) !== 0) {
                [$body, $isError] = kv($method, $arg);
                $out = $reply($body, $isError ? $codec | 0x40 : -1);
                break;
            }
            $service = strstr($method, '.', true);
            $out = $reply("rpc: can't find service " . ($service === false ? $method : $service), $codec | 0x40);
    }
    fwrite($conn, $out);
    fflush($conn);

    return true;
}

while (true) {
    $read = array_merge([STDIN, $server], $clients);
    $write = null;
    $except = null;
    if (stream_select($read, $write, $except, null) === false) {
        exit(1);
    }
    foreach ($read as $stream) {
        if ($stream === STDIN) {
            if (fread(STDIN, 1024) === '' && feof(STDIN)) {
                exit(0);
            }
        } elseif ($stream === $server) {
            $conn = stream_socket_accept($server, 5);
            if ($conn !== false) {
                $clients[(int) $conn] = $conn;
            }
        } elseif (!serve($stream)) {
            unset($clients[(int) $stream]);
            fclose($stream);
        }
    }
}
