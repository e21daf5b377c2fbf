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
